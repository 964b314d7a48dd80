"""What the commands' --help says: their flags and subcommands.

Shared by manpages.py and completions.py. The commands are every tool (a
tools/NAME/main.cpp, run from CF_BIN_DIR) and the scripts the package installs
in bin/ (cmake/Install.cmake). Help text is CLI11's (an option line starts with
two spaces and a dash, an entry under "Subcommands:" with two spaces and a
name) or, for the scripts, their header comment, which uses the same layout.
"""
import os
import re
import subprocess
from pathlib import Path

SOURCE = Path(os.environ["CF_SOURCE_DIR"])
BIN = Path(os.environ["CF_BIN_DIR"])

# Installed in bin/ beside the tools: name -> file in the source tree.
SCRIPTS = {
    "sccp-to-sip": SOURCE / "scripts" / "sccp-to-sip",
    "ciscoflash-demo": SOURCE / "packaging" / "ciscoflash-demo",
}

_OPTION_LINE = re.compile(r"^  ((?:-[\w-]+)(?:, ?-[\w-]+)*)(?:\s|$)")
_SUBCOMMAND_LINE = re.compile(r"^  ([a-z][\w-]*)(?:\s{2,}|$)")


def commands():
    """{name: path} of every command with a --help."""
    found = {}
    for main in sorted(SOURCE.glob("tools/*/main.cpp")):
        name = main.parent.name
        found[name] = BIN / name
    found.update(SCRIPTS)
    return found


def help_text(path, subcommand=None, flag="--help"):
    argv = [str(path)] + ([subcommand] if subcommand else []) + [flag]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr}")
    return result.stdout


def flags(text, name=None):
    """The flags help text names, in order, without repeats: its option list, and
    the usage line of command NAME (a line starting with NAME, or a path or
    `sudo` before it), where the scripts show their required flags."""
    seen = []
    usage = re.compile(r"^ {0,2}(?:sudo\s+)?\S*\b" + re.escape(name) + r"\s") if name else None
    for line in text.splitlines():
        match = _OPTION_LINE.match(line)
        if match:
            found = re.split(r", ?", match.group(1))
        elif usage and usage.match(line):
            found = re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", line)
        else:
            continue
        for flag in found:
            if flag not in seen:
                seen.append(flag)
    return seen


def subcommands(text):
    names = []
    in_section = False
    for line in text.splitlines():
        if line.startswith("Subcommands:"):
            in_section = True
            continue
        if in_section:
            if line and not line.startswith(" "):
                break
            match = _SUBCOMMAND_LINE.match(line)
            if match:
                names.append(match.group(1))
    return names
