"""Bad input, said in one line: what every subcommand reports the same way, with exit status 2.

``InputError`` is raised wherever input is found wrong (an option's value, a file, an output path);
``report_input_error`` prints it as one line on stderr and gives the status. Text quoted from the input (a line of
a targets file, a file name) goes through ``quoted``: escaped, and cut when long, so that a megabyte of junk
costs one short line.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Final

from tlsprobe._cli._escape import escape
from tlsprobe._cli._exit import EXIT_USAGE
from tlsprobe._cli._text import ELLIPSIS

MESSAGE_LIMIT: Final = 300
"""The longest message printed, in characters: longer ones are cut in the middle."""
QUOTE_LIMIT: Final = 60
"""The longest quotation of input inside a message."""


class InputError(Exception):
    """Input the command cannot use: reported as one line (``report_input_error``), exit status 2."""


def shortened(text: str, limit: int) -> str:
    """``text`` with its middle cut out when longer than ``limit``: the start and the end tell most."""
    if len(text) <= limit:
        return text
    keep = limit - len(ELLIPSIS)
    return text[: keep - keep // 3] + ELLIPSIS + text[len(text) - keep // 3 :]


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` from the input, quoted inside a message: escaped, and cut when long."""
    return f"'{shortened(escape(text), limit)}'"


def say(message: str) -> None:
    """``tlsprobe: message`` as one line on stderr: escaped, cut, and never an error of its own (stderr may be
    closed)."""
    with contextlib.suppress(OSError, ValueError):
        print(f"tlsprobe: {shortened(escape(message), MESSAGE_LIMIT)}", file=sys.stderr, flush=True)


def report_input_error(error: InputError | str) -> int:
    """Say what is wrong with the input, in one line; the exit status for it (2)."""
    say(str(error))
    return EXIT_USAGE
