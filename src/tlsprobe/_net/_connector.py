"""Opening, limiting and really closing connections to one server, and setting each one up (an HTTP CONNECT
tunnel, a STARTTLS upgrade) the same way whichever path opens it."""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import TypeVar, TypeVarTuple, Unpack

import anyio
import anyio.abc
import anyio.lowlevel
import attrs

from tlsprobe._exceptions import (
    ConnectionClosedError,
    ConnectionRejectedError,
    ConnectTimeoutError,
    ServerStalledError,
)
from tlsprobe._model._config import HttpProxy, Limits, StartTLS, Timeouts
from tlsprobe._net._address_budgets import ScanShare
from tlsprobe._net._identity import HandshakeContext, handshake_context
from tlsprobe._net._negotiation import Negotiator, ProxyUnreachableError, negotiate, negotiate_blocking
from tlsprobe._net._permits import ConnectionPermits
from tlsprobe._net._proxy import HttpConnectNegotiator
from tlsprobe._net._retries import Attempt, with_retries
from tlsprobe._net.starttls import starttls_negotiator

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


_IN_SEQUENCE_FIRST = 1 << 30  # above any count of connections
_LONG_HELD_FIRST = _IN_SEQUENCE_FIRST - 1  # above any independent probe, below any sequence
_AHEAD_OF_CHECKS = 1 << 31  # above any check
# The rank of the chain of probes (an enumeration) the probes made inside ``chain`` belong to, by when it began;
# a task started there inherits it.
_chain_rank: ContextVar[int | None] = ContextVar("tlsprobe_chain_rank", default=None)
_chains_begun = itertools.count()
_CHAIN_RANKS = 1 << 29  # chains begun in one process before ranks stop telling them apart


@contextmanager
def chain() -> Iterator[None]:
    """Mark the probes made inside as one chain, whose every probe waits for the one before (an enumeration):
    chains are served in the order they began (``ProbeMeter.priority``)."""
    token = _chain_rank.set(next(_chains_begun))
    try:
        yield
    finally:
        _chain_rank.reset(token)


@attrs.define
class ProbeMeter:
    """What one step (connectivity or a check) has cost the server so far, and how soon its connections are
    served."""

    connections: int = 0
    retries: int = 0
    in_sequence: bool = False
    """Whether the step's probes mostly wait for one another (an enumeration: offer, read the pick, offer the
    rest): such steps are served first, see ``priority``."""
    long_held: bool = False
    """Whether the step's one probe holds its connection for many round trips: it goes before the other
    independent probes, lest it start last and trail alone at the end (but behind the sequences, whose longest
    chain is often the critical path)."""
    ahead_of_checks: bool = False
    """Whether the step's probes go before every check's (the connectivity phase's: its half-close learning hello
    decides how every later hello is sent)."""

    @property
    def priority(self) -> int:
        """Higher is served first among the server's waiters. Probes that come in sequence go before independent
        probes: each waits for the one before, so a sequence started late would trail alone at the end, while
        independent probes fill any permits left over. The probes of chains (``chain``) go first, chains in the
        order they began: each runs at nearly full speed and the first to begin finish first, instead of all
        advancing together and trailing together at the end (the measurements behind this order are in
        ``benchmarks/RESULTS.md``). Among other probes, the steps that have made the most connections so far go
        first. A long-held probe (``long_held``) goes before other independent probes, and the connectivity
        phase's probes before everything."""
        if self.ahead_of_checks:
            return _AHEAD_OF_CHECKS
        if self.long_held:
            return _LONG_HELD_FIRST
        rank = _chain_rank.get()
        if rank is not None:
            return _IN_SEQUENCE_FIRST + max(_CHAIN_RANKS - rank, 1)
        return (_IN_SEQUENCE_FIRST if self.in_sequence else 0) + self.connections


