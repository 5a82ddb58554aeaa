"""A user-space latency proxy: one asyncio listener per server on 127.0.0.1, all in one background thread.

Why: on loopback a round trip costs microseconds, so a scanner that opens 600 connections looks as fast as one
that opens 20. netem is not available, so the delay is added here. Every chunk is held RTT/2 in each direction,
in order; a connection's first client bytes are held one more RTT after accept, since the kernel completed the
TCP handshake at once where a real one costs a round trip.

The counters are the server's view, as in ``tlsprobe.testing.CountingProxy``: a connection is current from
accept until the upstream side has closed (its FIN or the connection lost), before that FIN is passed on, so a
client that waits for the FIN before opening its next connection is never counted twice. With ``refuse_beyond``
a connection accepted while that many are current is reset at once (SO_LINGER 0), like a fragile front end;
it counts as a refusal, not as accepted.

The proxy runs in its own thread and event loop so that the scanners, run as subprocesses, are measured alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

_EOF = b""  # queued marker: half-close the sink once everything before it was delivered
_CLOSE = None  # queued marker: close the sink
_START_TIMEOUT_S = 10.0
_IDLE_POLL_S = 0.05
LATE_S = 0.005  # a chunk delivered later than this after its due time makes the added latency inexact


@dataclass
class ProxyCounters:
    """What one server saw. Written only by the proxy's loop; read by the driver between tool runs."""

    accepted: int = 0
    current: int = 0
    max_concurrent: int = 0
    refused: int = 0
    upstream_failures: int = 0
    # The proxy's own accuracy: chunks delivered, and how many (and how much at worst) later than due.
    delivered: int = 0
    late: int = 0
    max_late_s: float = 0.0


