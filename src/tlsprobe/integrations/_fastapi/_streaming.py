"""Streaming a scan's results as they arrive: NDJSON or Server-Sent Events, and noticing a client that hangs up.

Both end with the scan's end status, ``{"id": ..., "status": ..., "reason": ..., "servers": N}`` (status
``completed``, ``cancelled`` or ``failed``; ``servers``: how many results the scan produced), so a client can tell
a complete stream from one cut short (a dropped connection, a proxy's timeout), which has no end.

NDJSON: one line per server, the same JSON object as a line of the CLI's ``--jsonl``, then the end status as one
last line with ``"event": "end"`` added (a server object never has an ``event`` key). SSE: one ``result`` event per
server (``id`` is the result's index, so ``Last-Event-ID`` resumes after it), then one ``end`` event whose data is
the end status; a comment line is sent after every ``keepalive_s`` of silence so that proxies keep it open.

The response watches the ASGI ``receive`` channel while it streams: ``http.disconnect`` (or a server that raises
on ``send``) means the client is gone, and when no other stream is attached the scan is cancelled. Waiting for
the next write to fail would leave a quiet scan running for as long as it stays quiet.
"""

from __future__ import annotations

import contextlib
import enum
import json
from collections.abc import AsyncGenerator
from typing import Any, final

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from tlsprobe.integrations._fastapi._scans import Scan


class StreamFormat(enum.Enum):
    """How ``GET /scans/{id}/stream`` frames the results (its ``format`` query parameter)."""

    NDJSON = "ndjson"
    SSE = "sse"


MEDIA_TYPES = {StreamFormat.NDJSON: "application/x-ndjson", StreamFormat.SSE: "text/event-stream"}


def ndjson_line(result: Any) -> bytes:
    """One result as a line, exactly as the CLI writes it with ``--jsonl``."""
    return (json.dumps(result, ensure_ascii=False) + "\n").encode()


def end_status(scan: Scan) -> dict[str, Any]:
    """How a finished scan ended: the data of the SSE ``end`` event, and of the NDJSON end line."""
    return {"id": scan.id, "status": scan.status.value, "reason": scan.reason, "servers": len(scan.results)}


def ndjson_end_line(scan: Scan) -> bytes:
    """The last line of an NDJSON stream, marked as such by its ``event`` key."""
    return ndjson_line({"event": "end", **end_status(scan)})


def sse_event(event: str, data: Any, *, event_id: int | None = None) -> bytes:
    """One Server-Sent Event; compact JSON never holds a line break, so ``data`` is one line."""
    lines = [] if event_id is None else [f"id: {event_id}"]
    lines += [f"event: {event}", f"data: {json.dumps(data, ensure_ascii=False)}", "", ""]
    return "\n".join(lines).encode()


async def scan_events(
    scan: Scan, stream_format: StreamFormat, *, first_index: int = 0, keepalive_s: float = 15.0
) -> AsyncGenerator[bytes, None]:
    """The scan's results from ``first_index`` on, then each new one as it arrives, until the scan ends."""
    index = first_index
    while True:
        while index < len(scan.results):
            result = scan.results[index]
            if stream_format is StreamFormat.NDJSON:
                yield ndjson_line(result)
            else:
                yield sse_event("result", result, event_id=index)
            index += 1
        if scan.finished:
            if stream_format is StreamFormat.SSE:
                yield sse_event("end", end_status(scan))
            else:
                yield ndjson_end_line(scan)
            return
        if stream_format is StreamFormat.NDJSON:
            await scan.wait_for_change()
            continue
        with anyio.move_on_after(keepalive_s) as quiet:
            await scan.wait_for_change()
        if quiet.cancelled_caught:
            yield b": keepalive\n\n"


@final
class ScanStreamResponse(StreamingResponse):
    """Streams ``scan_events``; cancels the scan when its client disconnects and no other stream is attached."""

    def __init__(self, scan: Scan, stream_format: StreamFormat, *, first_index: int, keepalive_s: float) -> None:
        self._events = scan_events(scan, stream_format, first_index=first_index, keepalive_s=keepalive_s)
        super().__init__(
            self._events,
            media_type=MEDIA_TYPES[stream_format],
            # No caching, and no buffering by a reverse proxy (nginx honours X-Accel-Buffering).
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self.scan = scan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        disconnected = False

        async def send_body(body: bytes, *, more: bool) -> bool:
            try:
                await send({"type": "http.response.body", "body": body, "more_body": more})
            except OSError:  # ASGI 2.4 servers raise on send once the client is gone
                return False
            return True

        self.scan.streams_attached += 1
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async with anyio.create_task_group() as group:

                async def watch_for_disconnect() -> None:
                    nonlocal disconnected
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    disconnected = True
                    group.cancel_scope.cancel()

                group.start_soon(watch_for_disconnect)
                async with contextlib.aclosing(self._events):
                    async for chunk in self._events:
                        if not await send_body(chunk, more=True):
                            disconnected = True
                            break
                    else:
                        disconnected = not await send_body(b"", more=False)
                group.cancel_scope.cancel()
        finally:
            self.scan.streams_attached -= 1
            if disconnected and self.scan.streams_attached == 0:
                self.scan.cancel("the streaming client disconnected")
