"""completions/ciscoflash completes what each command's --help lists.

For every command the package installs in bin/: completing "-" offers exactly the
flags of --help, completing after the command offers exactly its subcommands, and
after a subcommand exactly that subcommand's flags. A flag whose value is a file
(FILE or PATH in --help, or one of FILE_FLAGS) completes files, a DIR one only
directories, a {a,b} choice only those words. Run by a real bash with the
completion sourced, the way bash-completion loads it.
"""
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _cli_help  # noqa: E402

COMPLETION = _cli_help.SOURCE / "completions" / "ciscoflash"

# Values --help shows as TEXT that are files (f) or directories (d).
VALUE_KINDS = {
    "fwunpack": {"-C": "d", "--directory": "d", "--verify": "d"},
    "upgrade-path": {"-r": "d", "--root": "d", "--manifest": "f", "--rules": "f"},
    "cisco-tftpd": {"-r": "d", "--root": "d", "--upload-dir": "d", "-e": "f", "--events": "f"},
    "cisco-dhcpd": {"--config": "f", "--leases": "f", "--events": "f", "--reservations": "f"},
}

# The driver reads one query a line (the words of a command line, tab-separated,
# the last one being completed) and prints COMPREPLY tab-separated.
DRIVER = r"""
source "$1"
while IFS=$'\t' read -r -a COMP_WORDS; do
  [[ "${COMP_WORDS[-1]}" == "<empty>" ]] && COMP_WORDS[-1]=""
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _ciscoflash
  (IFS=$'\t'; printf '%s\n' "${COMPREPLY[*]}")
done
"""


def complete_all(queries):
    """COMPREPLY (a set) for each query (a list of words), in one bash."""
    lines = "".join("\t".join(w if w else "<empty>" for w in q) + "\n" for q in queries)
    result = subprocess.run(["bash", "-c", DRIVER, "driver", str(COMPLETION)], input=lines,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"completion driver failed: {result.stderr}")
    answers = result.stdout.split("\n")[:len(queries)]
    return [set(a.split("\t")) - {""} for a in answers]


def option_lines(text):
    """(flags, value word) per option line of help text."""
    for line in text.splitlines():
        match = re.match(r"^  ((?:-[\w-]+)(?:, ?-[\w-]+)*)(?: (\S+))?", line)
        if match:
            yield re.split(r", ?", match.group(1)), match.group(2) or ""


def expected_kind(command, flag, value):
    if flag in VALUE_KINDS.get(command, {}):
        return VALUE_KINDS[command][flag]
    if "FILE" in value or value == "PATH":
        return "f"
    if value == "DIR":
        return "d"
    choice = re.search(r"\{([^}]*)\}", value)
    if choice:
        return "w:" + ",".join(sorted({w.lower() for w in choice.group(1).split(",")}))
    return None


def main():
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "afile").write_text("x")
        (Path(tmp) / "adir").mkdir()
        probe = f"{tmp}/a"
        files, dirs = {f"{tmp}/afile", f"{tmp}/adir"}, {f"{tmp}/adir"}

        checks = []  # (query, expected set or predicate, what)
        for name, path in _cli_help.commands().items():
            top = _cli_help.help_text(path)
            levels = [([name], top, name)]
            subs = _cli_help.subcommands(top)
            if subs:
                checks.append(([name, ""], set(subs), f"{name}: subcommands"))
            for sub in subs:
                levels.append(([name, sub], _cli_help.help_text(path, sub), None))
            for words, text, usage_name in levels:
                wanted = set(_cli_help.flags(text, usage_name)) | {"-h", "--help"}
                checks.append((words + ["-"], wanted, f"{' '.join(words)}: flags"))
                for flags, value in option_lines(text):
                    for flag in flags:
                        kind = expected_kind(name, flag, value)
                        if kind == "f":
                            checks.append((words + [flag, probe], files, f"{' '.join(words)} {flag}: files"))
                        elif kind == "d":
                            checks.append((words + [flag, probe], dirs, f"{' '.join(words)} {flag}: directories"))
                        elif kind:
                            checks.append((words + [flag, ""], set(kind[2:].split(",")),
                                           f"{' '.join(words)} {flag}: choices"))
        # Positional archives of fwunpack are files; --flag=value is completed too.
        checks.append((["fwunpack", probe], files, "fwunpack: positional files"))
        checks.append((["cisco-dhcpd", "--config", "=", probe], files, "cisco-dhcpd --config=: files"))

        answers = complete_all([c[0] for c in checks])
        for (query, wanted, what), got in zip(checks, answers):
            if got != wanted:
                problems.append(f"{what}: completing {' '.join(query)!r} offers "
                                f"{sorted(got)}, --help says {sorted(wanted)}")
    for problem in problems:
        print(f"completions: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"completions: {len(checks)} completions agree with --help")
    return 0


if __name__ == "__main__":
    sys.exit(main())
