"""Self-tests of the hostile servers, with plain sockets and Python's ssl only (never tlsprobe's scanner).

Timing is only ever asserted as a bound: "no byte within this long" (a non-event, with a short socket timeout),
"these bytes took at least so many intervals" (the server waits between them, so this cannot race), and
"stop() returned within a few seconds".
"""

from __future__ import annotations

import itertools
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Literal

import pytest

from tests.servers.hostile import (
    THREAD_PREFIX,
    DripAfterFinServer,
    DripHandshakeServer,
    EarlyAnswerHeartbeatServer,
    HostileServer,
    SilentServer,
    endless_records,
    handshake_drip,
)
from tlsprobe.wire import (
    MAX_FRAGMENT_LENGTH,
    AlertDescription,
    AlertLevel,
    ClientHelloSpec,
    ContentType,
    HandshakeType,
    TLSVersion,
    build_client_hello,
    encode_record,
)
from tlsprobe.wire._heartbeat import HeartbeatMessageType, heartbeat_request

INTERVAL_S = 0.05
# Slack for clocks that round: the servers wait on an Event between drips, never less than the interval.
_SLACK = 0.9
_WAIT_S = 5.0


def _connect(server: HostileServer) -> socket.socket:
    """A client connection, once the server has accepted it."""
    accepted = server.accepted_connections  # before connecting: the accept may come before create_connection returns
    client = socket.create_connection(server.address, timeout=_WAIT_S)
    if not server.wait_accepted(accepted + 1):
        client.close()
        pytest.fail("the server did not accept the connection")
    return client


