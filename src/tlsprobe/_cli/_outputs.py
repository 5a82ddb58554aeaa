"""Where results are written: output paths checked before anything is scanned, the JSON document streamed as
servers finish (so an interrupted scan keeps them, marked incomplete, and memory does not grow with the targets),
and write failures turned into one line instead of a traceback.

A write to stdout whose reader is gone (``| head``) raises ``OutputClosed``: the command stops quietly, as any
Unix tool ended by SIGPIPE. Any other failed write (a full disk) raises ``OutputFailed``, which says what could not
be written; what was written before stays.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Final, TextIO

from tlsprobe._cli._errors import InputError, quoted
from tlsprobe._model._config import InvalidTargetLine
from tlsprobe._model._json import SCHEMA_VERSION, to_jsonable
from tlsprobe._version import __version__

_INDENT: Final = 2


class OutputClosed(Exception):  # noqa: N818 - a condition of the reader's, not an error
    """stdout's reader has gone away (a closed pipe)."""


class OutputFailed(Exception):  # noqa: N818 - carries the one line to say
    """An output could not be written (a full disk, an I/O error); the message says which and why."""


def check_output_path(path: str, flag: str) -> None:
    """Raise ``InputError`` when ``path`` cannot be written as a file: a directory, a missing directory on the way,
    a file or directory that is not writable. ``-`` (stdout) is always fine. Call it before scanning: a scan whose
    output cannot be kept is not worth starting."""
    if path == "-":
        return
    shown = quoted(path, 120)
    if os.path.isdir(path):
        raise InputError(f"{flag} {shown}: is a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        missing = "does not exist" if not os.path.exists(parent) else "is not a directory"
        raise InputError(f"{flag} {shown}: the directory {quoted(parent, 120)} {missing}")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise InputError(f"{flag} {shown}: not writable")
    if not os.path.exists(path) and not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {shown}: the directory {quoted(parent, 120)} is not writable")


def open_output(path: str, flag: str) -> TextIO:
    """``path`` opened for writing (stdout for ``-``) after ``check_output_path``; ``InputError`` when it cannot be
    opened."""
    check_output_path(path, flag)
    if path == "-":
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as error:
        raise InputError(f"{flag} {quoted(path, 120)}: {error.strerror or error}") from None


def write_to(stream: TextIO, text: str, name: str) -> None:
    """Write and flush ``text``; ``OutputClosed`` when stdout's reader is gone, ``OutputFailed`` for any other
    failure."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise OutputClosed from None
    except OSError as error:
        if error.errno == errno.EPIPE:
            raise OutputClosed from None
        raise OutputFailed(f"cannot write {name}: {error.strerror or error}") from None


class JsonOutput:
    """The JSON written as servers finish: JSON Lines (``lines``), or the scan document streamed server by server,
    its end written by ``end``: ``complete`` false when the scan was interrupted, true otherwise."""

    def __init__(self, stream: TextIO, *, name: str, lines: bool, started_at: datetime.datetime) -> None:
        self._stream = stream
        self.name = name
        self._lines = lines
        self._started_at = started_at
        self._servers = 0
        self._ended = False

    def begin(self) -> None:
        """Write the start of the document (nothing for JSON Lines); ``OutputFailed`` when it cannot be."""
        if self._lines:
            return
        head = {
            "schema_version": SCHEMA_VERSION,
            "tlsprobe_version": __version__,
            "started_at": self._started_at.isoformat(),
        }
        text = json.dumps(head, indent=_INDENT, ensure_ascii=False)
        write_to(self._stream, text[: text.rindex("\n")] + ',\n  "servers": [', self.name)

    def add(self, server: Mapping[str, Any]) -> None:
        """Write one server's result, in its JSON form (``to_jsonable``)."""
        if self._lines:
            write_to(self._stream, json.dumps(server, ensure_ascii=False) + "\n", self.name)
            return
        body = json.dumps(server, indent=_INDENT, ensure_ascii=False).replace("\n", "\n    ")
        write_to(self._stream, ("\n    " if self._servers == 0 else ",\n    ") + body, self.name)
        self._servers += 1

    def end(self, *, complete: bool, invalid_targets: Iterable[InvalidTargetLine]) -> None:
        """Write the end of the document (nothing for JSON Lines)."""
        if self._lines or self._ended:
            return
        self._ended = True
        tail = {
            "completed_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "complete": complete,
            "invalid_targets": [to_jsonable(line) for line in invalid_targets],
        }
        text = json.dumps(tail, indent=_INDENT, ensure_ascii=False)
        closing = "\n  ]" if self._servers else "]"
        write_to(self._stream, f"{closing},\n{text[2:]}\n", self.name)

    def close(self) -> None:
        """Close the file (never stdout); a failure to close is a failure to write."""
        if self._stream is sys.stdout:
            return
        try:
            self._stream.close()
        except OSError as error:
            raise OutputFailed(f"cannot write {self.name}: {error.strerror or error}") from None

    def abandon(self) -> None:
        """Close after a failure, saying nothing more."""
        if self._stream is not sys.stdout:
            with contextlib.suppress(OSError):
                self._stream.close()
