"""Opening, limiting and really closing connections to one server."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar, TypeVarTuple, Unpack

import anyio
import anyio.abc
import anyio.lowlevel
import attrs

from tlsprobe._config import Timeouts
from tlsprobe._exceptions import ConnectionClosedError, ConnectionRejectedError, ConnectTimeoutError

T = TypeVar("T")
_DRAIN_SIZE = 65536
_MAX_LINGER_S = 2.0
Ts = TypeVarTuple("Ts")


@attrs.define
class ScanCounters:
    """Scan-wide running totals, read by ``Scanner.statistics()``."""

    connections_open: int = 0
    connections_opened: int = 0
    retries: int = 0


@attrs.define
class ProbeMeter:
    """What one step (connectivity or a check) has cost the server so far."""

    connections: int = 0
    retries: int = 0


class ConnectionPermits:
    """The per-server semaphore: one permit is one open connection."""

    def __init__(self, limit: int) -> None:
        self._semaphore = anyio.Semaphore(limit)
        self.limit = limit
        self.in_use = 0
        self.max_in_use = 0

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        async with self._semaphore:
            self.in_use += 1
            self.max_in_use = max(self.max_in_use, self.in_use)
            try:
                yield
            finally:
                self.in_use -= 1


@attrs.define(kw_only=True)
class ServerConnector:
    """Connections to one resolved server address, under its permits and the scan-wide caps."""

    ip_address: str
    port: int
    timeouts: Timeouts
    permits: ConnectionPermits
    global_connections: anyio.Semaphore
    thread_limiter: anyio.CapacityLimiter
    counters: ScanCounters

    @asynccontextmanager
    async def _permit(self, meter: ProbeMeter) -> AsyncIterator[None]:
        async with self.permits.hold(), self.global_connections:
            meter.connections += 1
            self.counters.connections_opened += 1
            self.counters.connections_open += 1
            try:
                yield
            finally:
                self.counters.connections_open -= 1

    @asynccontextmanager
    async def connect(self, meter: ProbeMeter) -> AsyncIterator[anyio.abc.SocketStream]:
        """An async TCP stream, closed (for real) and its permit returned when the block exits."""
        async with self._permit(meter):
            stream = await self._open_stream()
            try:
                yield stream
            finally:
                await _close_fully(stream, _linger_s(self.timeouts))

    async def run_blocking(self, meter: ProbeMeter, fn: Callable[[socket.socket, Unpack[Ts]], T], *args: *Ts) -> T:
        """Run ``fn(sock, *args)`` in a worker thread on a fresh blocking socket, closed when ``fn`` returns.

        The thread is not abandoned on cancellation: every socket operation in it has a timeout, so
        cancellation completes within one network timeout and never leaks a thread or a socket.
        """
        async with self._permit(meter):
            return await anyio.to_thread.run_sync(
                _call_with_socket,
                self.ip_address,
                self.port,
                self.timeouts,
                fn,
                *args,
                limiter=self.thread_limiter,
            )

    async def _open_stream(self) -> anyio.abc.SocketStream:
        try:
            with anyio.fail_after(self.timeouts.connect_s):
                return await anyio.connect_tcp(self.ip_address, self.port)
        except TimeoutError:
            raise ConnectTimeoutError(
                f"TCP connection to {_endpoint(self.ip_address, self.port)} timed out after "
                f"{self.timeouts.connect_s:g} s"
            ) from None
        except OSError as error:
            if isinstance(error.__cause__ or error, ConnectionResetError | ConnectionAbortedError):
                # Accepted, then reset at once: the server is there and hangs up on us.
                raise ConnectionClosedError(
                    f"{_endpoint(self.ip_address, self.port)} reset the connection as soon as it was accepted"
                ) from None
            raise ConnectionRejectedError(
                f"TCP connection to {_endpoint(self.ip_address, self.port)} failed: {_os_error_text(error)}"
            ) from None


def _endpoint(ip_address: str, port: int) -> str:
    return f"[{ip_address}]:{port}" if ":" in ip_address else f"{ip_address}:{port}"


def _os_error_text(error: OSError) -> str:
    # anyio wraps the real error ("Connection refused") in a generic "All connection attempts failed".
    cause = error.__cause__ if isinstance(error.__cause__, OSError) else error
    if cause.errno:
        return os.strerror(cause.errno)  # asyncio's own strerror text hides the reason ("Connect call failed")
    return cause.strerror or str(cause) or type(cause).__name__


async def _close_fully(stream: anyio.abc.SocketStream, linger_s: float) -> None:
    # Close politely and completely before the permit goes back: send our FIN, let the server close its side
    # (it does at once: it has nothing more to say to a client that hung up), then wait until our descriptor is
    # really gone, since an asyncio transport's close() only schedules it. Otherwise the server could briefly
    # hold one connection more than the limit.
    raw = stream.extra(anyio.abc.SocketAttribute.raw_socket)
    with anyio.CancelScope(shield=True):
        with anyio.move_on_after(linger_s):
            try:
                await stream.send_eof()
                while await stream.receive(_DRAIN_SIZE):
                    pass
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass
        await stream.aclose()
        for _ in range(100):
            if raw.fileno() == -1:
                break
            await anyio.lowlevel.checkpoint()


def _call_with_socket(
    ip_address: str,
    port: int,
    timeouts: Timeouts,
    fn: Callable[[socket.socket, Unpack[Ts]], T],
    *args: *Ts,
) -> T:
    sock = open_blocking_socket(ip_address, port, timeouts)
    try:
        return fn(sock, *args)
    finally:
        _close_blocking(sock, _linger_s(timeouts))


def _close_blocking(sock: socket.socket, linger_s: float) -> None:
    """The blocking twin of ``_close_fully``: FIN, wait for the server's, close."""
    try:
        if sock.fileno() != -1:
            sock.settimeout(linger_s)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(_DRAIN_SIZE):
                pass
    except OSError:
        pass
    finally:
        sock.close()


def _linger_s(timeouts: Timeouts) -> float:
    return min(timeouts.read_s, _MAX_LINGER_S)


def open_blocking_socket(ip_address: str, port: int, timeouts: Timeouts) -> socket.socket:
    """A connected blocking socket whose every operation times out after ``timeouts.read_s``."""
    family = socket.AF_INET6 if ":" in ip_address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeouts.connect_s)
        sock.connect((ip_address, port))
        sock.settimeout(timeouts.read_s)
    except TimeoutError:
        sock.close()
        raise ConnectTimeoutError(
            f"TCP connection to {_endpoint(ip_address, port)} timed out after {timeouts.connect_s:g} s"
        ) from None
    except OSError as error:
        sock.close()
        raise ConnectionRejectedError(
            f"TCP connection to {_endpoint(ip_address, port)} failed: {_os_error_text(error)}"
        ) from None
    return sock