def _receive_exactly(client: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = client.recv(count - len(data))
        assert chunk, f"the server closed after {len(data)} of {count} bytes"
        data += chunk
    return bytes(data)


def _assert_silent(client: socket.socket, within_s: float) -> None:
    client.settimeout(within_s)
    with pytest.raises(TimeoutError):
        client.recv(1)
    client.settimeout(_WAIT_S)


def _assert_stopped(server: HostileServer) -> None:
    assert server.running_threads == 0
    assert server.open_sockets == 0
    assert not [thread for thread in threading.enumerate() if thread.name.startswith(THREAD_PREFIX)]


def _stop_while_connected(server: HostileServer, client: socket.socket) -> None:
    """stop() with the client still connected: prompt, every thread joined, every socket closed, the client
    told (FIN or reset)."""
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 3.0
    _assert_stopped(server)
    client.settimeout(_WAIT_S)
    try:
        while client.recv(65536):  # what a drip sent before the end
            pass
    except ConnectionResetError:
        pass


def _client_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


# -- SilentServer ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_silent_server_sends_nothing_and_never_closes() -> None:
    server = SilentServer().start()
    try:
        with _connect(server) as client:
            client.sendall(b"\x16\x03\x01\x00\x05hello")
            _assert_silent(client, 3 * INTERVAL_S)
            client.shutdown(socket.SHUT_WR)
            _assert_silent(client, 3 * INTERVAL_S)  # not even a FIN after the client's FIN
            assert server.current_connections == 1
            assert server.bytes_sent == 0
            _stop_while_connected(server, client)
    finally:
        server.stop()


@pytest.mark.slow
def test_connections_are_counted_while_open_at_once() -> None:
    with SilentServer() as server:
        clients = [_connect(server) for _ in range(3)]
        assert server.wait_until(lambda s: s.current_connections == 3)
        for client in clients:
            client.close()
        assert server.accepted_connections == 3
        assert server.max_concurrent_connections == 3
    _assert_stopped(server)
    assert server.current_connections == 0


# -- DripAfterFinServer ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_drip_after_fin_server_drips_zeros_after_the_clients_fin() -> None:
    server = DripAfterFinServer(INTERVAL_S).start()
    try:
        with _connect(server) as client:
            client.sendall(b"\x16\x03\x01\x00\x05hello")
            _assert_silent(client, 3 * INTERVAL_S)  # nothing before the FIN
            started = time.monotonic()
            client.shutdown(socket.SHUT_WR)
            assert _receive_exactly(client, 4) == b"\x00" * 4
            assert time.monotonic() - started >= 3 * INTERVAL_S * _SLACK
            assert server.fins_received == 1
            assert server.current_connections == 1  # still open, still dripping
            _stop_while_connected(server, client)
    finally:
        server.stop()


@pytest.mark.slow
def test_the_drip_after_fin_server_answers_the_hello_then_drips_an_endless_record() -> None:
    server = DripAfterFinServer(INTERVAL_S, answer_hello=True).start()
    try:
        with _connect(server) as client:
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            context = _client_context()
            context.maximum_version = ssl.TLSVersion.TLSv1_2  # a flight that ends with ServerHelloDone
            tls = context.wrap_bio(incoming, outgoing)
            with pytest.raises(ssl.SSLWantReadError):
                tls.do_handshake()
            client.sendall(outgoing.read())  # the ClientHello
            # The server's whole flight: the client then has its own second flight to send (and keeps it).
            while not outgoing.pending:
                data = client.recv(65536)
                assert data
                incoming.write(data)
                with pytest.raises(ssl.SSLWantReadError):
                    tls.do_handshake()
            started = time.monotonic()
            client.shutdown(socket.SHUT_WR)
            header = bytes((ContentType.handshake, 3, 3)) + MAX_FRAGMENT_LENGTH.to_bytes(2, "big")
            assert _receive_exactly(client, 7) == header + b"\x00\x00"
            assert time.monotonic() - started >= 6 * INTERVAL_S * _SLACK
            _stop_while_connected(server, client)
    finally:
        server.stop()


# -- DripHandshakeServer --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_handshake_drip_server_sends_its_flight_one_byte_at_a_time() -> None:
    server = DripHandshakeServer(INTERVAL_S).start()
    try:
        with _connect(server) as client:
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            tls = _client_context().wrap_bio(incoming, outgoing)
            with pytest.raises(ssl.SSLWantReadError):
                tls.do_handshake()
            started = time.monotonic()
            client.sendall(outgoing.read())
            first = _receive_exactly(client, 6)
            assert time.monotonic() - started >= 5 * INTERVAL_S * _SLACK
            # A TLS 1.3 ServerHello record, the real one ssl made.
            assert first[:3] == bytes((ContentType.handshake, 3, 3))
            assert first[5] == HandshakeType.server_hello
            assert server.flights[0].startswith(first)
            assert len(server.flights[0]) > 100
            assert server.bytes_sent < len(server.flights[0])  # the flight is far from out
            _stop_while_connected(server, client)
    finally:
        server.stop()


def test_the_handshake_drip_goes_on_with_an_endless_record_after_the_flight() -> None:
    flight = b"\x16\x03\x03\x00\x01\x02"
    chunks = list(itertools.islice(handshake_drip(flight), len(flight) + 2 * (5 + MAX_FRAGMENT_LENGTH)))
    assert all(len(chunk) == 1 for chunk in chunks)
    sent = b"".join(chunks)
    header = b"\x16\x03\x03" + MAX_FRAGMENT_LENGTH.to_bytes(2, "big")
    record = header + bytes(MAX_FRAGMENT_LENGTH)
    assert sent == flight + record + record
    assert b"".join(itertools.islice(endless_records(ContentType.application_data), 5))[0] == 23


# -- EarlyAnswerHeartbeatServer -------------------------------------------------------------------------------


def _hello(*, heartbeat: bool) -> bytes:
    spec = ClientHelloSpec(
        version=TLSVersion.TLS1_2,
        cipher_suites=(0xC02F, 0x009C),  # ECDHE_RSA_WITH_AES_128_GCM_SHA256, RSA_WITH_AES_128_GCM_SHA256
        groups=(0x001D, 0x0017),  # x25519, secp256r1
        heartbeat=heartbeat,
    )
    return build_client_hello(spec)


def _records(client: socket.socket) -> Iterator[tuple[int, bytes]]:
    """(content type, payload) of each record until the server closes."""
    buffer = b""
    while True:
        while len(buffer) >= 5 and len(buffer) >= 5 + int.from_bytes(buffer[3:5], "big"):
            end = 5 + int.from_bytes(buffer[3:5], "big")
            yield buffer[0], buffer[5:end]
            buffer = buffer[end:]
        data = client.recv(65536)
        if not data:
            assert not buffer
            return
        buffer += data


def _handshake_types(payloads: list[bytes]) -> list[int]:
    stream = b"".join(payloads)
    types = []
    while stream:
        types.append(stream[0])
        stream = stream[4 + int.from_bytes(stream[1:4], "big") :]
    return types


_HEARTBEAT = heartbeat_request(b"0123456789abcdef", declared_length=0x4000)
_UNEXPECTED = encode_record(ContentType.handshake, 0x0303, b"\xfe\x00\x00\x00")

_EarlyCheck = Callable[[list[tuple[int, bytes]]], None]


def _is_leaking_heartbeat_response(early: list[tuple[int, bytes]]) -> None:
    assert {content_type for content_type, _ in early} == {ContentType.heartbeat}
    message = b"".join(payload for _, payload in early)  # 16 KiB and more: two records
    assert message[0] == HeartbeatMessageType.heartbeat_response
    assert int.from_bytes(message[1:3], "big") == 0x4000
    assert len(message) == 3 + 0x4000 + 16


def _is_fatal_unexpected_message(early: list[tuple[int, bytes]]) -> None:
    assert early == [(ContentType.alert, bytes((AlertLevel.fatal, AlertDescription.unexpected_message)))]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answer", "check"), [("heartbeat", _is_leaking_heartbeat_response), ("alert", _is_fatal_unexpected_message)]
)
def test_the_early_answer_server_answers_a_pipelined_heartbeat_before_its_flight(
    answer: Literal["heartbeat", "alert"], check: _EarlyCheck
) -> None:
    with EarlyAnswerHeartbeatServer(answer=answer) as server, _connect(server) as client:
        client.sendall(_hello(heartbeat=True) + encode_record(ContentType.heartbeat, 0x0303, _HEARTBEAT) + _UNEXPECTED)
        client.shutdown(socket.SHUT_WR)
        records = list(_records(client))
        first_handshake = next(
            index for index, (content_type, _) in enumerate(records) if content_type == ContentType.handshake
        )
        check(records[:first_handshake])
        flight = records[first_handshake:-1]
        assert all(content_type == ContentType.handshake for content_type, _ in flight)
        assert _handshake_types([payload for _, payload in flight]) == [
            HandshakeType.server_hello,
            HandshakeType.certificate,
            HandshakeType.server_key_exchange,
            HandshakeType.server_hello_done,
        ]
        # ssl's own answer to the handshake message nobody expects, then the end.
        assert records[-1] == (ContentType.alert, bytes((AlertLevel.fatal, AlertDescription.unexpected_message)))
        assert server.early_answers == 1
    _assert_stopped(server)


@pytest.mark.slow
def test_the_early_answer_server_sends_its_flight_after_holding_it_when_no_heartbeat_comes() -> None:
    with EarlyAnswerHeartbeatServer(hold_s=2 * INTERVAL_S) as server, _connect(server) as client:
        client.sendall(_hello(heartbeat=True))
        records = _records(client)
        content_type, payload = next(records)
        assert content_type == ContentType.handshake
        assert payload[0] == HandshakeType.server_hello
        assert server.early_answers == 0
        _stop_while_connected(server, client)


@pytest.mark.slow
def test_the_early_answer_server_answers_a_hello_without_the_extension_at_once() -> None:
    with EarlyAnswerHeartbeatServer(hold_s=60.0) as server, _connect(server) as client:
        client.sendall(_hello(heartbeat=False))
        client.settimeout(_WAIT_S)  # far less than hold_s: no holding without the extension
        content_type, payload = next(_records(client))
        assert (content_type, payload[0]) == (ContentType.handshake, HandshakeType.server_hello)
        _stop_while_connected(server, client)
