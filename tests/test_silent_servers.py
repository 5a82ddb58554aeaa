"""Servers that accept connections and never answer: a handful of connections, no retry, a clear error; while a
server that answered anything at all is still retried like any other."""

from __future__ import annotations

import select
import socket
import threading
from types import TracebackType
from typing import Self

import anyio
import pytest

from tlsprobe import ConnectivityFailed, ErrorKind, Limits, ScanConfig, Scanner, Timeouts
from tlsprobe._exceptions import ConnectionClosedError, ResponseTimeoutError
from tlsprobe._net import Attempt, ConnectionPermits
from tlsprobe._net._retries import with_retries

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


class _AcceptAndSilence:
    """Accepts TCP connections on 127.0.0.1, sends each one ``greeting`` (nothing by default), then neither reads,
    writes nor closes until stopped. ``accepted`` counts every connection the kernel completed, read once stopped.
    """

    def __init__(self, greeting: bytes = b"") -> None:
        self._greeting = greeting
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._wake, self._waker = socket.socketpair()
        self._connections: list[socket.socket] = []
        self.accepted = 0
        self._thread = threading.Thread(target=self._run, name="accept-and-silence", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._waker.send(b"x")
        self._thread.join()
        for sock in (*self._connections, self._listener, self._wake, self._waker):
            sock.close()

    def _run(self) -> None:
        while True:
            readable, _, _ = select.select([self._listener, self._wake], [], [])
            if self._listener in readable:
                self._accept()
            if self._wake in readable:
                # Connections completed by the kernel but not accepted yet were paid for by the server too.
                self._listener.setblocking(False)
                while self._accept():
                    pass
                return

    def _accept(self) -> bool:
        try:
            connection, _ = self._listener.accept()
        except BlockingIOError:
            return False
        self.accepted += 1
        self._connections.append(connection)
        if self._greeting:
            connection.sendall(self._greeting)
        return True


async def test_a_silent_server_costs_at_most_four_connections_and_fails_with_a_clear_timeout() -> None:
    scanner = Scanner(ScanConfig(timeouts=Timeouts(read_s=0.5, connect_s=2)))
    with _AcceptAndSilence() as server:
        result = await scanner.scan_server(f"127.0.0.1:{server.port}")  # every default check
    connectivity = result.connectivity
    assert isinstance(connectivity, ConnectivityFailed)
    assert connectivity.error.kind is ErrorKind.TIMEOUT
    assert connectivity.error.message == "the server accepted the connection but sent nothing within 0.5 s"
    assert result.checks == ()
    # The first contact and three probes beside it; none retried, and the other early hellos never went.
    assert 1 <= server.accepted <= 4
    assert connectivity.cost.connections <= 4
    assert connectivity.cost.retries == 0
    assert scanner.statistics().retries == 0


async def test_a_server_that_sent_a_byte_is_retried_when_it_then_falls_silent() -> None:
    scanner = Scanner(ScanConfig(timeouts=Timeouts(read_s=0.3, connect_s=2), limits=Limits(max_retries=1)))
    with _AcceptAndSilence(greeting=b"\x16") as server:  # the first byte of a handshake record, then nothing
        result = await scanner.scan_server(f"127.0.0.1:{server.port}", [])
    connectivity = result.connectivity
    assert isinstance(connectivity, ConnectivityFailed)
    assert connectivity.error.kind is ErrorKind.TIMEOUT
    assert connectivity.error.message.startswith("no complete answer from the server")
    assert connectivity.cost.retries >= 1  # it answered something: a timeout may be load, and is tried again
    assert server.accepted > 2


async def _retries_of_a_timeout(permits: ConnectionPermits, *, first_contact: bool) -> int:
    tries = 0

    async def time_out(attempt: Attempt) -> None:
        nonlocal tries
        tries += 1
        raise ResponseTimeoutError("no answer in time")

    with pytest.raises(ResponseTimeoutError):
        await with_retries(permits, time_out, max_retries=1, on_retry=lambda: None, first_contact=first_contact)
    return tries - 1


async def test_a_timeout_is_retried_only_once_the_server_has_responded() -> None:
    permits = ConnectionPermits(5)
    assert await _retries_of_a_timeout(permits, first_contact=True) == 0
    assert await _retries_of_a_timeout(permits, first_contact=False) == 0
    responded_to_timeouts = permits.responded

    async def hang_up(attempt: Attempt) -> None:
        raise ConnectionClosedError("server closed the connection without answering")

    with pytest.raises(ConnectionClosedError):  # alone with the server: its answer, raised as is
        await with_retries(permits, hang_up, max_retries=1, on_retry=lambda: None)
    assert not responded_to_timeouts
    assert permits.responded  # a hang-up is not silence
    assert await _retries_of_a_timeout(permits, first_contact=True) == 1
    assert await _retries_of_a_timeout(permits, first_contact=False) == 1


async def test_probes_waiting_for_a_response_go_with_the_first_one() -> None:
    permits = ConnectionPermits(5)
    released: list[int] = []

    async def wait(number: int) -> None:
        await permits.wait_response()
        released.append(number)

    async with anyio.create_task_group() as group:
        group.start_soon(wait, 1)
        group.start_soon(wait, 2)
        await anyio.wait_all_tasks_blocked()
        assert released == []
        permits.record_answer()  # an answer is a response
    assert sorted(released) == [1, 2]
    await permits.wait_response()  # at once, from now on
