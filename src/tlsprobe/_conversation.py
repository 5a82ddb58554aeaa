"""Conversations: after the server's first flight, a check sends more records on the same connection and
observes what the server does next. The byte-level vulnerability probes (Heartbleed, CCS injection, ROBOT) are
built on this.

A server's reaction is data, never an exception: the records it sent (up to its first fatal alert), then how the
exchange ended (the server closed or reset the connection, or stayed silent for the read timeout).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import anyio.abc
import attrs

from tlsprobe._config import Timeouts
from tlsprobe.wire import Alert, AlertLevel, ContentType, Record, RecordReader

if TYPE_CHECKING:
    from tlsprobe._probes import HelloAccepted

_RECEIVE_SIZE = 65536
_MAX_REACTION_BYTES = 256 * 1024


class ReactionEnd(enum.Enum):
    """How reading the server's reaction stopped."""

    fatal_alert = "fatal_alert"
    """It sent a fatal alert (the last record)."""
    closed = "closed"
    """It closed the connection."""
    reset = "reset"
    """It reset the connection."""
    silent = "silent"
    """It sent nothing more within the read timeout."""
    enough = "enough"
    """The caller had seen what it needed."""


@attrs.frozen(kw_only=True)
class ServerReaction:
    """What the server did after the check's records."""

    records: tuple[Record, ...]
    """Every record received, in order."""
    end: ReactionEnd
    """Why reading stopped."""

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """The alerts among the records, the first of each alert record (encrypted alerts cannot be read)."""
        return tuple(alert for record in self.records if (alert := _alert(record)) is not None)

    @property
    def fatal_alert(self) -> Alert | None:
        """The first fatal alert, if any."""
        return next((alert for alert in self.alerts if alert.level == AlertLevel.fatal), None)

    def summary(self) -> str:
        """A stable description, equal for equal reactions: the content types and alerts, then the ending."""
        parts: list[str] = []
        for record in self.records:
            alert = _alert(record)
            name = _content_type_name(record.content_type) if alert is None else f"alert {alert.description_name}"
            parts.append(name)
        parts.append(self.end.value)
        return ", ".join(parts)


def _content_type_name(content_type: int) -> str:
    try:
        return ContentType(content_type).name
    except ValueError:
        return f"content type {content_type}"


class Conversation:
    """One connection whose handshake flight the server has sent; the check speaks next."""

    def __init__(
        self, stream: anyio.abc.SocketStream, accepted: HelloAccepted, timeouts: Timeouts, *, unread: bytes = b""
    ) -> None:
        self._stream = stream
        self._timeouts = timeouts
        self.accepted = accepted
        """What the server chose, and its certificates, from the flight."""
        self._broken = False
        self._unread = unread  # received after the flight: the start of the next reaction

    async def send(self, data: bytes) -> None:
        """Send bytes; a connection the server already dropped is noted, and shows in the next reaction."""
        if self._broken:
            return
        try:
            with anyio.fail_after(self._timeouts.read_s):
                await self._stream.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError, TimeoutError):
            self._broken = True

    async def reaction(
        self, *, stop: Callable[[Record], bool] | None = None, wait_s: float | None = None
    ) -> ServerReaction:
        """Read records until a fatal alert, the end of the connection, the first record for which ``stop`` is
        true, or ``wait_s`` (default: the read timeout) of silence."""
        if self._broken:
            return ServerReaction(records=(), end=ReactionEnd.reset)
        reader = RecordReader(max_buffered=_MAX_REACTION_BYTES)
        reader.feed(self._unread)
        self._unread = b""
        records: list[Record] = []
        end = ReactionEnd.silent
        with anyio.move_on_after(self._timeouts.read_s if wait_s is None else wait_s):
            end = await self._read_records(reader, records, stop or (lambda _record: False))
        return ServerReaction(records=tuple(records), end=end)

    async def _read_records(
        self, reader: RecordReader, records: list[Record], stop: Callable[[Record], bool]
    ) -> ReactionEnd:
        while True:
            while (record := reader.next_record()) is not None:
                records.append(record)
                if _is_fatal_alert(record):
                    return ReactionEnd.fatal_alert
                if stop(record):
                    return ReactionEnd.enough
            try:
                data = await self._stream.receive(_RECEIVE_SIZE)
            except anyio.EndOfStream:
                return ReactionEnd.closed
            except (anyio.BrokenResourceError, OSError):
                return ReactionEnd.reset
            reader.feed(data)


def _alert(record: Record) -> Alert | None:
    """The (first) alert a cleartext alert record carries; None for any other record."""
    if record.content_type != ContentType.alert or len(record.payload) < 2:
        return None
    return Alert(level=record.payload[0], description=record.payload[1])


def _is_fatal_alert(record: Record) -> bool:
    alert = _alert(record)
    return alert is not None and alert.level == AlertLevel.fatal
