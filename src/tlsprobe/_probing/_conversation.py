"""Conversations: after the server's first flight, a check sends more records on the same connection and
observes what the server does next. The byte-level vulnerability probes (Heartbleed, CCS injection, ROBOT) are
built on this.

A server's reaction is data, never an exception (``wire/_reactions.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.abc

from tlsprobe._model._config import Timeouts
from tlsprobe.wire import Record, RecordReader
from tlsprobe.wire._answers import HelloAccepted
from tlsprobe.wire._reactions import ReactionEnd, ServerReaction, is_fatal_alert

_RECEIVE_SIZE = 65536
_MAX_REACTION_BYTES = 256 * 1024


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
                if is_fatal_alert(record):
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
