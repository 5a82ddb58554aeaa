"""Run ``tlsprobe`` as a user does: a real process whose stdout and stderr are each a pipe or a pseudo-terminal.

A pseudo-terminal gets a window size, so the command sees a terminal of that width. The output of a terminal is
read as it comes (the command may wait on nothing else), and ``read_until`` lets a test act on what it has seen
(send Ctrl-C after the first result), never after a sleep.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping, Sequence
from typing import Self

import attrs

_READ_CHUNK = 65536


def _set_window_size(descriptor: int, columns: int, rows: int = 40) -> None:
    fcntl.ioctl(descriptor, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


@attrs.frozen
class Finished:
    """What the command did."""

    code: int
    stdout: str
    stderr: str


class CliProcess:
    """``python -m tlsprobe`` with each output on a pipe or a pseudo-terminal of ``columns`` columns."""

    def __init__(
        self,
        arguments: Sequence[str],
        *,
        stdout_tty: bool = False,
        stderr_tty: bool = False,
        columns: int = 100,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        environment = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "COLUMNS", "LINES")}
        environment.update(env or {})
        self._readers: dict[str, int] = {}
        self._terminals = {name for name, tty in (("stdout", stdout_tty), ("stderr", stderr_tty)) if tty}
        self._buffers: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
        writers: dict[str, int] = {}
        for name, tty in (("stdout", stdout_tty), ("stderr", stderr_tty)):
            if tty:
                reader, writer = pty.openpty()
                _set_window_size(writer, columns)
            else:
                reader, writer = os.pipe()
            self._readers[name], writers[name] = reader, writer
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tlsprobe", *arguments],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=writers["stdout"],
            stderr=writers["stderr"],
            env=environment,
        )
        for writer in writers.values():
            os.close(writer)
        if stdin is not None:
            assert self.process.stdin is not None
            self.process.stdin.write(stdin)
            self.process.stdin.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for reader in self._readers.values():
            if reader >= 0:
                os.close(reader)
        self._readers.clear()

    def _pump(self, timeout: float) -> bool:
        """Read whatever is ready within ``timeout``; False once every output is closed."""
        open_readers = {fd: name for name, fd in self._readers.items() if fd >= 0}
        if not open_readers:
            return False
        ready, _, _ = select.select(list(open_readers), [], [], timeout)
        for fd in ready:
            try:
                chunk = os.read(fd, _READ_CHUNK)
            except OSError:  # a pseudo-terminal whose other side is gone reads as EIO
                chunk = b""
            if chunk:
                self._buffers[open_readers[fd]] += chunk
            else:
                os.close(fd)
                self._readers[open_readers[fd]] = -1
        return True

    def text(self, stream: str) -> str:
        """What ``stream`` has shown so far; a terminal's CR LF read back as LF."""
        text = self._buffers[stream].decode("utf-8", "replace")
        return text.replace("\r\n", "\n") if stream in self._terminals else text

    def read_until(self, marker: str, stream: str = "stdout", timeout: float = 120) -> str:
        """Read until ``marker`` has appeared on ``stream``; fails if the output ends or ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        while marker not in self.text(stream):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._pump(remaining):
                raise AssertionError(f"{marker!r} never appeared on {stream}: {self.text(stream)!r}")
        return self.text(stream)

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the process (a terminal sends it to the foreground process group)."""
        self.process.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 120) -> Finished:
        """Read every output to its end and wait for the exit."""
        deadline = time.monotonic() + timeout
        while self._pump(max(0.0, deadline - time.monotonic())):
            if time.monotonic() > deadline:
                raise AssertionError(f"the command did not end within {timeout} s: {self.text('stderr')!r}")
        code = self.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        return Finished(code=code, stdout=self.text("stdout"), stderr=self.text("stderr"))


def run_cli(
    *arguments: str,
    stdout_tty: bool = False,
    stderr_tty: bool = False,
    columns: int = 100,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> Finished:
    """Run the command to its end."""
    with CliProcess(
        arguments, stdout_tty=stdout_tty, stderr_tty=stderr_tty, columns=columns, stdin=stdin, env=env
    ) as running:
        return running.finish(timeout)
