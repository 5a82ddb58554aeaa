"""``tlsprobe --completion bash|zsh|fish``: a completion script generated from the parser itself, so that every
flag, its choices and whether it takes a file are offered as ``--help`` lists them (hidden aliases are not).

Install: ``tlsprobe --completion bash > ~/.local/share/bash-completion/completions/tlsprobe``;
``tlsprobe --completion zsh > "${fpath[1]}/_tlsprobe"``; ``tlsprobe --completion fish >
~/.config/fish/completions/tlsprobe.fish``.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import Final

import attrs

_FILE_METAVARS: Final = frozenset({"FILE"})
_UNSAFE_IN_HELP: Final = re.compile(r"[\[\]:\"`$\\\n]+")


@attrs.frozen
class _Option:
    """One visible option of the parser."""

    flags: tuple[str, ...]
    help: str
    takes_value: bool
    choices: tuple[str, ...]
    takes_file: bool


def _options(parser: argparse.ArgumentParser) -> list[_Option]:
    options = []
    for action in parser._actions:  # argparse keeps no public list of its actions
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        flags = tuple(flag for flag in action.option_strings if flag.startswith("-"))
        # The first clause of the help, without what a shell or zsh's specs would read as syntax.
        first = (action.help or "").split("(")[0].split(";")[0].split(":")[0].replace("'", "\u2019")
        help_text = _UNSAFE_IN_HELP.sub(" ", first).strip()
        options.append(
            _Option(
                flags=flags,
                help=help_text[:70].rstrip(),
                takes_value=action.nargs != 0,
                choices=tuple(sorted(str(choice) for choice in action.choices or ())),
                takes_file=action.metavar in _FILE_METAVARS,
            )
        )
    return options


def _bash(options: Sequence[_Option], subcommands: Sequence[str]) -> str:
    every_flag = " ".join(flag for option in options for flag in option.flags)
    cases = []
    for option in options:
        if not option.takes_value:
            continue
        pattern = "|".join(option.flags)
        if option.choices:
            cases.append(
                f'        {pattern}) COMPREPLY=($(compgen -W "{" ".join(option.choices)}" -- "$cur")); return;;'
            )
        elif option.takes_file:
            cases.append(f'        {pattern}) COMPREPLY=($(compgen -f -- "$cur")); return;;')
        else:
            cases.append(f"        {pattern}) COMPREPLY=(); return;;")
    case_lines = "\n".join(cases)
    return f"""# tlsprobe completion for bash (tlsprobe --completion bash)
_tlsprobe() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    case "$prev" in
{case_lines}
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "{every_flag}" -- "$cur"))
    elif [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "{" ".join(subcommands)}" -- "$cur"))
    else
        COMPREPLY=()
    fi
}}
complete -F _tlsprobe tlsprobe
"""


def _zsh(options: Sequence[_Option], subcommands: Sequence[str]) -> str:
    specs = []
    for option in options:
        value = ""
        if option.takes_value:
            if option.choices:
                value = f":value:({' '.join(option.choices)})"
            elif option.takes_file:
                value = ":file:_files"
            else:
                value = ":value: "
        specs += [f"    '{flag}[{option.help}]{value}' \\" for flag in option.flags]
    spec_lines = "\n".join(specs)
    return f"""#compdef tlsprobe
# tlsprobe completion for zsh (tlsprobe --completion zsh)
_tlsprobe() {{
  _arguments -s \\
{spec_lines}
    '1::target or subcommand:({" ".join(subcommands)})' \\
    '*::target: '
}}
if [[ "$funcstack[1]" = "_tlsprobe" ]]; then
  _tlsprobe "$@"
else
  compdef _tlsprobe tlsprobe
fi
"""


def _fish(options: Sequence[_Option], subcommands: Sequence[str]) -> str:
    lines = [
        "# tlsprobe completion for fish (tlsprobe --completion fish)",
        "complete -c tlsprobe -f",
        *(f"complete -c tlsprobe -n __fish_use_subcommand -a {name}" for name in subcommands),
    ]
    for option in options:
        names = " ".join(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}" for flag in option.flags)
        if option.choices:
            value = f" -x -a '{' '.join(option.choices)}'"
        elif option.takes_file:
            value = " -r -F"
        elif option.takes_value:
            value = " -x"
        else:
            value = ""
        lines.append(f"complete -c tlsprobe {names}{value} -d '{option.help}'")
    return "\n".join(lines) + "\n"


def completion_script(shell: str, parser: argparse.ArgumentParser, subcommands: Sequence[str]) -> str:
    """The completion script for ``shell`` (bash, zsh or fish)."""
    options = _options(parser)
    writers = {"bash": _bash, "zsh": _zsh, "fish": _fish}
    return writers[shell](options, subcommands)