@attrs.frozen(kw_only=True)
class ConnectionSetup:
    """How every connection to one server is set up before its first TLS byte."""

    proxy: HttpProxy | None = None
    """Reach the server through this HTTP CONNECT proxy."""
    starttls: StartTLS = StartTLS.NONE
    """The plaintext upgrade to run first (``AUTO`` already resolved)."""
    xmpp_domain: str = "localhost"
    """The ``to`` of an XMPP stream header."""
    ehlo_name: str = "tlsprobe.invalid"
    """The name given in SMTP ``EHLO``."""

    def negotiators(self, host: str, port: int) -> list[Negotiator]:
        """Fresh negotiators for one connection to ``host`` (an address, or a name the proxy resolves)."""
        chain: list[Negotiator] = []
        if self.proxy is not None:
            chain.append(HttpConnectNegotiator(self.proxy, host, port))
        upgrade = starttls_negotiator(self.starttls, xmpp_domain=self.xmpp_domain, ehlo_name=self.ehlo_name)
        if upgrade is not None:
            chain.append(upgrade)
        return chain


@attrs.define(kw_only=True)
class ServerConnector:
    """Connections to one server address, under its permits and the scan-wide caps, each set up by ``setup``.

    ``ip_address`` is the address connected to; through a proxy it may be a host name, which the proxy resolves.
    ``handshake`` is what nassl handshakes in worker threads need to know (a client certificate, and whether the
    server requires one); the scanner completes it once the connectivity phase has learned that.
    """

    ip_address: str
    port: int
    timeouts: Timeouts
    permits: ConnectionPermits
    global_connections: anyio.Semaphore
    thread_limiter: anyio.CapacityLimiter
    counters: ScanCounters
    setup: ConnectionSetup = attrs.field(factory=ConnectionSetup)
    handshake: HandshakeContext = attrs.field(factory=HandshakeContext)
    max_retries: int = Limits().max_retries
    ip_permits: ConnectionPermits | None = None
    """The permits of the server's IP across its ports (``_address_budgets``); None for no such cap."""
    share: ScanShare | None = None
    """The scan's share of the scanner's threads and connection slots; None for no share."""
    closes_by_reset: bool = attrs.field(default=False, init=False)
    """Whether connections are reset rather than closed politely: the server let a close's wait for its FIN run
    out (a drip after our FIN, or no FIN at all), so waiting again would only hold a permit for nothing."""
    stalled: str | None = attrs.field(default=None, init=False)
    """Why the server is not contacted again: an exchange outlived ``Timeouts.exchange_s`` (a tarpit)."""

    def note_stall(self, reason: str) -> ServerStalledError:
        """Remember that the server kept an exchange going past its deadline; every later connection to it in this
        scan fails at once with the error returned."""
        if self.stalled is None:
            self.stalled = reason
        return ServerStalledError(reason)

    async def retrying(
        self, meter: ProbeMeter, run: Callable[[Attempt], Awaitable[T]], *, first_contact: bool = False
    ) -> T:
        """``run(attempt)`` with the retries of ``_retries``, counted in ``meter`` and the scan's counters; ``run``
        passes ``attempt`` to ``connect``."""

        def count_retry() -> None:
            meter.retries += 1
            self.counters.retries += 1

        return await with_retries(
            self.permits, run, max_retries=self.max_retries, on_retry=count_retry, first_contact=first_contact
        )

    @asynccontextmanager
    async def _permit(self, meter: ProbeMeter, attempt: Attempt | None) -> AsyncIterator[None]:
        if self.stalled is not None:
            raise ServerStalledError(f"not contacted again: {self.stalled}")
        exclusive = attempt is not None and attempt.exclusive
        priority = meter.priority
        # Always in this order (server address, its IP, the scan's share, the scanner's cap): no deadlock.
        async with (
            self.permits.hold(exclusive=exclusive, priority=priority) as held,
            _optional_hold(self.ip_permits, priority),
            _optional_slot(None if self.share is None else self.share.connections),
        ):
            try:  # without a checkpoint when a connection is free, as it mostly is
                self.global_connections.acquire_nowait()
            except anyio.WouldBlock:
                await self.global_connections.acquire()
            if attempt is not None:
                attempt.hold = held
            meter.connections += 1
            self.counters.connections_opened += 1
            self.counters.connections_open += 1
            try:
                yield
            finally:
                self.counters.connections_open -= 1
                self.global_connections.release()

    @asynccontextmanager
    async def connect(self, meter: ProbeMeter, attempt: Attempt | None = None) -> AsyncIterator[anyio.abc.SocketStream]:
        """An async TCP stream, set up and ready for the first TLS byte, closed (for real) and its permit
        returned when the block exits. Under ``retrying``, pass its ``attempt``."""
        async with self._permit(meter, attempt):
            stream, raw = await self._open_stream()
            cancelled = False
            try:
                await negotiate(stream, self.setup.negotiators(self.ip_address, self.port), self.timeouts.read_s)
                yield stream
            except BaseException as error:
                cancelled = isinstance(error, anyio.get_cancelled_exc_class())
                raise
            finally:
                # A cancelled scan does not wait for the server's FIN: a reset frees the server's side as surely.
                reset = cancelled or self.closes_by_reset
                if not await _close_fully(stream, raw, _linger_s(self.timeouts), reset=reset):
                    self.closes_by_reset = True

    async def run_blocking(self, meter: ProbeMeter, fn: Callable[[socket.socket, Unpack[Ts]], T], *args: *Ts) -> T:
        """Run ``fn(sock, *args)`` in a worker thread on a fresh blocking socket, closed when ``fn`` returns;
        retried like any probe (``retrying``) when the connection fails, so a hang-up that ``fn`` raises as
        ``ConnectionClosedError`` is the server's answer only once it came on a connection alone.

        Every socket operation in the thread has a timeout, but a server dripping a byte now and then would
        satisfy each of them for ever: the whole exchange has ``Timeouts.exchange_s``. When that passes, or the
        scan is cancelled, the socket is shut down from here, which ends any blocking call in the thread at once;
        the thread is waited for, never abandoned, so no thread or socket is left behind.
        """

        async def attempt_once(attempt: Attempt) -> T:
            async with (
                self._permit(meter, attempt),
                _optional_slot(None if self.share is None else self.share.threads),
            ):
                return await self._in_thread(fn, *args)

        return await self.retrying(meter, attempt_once)

    async def _in_thread(self, fn: Callable[[socket.socket, Unpack[Ts]], T], *args: *Ts) -> T:
        guard = _SocketGuard()
        deadline_s = self.timeouts.exchange_s

        async def shut_down_when_due() -> None:
            try:
                await anyio.sleep(deadline_s)
            finally:  # the deadline, or cancellation of the scan
                guard.shut_down()

        returned: list[T] = []
        raised: list[Exception] = []  # kept out of the task group, which would wrap it in an ExceptionGroup
        async with anyio.create_task_group() as watchdog:
            watchdog.start_soon(shut_down_when_due)
            try:
                returned.append(
                    await anyio.to_thread.run_sync(
                        _call_with_socket, self, guard, fn, *args, limiter=self.thread_limiter
                    )
                )
            except Exception as error:
                raised.append(error)
            finally:
                guard.finish()
                watchdog.cancel_scope.cancel()
        if guard.was_shut_down:  # whatever the thread made of its socket being shut down under it
            await anyio.lowlevel.checkpoint_if_cancelled()  # shut down for a cancelled scan: that, not a stall
            raise self.note_stall(f"an exchange with the server did not end within {deadline_s:g} s") from (
                raised.pop() if raised else None
            )
        if returned:
            return returned[0]
        raise raised.pop()  # emptied: the traceback holds this frame, which must not hold the error

    async def _open_stream(self) -> tuple[anyio.abc.SocketStream, socket.socket]:
        """The stream, and its socket (a reference kept here: asking the stream for it costs system calls)."""
        proxy = self.setup.proxy
        host, port = (self.ip_address, self.port) if proxy is None else (proxy.host, proxy.port)
        try:
            with anyio.fail_after(self.timeouts.connect_s):
                if proxy is None:
                    return await _connect_to_address(host, port)
                stream = await anyio.connect_tcp(host, port)
                return stream, stream.extra(anyio.abc.SocketAttribute.raw_socket)
        except TimeoutError:
            error_text = f"timed out after {self.timeouts.connect_s:g} s"
            if proxy is not None:
                raise ProxyUnreachableError(f"HTTP proxy {_endpoint(host, port)} unreachable: {error_text}") from None
            raise ConnectTimeoutError(f"TCP connection to {_endpoint(host, port)} {error_text}") from None
        except OSError as error:
            if proxy is not None:
                raise ProxyUnreachableError(
                    f"HTTP proxy {_endpoint(host, port)} unreachable: {_os_error_text(error)}"
                ) from None
            if isinstance(error.__cause__ or error, ConnectionResetError | ConnectionAbortedError):
                # Accepted, then reset at once: the server is there and hangs up on us.
                raise ConnectionClosedError(
                    f"{_endpoint(host, port)} reset the connection as soon as it was accepted"
                ) from None
            raise ConnectionRejectedError(
                f"TCP connection to {_endpoint(host, port)} failed: {_os_error_text(error)}"
            ) from None

    def open_blocking(self) -> socket.socket:
        """A connected blocking socket (through the proxy, if any), set up and ready for the first TLS byte; every
        operation on it times out after ``timeouts.read_s``. Only for worker threads."""
        proxy = self.setup.proxy
        if proxy is None:
            sock = open_blocking_socket(self.ip_address, self.port, self.timeouts)
        else:
            try:
                sock = socket.create_connection((proxy.host, proxy.port), timeout=self.timeouts.connect_s)
            except TimeoutError:
                raise ProxyUnreachableError(
                    f"HTTP proxy {_endpoint(proxy.host, proxy.port)} unreachable: timed out after "
                    f"{self.timeouts.connect_s:g} s"
                ) from None
            except OSError as error:
                raise ProxyUnreachableError(
                    f"HTTP proxy {_endpoint(proxy.host, proxy.port)} unreachable: {_os_error_text(error)}"
                ) from None
            sock.settimeout(self.timeouts.read_s)
        try:
            negotiate_blocking(sock, self.setup.negotiators(self.ip_address, self.port), self.timeouts.read_s)
        except BaseException:
            _close_blocking(sock, _linger_s(self.timeouts))
            raise
        return sock