class _DelayedPipe:
    """Delivers chunks to a transport ``delay`` seconds after they arrived (never before ``not_before``), in order.

    One timer for the head of a FIFO rather than one per chunk: asyncio's timer heap does not keep the order of
    callbacks due at the same instant.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        delay: float,
        on_finished: Callable[[], None],
        on_delivered: Callable[[float], None],
        not_before: float = 0.0,
    ) -> None:
        self._loop = loop
        self._on_finished = on_finished
        self._on_delivered = on_delivered
        self._delay = delay
        self._not_before = not_before
        self._queue: deque[tuple[float, bytes | None]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._sink: asyncio.Transport | None = None
        self.finished = False

    def attach(self, sink: asyncio.Transport) -> None:
        self._sink = sink
        self._deliver()

    def push(self, chunk: bytes | None) -> None:
        due = max(self._loop.time(), self._not_before) + self._delay
        self._queue.append((due, chunk))
        if self._timer is None:
            self._timer = self._loop.call_at(due, self._deliver)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()

    def _deliver(self) -> None:
        self._timer = None
        if self._sink is None:
            return  # attach() delivers what is due
        now = self._loop.time()
        while self._queue and self._queue[0][0] <= now:
            due, chunk = self._queue.popleft()
            self._on_delivered(now - due)
            self._write(self._sink, chunk)
        if self._queue:
            self._timer = self._loop.call_at(self._queue[0][0], self._deliver)

    def _write(self, sink: asyncio.Transport, chunk: bytes | None) -> None:
        if chunk is _CLOSE or chunk == _EOF:
            if self.finished:
                return
            self.finished = True
            if chunk is _CLOSE:
                sink.close()
            elif not sink.is_closing():
                try:
                    sink.write_eof()
                except OSError:  # the peer is already gone
                    sink.close()
            self._on_finished()
        elif not sink.is_closing():
            sink.write(chunk)


class _Connection:
    """One proxied connection: the client side, the upstream side, and a delayed pipe each way."""

    def __init__(self, proxy: _ServerProxy, loop: asyncio.AbstractEventLoop) -> None:
        self._proxy = proxy
        half_rtt = proxy.rtt_s / 2
        self.to_upstream = _DelayedPipe(
            loop, half_rtt, self.maybe_close, proxy.record_delivery, not_before=loop.time() + proxy.rtt_s
        )
        self.to_client = _DelayedPipe(loop, half_rtt, self.maybe_close, proxy.record_delivery)
        self.client: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self.connect_task: asyncio.Task[None] | None = None  # held so that the loop does not lose the task
        self._released = False

    def release(self) -> None:
        """The server is done with this connection: it no longer counts as current."""
        if not self._released:
            self._released = True
            self._proxy.counters.current -= 1

    def maybe_close(self) -> None:
        """Both directions have ended: close both sockets (a half-closed pair would otherwise linger)."""
        if self.to_upstream.finished and self.to_client.finished:
            for transport in (self.client, self.upstream):
                if transport is not None:
                    transport.close()
            self._proxy.connections.discard(self)

    def abort(self) -> None:
        self.to_upstream.cancel()
        self.to_client.cancel()
        for transport in (self.client, self.upstream):
            if transport is not None:
                transport.abort()
        self.release()
        self._proxy.connections.discard(self)


class _ClientSide(asyncio.Protocol):
    def __init__(self, proxy: _ServerProxy) -> None:
        self._proxy = proxy
        self._connection: _Connection | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._connection = self._proxy.accept(transport)

    def data_received(self, data: bytes) -> None:
        if self._connection is not None:
            self._connection.to_upstream.push(data)

    def eof_received(self) -> bool:
        if self._connection is not None:
            self._connection.to_upstream.push(_EOF)
        return True  # keep our sending half open: the server may still answer

    def connection_lost(self, exc: Exception | None) -> None:
        if self._connection is not None:
            self._connection.to_upstream.push(_CLOSE)


class _UpstreamSide(asyncio.Protocol):
    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    def data_received(self, data: bytes) -> None:
        self._connection.to_client.push(data)

    def eof_received(self) -> bool:
        self._connection.release()
        self._connection.to_client.push(_EOF)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._connection.release()
        self._connection.to_client.push(_CLOSE)


class _ServerProxy:
    """The listener in front of one server."""

    def __init__(self, upstream_port: int, rtt_s: float, refuse_beyond: int | None) -> None:
        self.upstream_port = upstream_port
        self.rtt_s = rtt_s
        self.refuse_beyond = refuse_beyond
        self.counters = ProxyCounters()
        self.connections: set[_Connection] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.get_running_loop().create_server(
            lambda: _ClientSide(self), "127.0.0.1", 0, backlog=1024
        )
        self.port = self.server.sockets[0].getsockname()[1]

    def record_delivery(self, late_s: float) -> None:
        counters = self.counters
        counters.delivered += 1
        if late_s > LATE_S:
            counters.late += 1
            counters.max_late_s = max(counters.max_late_s, late_s)

    def accept(self, client: asyncio.Transport) -> _Connection | None:
        counters = self.counters
        if self.refuse_beyond is not None and counters.current >= self.refuse_beyond:
            counters.refused += 1
            _reset(client)
            return None
        counters.accepted += 1
        counters.current += 1
        counters.max_concurrent = max(counters.max_concurrent, counters.current)
        loop = asyncio.get_running_loop()
        connection = _Connection(self, loop)
        connection.client = client
        self.connections.add(connection)
        connection.connect_task = loop.create_task(self._connect_upstream(connection))
        return connection

    async def _connect_upstream(self, connection: _Connection) -> None:
        loop = asyncio.get_running_loop()
        try:
            upstream, _protocol = await loop.create_connection(
                lambda: _UpstreamSide(connection), "127.0.0.1", self.upstream_port
            )
        except OSError:
            self.counters.upstream_failures += 1
            if connection.client is not None:
                _reset(connection.client)
            connection.abort()
            return
        connection.upstream = upstream
        connection.to_upstream.attach(upstream)
        assert connection.client is not None
        connection.to_client.attach(connection.client)


def _reset(transport: asyncio.Transport) -> None:
    """Close with an RST rather than a FIN."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class LatencyProxies:
    """One latency proxy per upstream port, served by one event loop in a background thread.

    ``ports[i]`` is where to connect to reach ``upstream_ports[i]``; ``counters()[i]`` is what that server saw.
    """

    def __init__(self, upstream_ports: Sequence[int], *, rtt_s: float = 0.040, refuse_beyond: int | None = None):
        self._proxies = [_ServerProxy(port, rtt_s, refuse_beyond) for port in upstream_ports]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="latency-proxies", daemon=True)

    @property
    def ports(self) -> list[int]:
        return [proxy.port for proxy in self._proxies]

    def counters(self) -> list[ProxyCounters]:
        return [proxy.counters for proxy in self._proxies]

    def thread_cpu_s(self) -> float:
        """CPU time the proxies' thread has used: a busy proxy delays chunks more than it should."""
        ident = self._thread.ident
        return 0.0 if ident is None else time.clock_gettime(time.pthread_getcpuclockid(ident))

    def set_refuse_beyond(self, limit: int | None) -> None:
        def update() -> None:
            for proxy in self._proxies:
                proxy.refuse_beyond = limit

        self._call(update)

    def reset_counters(self) -> None:
        """Zero the counts between tools (connections still open stay current)."""

        def reset() -> None:
            for proxy in self._proxies:
                current = proxy.counters.current
                proxy.counters = ProxyCounters(current=current, max_concurrent=current)

        self._call(reset)

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no server has a connection open; False if some still do after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while any(proxy.counters.current for proxy in self._proxies):
            if time.monotonic() > deadline:
                return False
            time.sleep(_IDLE_POLL_S)
        return True

    def start(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start_all(), self._loop).result(_START_TIMEOUT_S)
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._stop_all(), self._loop).result(_START_TIMEOUT_S)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        self._loop.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _call(self, function: Callable[[], object]) -> None:
        async def run() -> None:
            function()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(_START_TIMEOUT_S)

    async def _start_all(self) -> None:
        for proxy in self._proxies:
            await proxy.start()

    async def _stop_all(self) -> None:
        for proxy in self._proxies:
            if proxy.server is not None:
                proxy.server.close()
            for connection in list(proxy.connections):
                connection.abort()
        for proxy in self._proxies:
            if proxy.server is not None:
                await proxy.server.wait_closed()
        # Let the pending connect tasks see their cancellation before the loop stops.
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
