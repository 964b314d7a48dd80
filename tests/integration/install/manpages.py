"""--help and the man page agree, for every command the package installs in bin/.

Each flag --help lists (subcommands' too) appears in the command's man page, and
each flag the man page defines (in SYNOPSIS and in the tag of a .TP entry) is one
that --help lists. A command without a man page fails. A mismatch is fixed in
the man page; a flag the page defines that --help lacks is reported, not removed.
"""
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _cli_help  # noqa: E402

FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z0-9][\w-]*)")


def plain(roff_line):
    """A roff line as the reader sees it: \\- is -, font changes and \\& gone."""
    line = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", roff_line)
    return line.replace("\\-", "-").replace("\\&", "").replace("\\(em", " ").replace('"', " ")


def man_page(name):
    for section in ("1", "8"):
        page = _cli_help.SOURCE / "man" / f"{name}.{section}"
        if page.is_file():
            return page
    return None


def defined_flags(roff):
    """Flags in SYNOPSIS and in the tag line of each .TP / .TQ entry."""
    lines = roff.splitlines()
    found = set()
    section = ""
    for i, line in enumerate(lines):
        if line.startswith(".SH"):
            section = line[3:].strip().strip('"')
            continue
        is_tag = i > 0 and lines[i - 1].split()[:1] in ([".TP"], [".TQ"])
        if section == "SYNOPSIS" or is_tag:
            found.update(m for m in FLAG.findall(plain(line)) if m.startswith("-"))
    return found


def main():
    problems = []
    checked = 0
    for name, path in _cli_help.commands().items():
        page = man_page(name)
        if page is None:
            problems.append(f"{name}: no man page man/{name}.1 or .8")
            continue
        top = _cli_help.help_text(path)
        help_flags = set(_cli_help.flags(top, name))
        # --help works (it printed this), and -h too when it prints the same.
        help_flags.add("--help")
        if _cli_help.help_text(path, flag="-h") == top:
            help_flags.add("-h")
        for sub in _cli_help.subcommands(top):
            help_flags.update(_cli_help.flags(_cli_help.help_text(path, sub)))
        roff = page.read_text()
        text = "\n".join(plain(line) for line in roff.splitlines())
        for flag in sorted(help_flags):
            if not re.search(r"(?<![\w-])" + re.escape(flag) + r"(?![\w-])", text):
                problems.append(f"{name}: {flag} is in --help but not in {page.name}")
        for flag in sorted(defined_flags(roff) - help_flags):
            problems.append(f"{name}: {page.name} defines {flag}, which --help does not list")
        checked += 1
    for problem in problems:
        print(f"manpages: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"manpages: --help and the man page agree for {checked} commands")
    return 0


if __name__ == "__main__":
    sys.exit(main())