_NON_BLOCKING = getattr(socket, "SOCK_NONBLOCK", 0)  # Linux: non-blocking from creation


async def _connect_to_address(ip_address: str, port: int) -> tuple[anyio.abc.SocketStream, socket.socket]:
    """A TCP stream to one IP address, and its socket: what ``anyio.connect_tcp`` does for it, without the name
    resolution and the happy-eyeballs task group, which cost more CPU than the rest of a probe's connection."""
    family = socket.AF_INET6 if ":" in ip_address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM | _NON_BLOCKING)  # one system call fewer than setblocking
    try:
        if not _NON_BLOCKING:
            sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.connect((ip_address, port))
        except BlockingIOError:
            await anyio.wait_writable(sock)
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                raise OSError(error, os.strerror(error)) from None
        try:
            return await anyio.abc.SocketStream.from_socket(sock), sock
        except ValueError:  # "must be connected": reset by the server since (getpeername fails)
            raise ConnectionResetError(errno.ECONNRESET, os.strerror(errno.ECONNRESET)) from None
    except BaseException:
        sock.close()
        raise


def _endpoint(ip_address: str, port: int) -> str:
    return f"[{ip_address}]:{port}" if ":" in ip_address else f"{ip_address}:{port}"


def _os_error_text(error: OSError) -> str:
    # anyio wraps the real error ("Connection refused") in a generic "All connection attempts failed".
    cause = error.__cause__ if isinstance(error.__cause__, OSError) else error
    if cause.errno:
        return os.strerror(cause.errno)  # asyncio's own strerror text hides the reason ("Connect call failed")
    return cause.strerror or str(cause) or type(cause).__name__


