"""``--html-out FILE`` on a scan: each result spooled to a temporary file as it arrives (memory does not grow with
the number of servers), the self-contained HTML report written from the spool when the scan ends."""

from __future__ import annotations

import datetime
import json
import tempfile
from collections.abc import Iterator, Mapping
from typing import IO, Any

from tlsprobe._cli._errors import quoted
from tlsprobe._cli._outputs import OutputFailed, check_output_path
from tlsprobe._exceptions import TLSProbeError


class HtmlOutput:
    """The report a scan writes; the path is checked when it is made, before anything is scanned."""

    def __init__(self, path: str) -> None:
        check_output_path(path, "--html-out")
        self.path = path
        self._spool: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by write() or abandon()

    def add(self, server: Mapping[str, Any]) -> None:
        """Keep one server's JSON form for the report; ``OutputFailed`` when the spool cannot grow (a full disk)."""
        try:
            self._spool.write(json.dumps(server, ensure_ascii=False).encode() + b"\n")
        except OSError as error:
            raise OutputFailed(
                f"--html-out: cannot keep the results for the report: {error.strerror or error}"
            ) from None

    def _servers(self) -> Iterator[dict[str, Any]]:
        self._spool.seek(0)
        for line in self._spool:
            server: dict[str, Any] = json.loads(line)
            yield server

    def write(self, *, title: str, started_at: datetime.datetime, labels: Mapping[str, str]) -> None:
        """Write the report of the servers kept so far; ``OutputFailed`` with one line when it cannot be."""
        from tlsprobe.report import write_html_report

        try:
            write_html_report(
                self.path,
                self._servers(),
                title=title,
                generated_at=datetime.datetime.now(datetime.UTC),
                labels=labels,
                source=f"scan started {started_at:%Y-%m-%d %H:%M} UTC",
            )
        except (OSError, TLSProbeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise OutputFailed(f"--html-out {quoted(self.path, 120)}: {reason}") from None
        finally:
            self._spool.close()

    def abandon(self) -> None:
        self._spool.close()