async def _close_fully(
    stream: anyio.abc.SocketStream, raw: socket.socket, linger_s: float, *, reset: bool = False
) -> bool:
    """Close ``stream`` (``raw`` its socket); whether the server closed its side in time (always True with
    ``reset``)."""
    # Close politely and completely before the permit goes back: send our FIN, let the server close its side
    # (it does at once: it has nothing more to say to a client that hung up), then wait until our descriptor is
    # really gone, since an asyncio transport's close() only schedules it. Otherwise the server could briefly
    # hold one connection more than the limit.
    closed_in_time = True
    with anyio.CancelScope(shield=True):
        if reset:
            _set_reset_on_close(raw)
        else:
            with anyio.move_on_after(linger_s) as wait:
                try:
                    await stream.send_eof()
                    while await stream.receive(_DRAIN_SIZE):
                        pass
                except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                    pass
            if wait.cancelled_caught:
                closed_in_time = False
                _set_reset_on_close(raw)
        await stream.aclose()
        for _ in range(100):
            if raw.fileno() == -1:
                break
            await anyio.lowlevel.checkpoint()
    return closed_in_time


def _set_reset_on_close(sock: socket.socket) -> None:
    """Make closing ``sock`` send a reset: the server's side is gone at once, not left half-open."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class _SocketGuard:
    """The socket of one worker thread's exchange, which the event loop may shut down while the thread blocks on
    it (a shutdown wakes every blocking call on the socket; closing it under the thread would not, and could
    close a reused descriptor)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._finished = False
        self.was_shut_down = False

    def adopt(self, sock: socket.socket) -> None:
        with self._lock:
            self._socket = sock
            if self.was_shut_down:
                _shut_down(sock)

    def release(self, sock: socket.socket, linger_s: float, *, reset: bool) -> bool:
        """Close ``sock`` (``_close_blocking``), and forget it before its descriptor is reused."""
        try:
            return _close_blocking(sock, linger_s, reset=reset)
        finally:
            with self._lock:
                self._socket = None

    def shut_down(self) -> None:
        """End the exchange now, unless the thread has already returned."""
        with self._lock:
            if self._finished:
                return
            self.was_shut_down = True
            if self._socket is not None:
                _shut_down(self._socket)

    def finish(self) -> None:
        """The thread has returned: nothing is left to shut down."""
        with self._lock:
            self._finished = True


def _shut_down(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected yet, or closed already
        sock.shutdown(socket.SHUT_RDWR)


def _call_with_socket(
    connector: ServerConnector, guard: _SocketGuard, fn: Callable[[socket.socket, Unpack[Ts]], T], *args: *Ts
) -> T:
    sock = connector.open_blocking()
    guard.adopt(sock)
    try:
        with handshake_context(connector.handshake):
            return fn(sock, *args)
    finally:
        if not guard.release(sock, _linger_s(connector.timeouts), reset=connector.closes_by_reset):
            connector.closes_by_reset = True


def _close_blocking(sock: socket.socket, linger_s: float, *, reset: bool = False) -> bool:
    """The blocking twin of ``_close_fully``: FIN, wait for the server's, close; or a reset at once, or after a
    wait that ran out. Whether the server closed its side in time (always True with ``reset``)."""
    server_closed = True
    try:
        if not reset:
            server_closed = _server_fin_came(sock, linger_s)
    finally:
        if reset or not server_closed:
            _set_reset_on_close(sock)
        sock.close()
    return server_closed


def _server_fin_came(sock: socket.socket, linger_s: float) -> bool:
    """Send our FIN and wait for the server's, ``linger_s`` in all however the server drips its bytes."""
    deadline = time.monotonic() + linger_s
    try:
        if sock.fileno() == -1:
            return True
        sock.shutdown(socket.SHUT_WR)
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            if not sock.recv(_DRAIN_SIZE):
                return True
    except TimeoutError:
        return False
    except OSError:
        return True  # reset or gone under us: nothing left to wait for
    return False


@asynccontextmanager
async def _optional_hold(permits: ConnectionPermits | None, priority: int) -> AsyncIterator[None]:
    if permits is None:
        yield
        return
    async with permits.hold(priority=priority):
        yield


@asynccontextmanager
async def _optional_slot(limiter: anyio.CapacityLimiter | None) -> AsyncIterator[None]:
    """A token of ``limiter`` for one connection or thread (on behalf of a token of its own: one task may hold
    several connections)."""
    if limiter is None:
        yield
        return
    token = object()
    try:  # without a checkpoint when a token is free, as it mostly is
        limiter.acquire_on_behalf_of_nowait(token)
    except anyio.WouldBlock:
        await limiter.acquire_on_behalf_of(token)
    try:
        yield
    finally:
        limiter.release_on_behalf_of(token)


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
