"""The sans-I/O negotiators (STARTTLS and HTTP CONNECT) against scripted byte exchanges, and their two drivers
against real sockets. Real daemons are in test_starttls.py."""

from __future__ import annotations

import re
import socket
import struct
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence

import anyio
import pytest

from tlsprobe import ResponseTimeoutError
from tlsprobe._model._config import HttpProxy, StartTLS, effective_starttls
from tlsprobe._net import ProxyAuthenticationError, ProxyError, StartTLSError
from tlsprobe._net._negotiation import MAX_NEGOTIATION_BYTES, Negotiator, negotiate, negotiate_blocking
from tlsprobe._net._proxy import HttpConnectNegotiator
from tlsprobe._net.starttls import (
    FTPNegotiator,
    IMAPNegotiator,
    LDAPNegotiator,
    POP3Negotiator,
    PostgresNegotiator,
    RDPNegotiator,
    SMTPNegotiator,
    XMPPNegotiator,
    starttls_negotiator,
)
from tlsprobe._net.starttls._ldap import STARTTLS_REQUEST
from tlsprobe._net.starttls._rdp import CONNECTION_REQUEST


def run_script(negotiator: Negotiator, replies: Sequence[bytes], *, chunk: int | None = None) -> list[bytes]:
    """Feed each server reply (split into ``chunk``-byte pieces, if given); return everything the client sent."""
    sent = [negotiator.start()]
    for reply in replies:
        pieces = [reply[i : i + chunk] for i in range(0, len(reply), chunk)] if chunk else [reply]
        for piece in pieces:
            sent.append(negotiator.receive(piece))
    return [data for data in sent if data]


SMTP_HAPPY = [
    b"220 mail.example ESMTP Postfix\r\n",
    b"250-mail.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
    b"220 2.0.0 Ready to start TLS\r\n",
]


@pytest.mark.parametrize("chunk", [None, 1, 7])
def test_smtp_says_ehlo_then_starttls_however_the_replies_are_split(chunk: int | None) -> None:
    negotiator = SMTPNegotiator("scanner.example")
    assert run_script(negotiator, SMTP_HAPPY, chunk=chunk) == [b"EHLO scanner.example\r\n", b"STARTTLS\r\n"]
    assert negotiator.done


@pytest.mark.parametrize(
    ("replies", "message"),
    [
        ([b"554 5.3.2 go away\r\n"], "SMTP: the server refused the session: '554 5.3.2 go away'"),
        (
            [SMTP_HAPPY[0], b"504 5.5.2 <x>: Helo command rejected\r\n"],
            "SMTP: the server refused EHLO scanner.example: '504 5.5.2 <x>: Helo command rejected'",
        ),
        (
            [*SMTP_HAPPY[:2], b"454 4.7.0 TLS not available due to local problem\r\n"],
            "SMTP: the server refused STARTTLS: '454 4.7.0 TLS not available due to local problem'",
        ),
        ([b"HTTP/1.1 400 Bad Request\r\n"], "SMTP: the server's reply is not a SMTP reply: 'HTTP/1.1 400 Bad Request'"),
    ],
)
def test_smtp_refusals_quote_the_server(replies: list[bytes], message: str) -> None:
    with pytest.raises(StartTLSError) as raised:
        run_script(SMTPNegotiator("scanner.example"), replies)
    assert str(raised.value) == message


def test_data_after_the_go_ahead_is_an_error() -> None:
    with pytest.raises(StartTLSError, match="sent data after agreeing to start TLS: '250 surprise'"):
        run_script(SMTPNegotiator("x.example"), [*SMTP_HAPPY[:2], b"220 go ahead\r\n250 surprise\r\n"])


def test_replies_are_bounded_in_size() -> None:
    negotiator = SMTPNegotiator("x.example")
    negotiator.start()
    negotiator.receive(b"220-" + b"a" * (MAX_NEGOTIATION_BYTES - 10))
    with pytest.raises(StartTLSError, match=f"more than {MAX_NEGOTIATION_BYTES} bytes"):
        negotiator.receive(b"a" * 20)


def test_imap_skips_untagged_data_and_quotes_a_refusal() -> None:
    negotiator = IMAPNegotiator()
    replies = [b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", b"* CAPABILITY IMAP4rev1\r\ntp1 OK Begin TLS\r\n"]
    assert run_script(negotiator, replies) == [b"tp1 STARTTLS\r\n"]
    assert negotiator.done
    with pytest.raises(StartTLSError, match="IMAP: the server refused STARTTLS: 'tp1 BAD Unknown command'"):
        run_script(IMAPNegotiator(), [replies[0], b"tp1 BAD Unknown command\r\n"])
    with pytest.raises(StartTLSError, match="IMAP: the server refused the session: '\\* BYE too many'"):
        run_script(IMAPNegotiator(), [b"* BYE too many\r\n"])


def test_pop3_stls() -> None:
    negotiator = POP3Negotiator()
    assert run_script(negotiator, [b"+OK Dovecot ready.\r\n", b"+OK Begin TLS negotiation now.\r\n"]) == [b"STLS\r\n"]
    assert negotiator.done
    with pytest.raises(StartTLSError, match=re.escape("POP3: the server refused STLS: '-ERR Unknown command.'")):
        run_script(POP3Negotiator(), [b"+OK ready\r\n", b"-ERR Unknown command.\r\n"])


def test_ftp_skips_preliminary_replies_and_reads_multiline_ones() -> None:
    negotiator = FTPNegotiator()
    replies = [b"120 ready in 1 minute\r\n", b"220-Welcome\r\nfree text\r\n220 ready\r\n", b"234 Proceed.\r\n"]
    assert run_script(negotiator, replies, chunk=3) == [b"AUTH TLS\r\n"]
    assert negotiator.done
    with pytest.raises(
        StartTLSError, match=re.escape("FTP: the server refused AUTH TLS: '530 Please login with USER and PASS.'")
    ):
        run_script(FTPNegotiator(), [b"220 hi\r\n", b"530 Please login with USER and PASS.\r\n"])


_STREAM_OPEN = (
    b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    b"id='abc' from='example.org' version='1.0'>"
)
_FEATURES_TLS = (
    b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
)


@pytest.mark.parametrize("server_to_server", [False, True])
def test_xmpp_reads_the_features_and_waits_for_proceed(server_to_server: bool) -> None:
    negotiator = XMPPNegotiator("example.org", server_to_server=server_to_server)
    replies = [_STREAM_OPEN, _FEATURES_TLS, b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"]
    sent = run_script(negotiator, replies, chunk=5)
    assert b'to="example.org"' in sent[0]
    assert (b"xmlns='jabber:server'" in sent[0]) is server_to_server
    assert sent[1] == b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    assert negotiator.done


@pytest.mark.parametrize(
    ("replies", "message"),
    [
        (
            [
                _STREAM_OPEN,
                b"<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                b"<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>no such host</text></stream:error>",
            ],
            "XMPP: the server closed the stream with an error: '<error> host-unknown, text: no such host'",
        ),
        (
            [_STREAM_OPEN, b"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"],
            "XMPP: the server does not offer STARTTLS: '<features> bind'",
        ),
        (
            [_STREAM_OPEN, _FEATURES_TLS, b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"],
            "XMPP: the server refused STARTTLS: '<failure>'",
        ),
        ([b"<html><body>"], "XMPP: the server did not open an XMPP stream: <html>"),
        ([b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]>"], "XMPP: the server sent a declaration XMPP forbids"),
    ],
)
def test_xmpp_refusals(replies: list[bytes], message: str) -> None:
    with pytest.raises(StartTLSError) as raised:
        run_script(XMPPNegotiator("example.org", server_to_server=False), replies)
    assert str(raised.value).startswith(message)


def _ldap_response(result_code: int, diagnostic: bytes = b"", name: bytes | None = None) -> bytes:
    def tlv(tag: int, value: bytes) -> bytes:
        return bytes([tag, len(value)]) + value

    fields = tlv(0x0A, bytes([result_code])) + tlv(0x04, b"") + tlv(0x04, diagnostic)
    if name is not None:
        fields += tlv(0x8A, name)
    return tlv(0x30, tlv(0x02, b"\x01") + tlv(0x78, fields))


def test_ldap_extended_operation() -> None:
    assert bytes.fromhex("301d02010177188016") + b"1.3.6.1.4.1.1466.20037" == STARTTLS_REQUEST
    negotiator = LDAPNegotiator()
    assert run_script(negotiator, [_ldap_response(0, name=b"1.3.6.1.4.1.1466.20037")], chunk=4) == [STARTTLS_REQUEST]
    assert negotiator.done
    with pytest.raises(StartTLSError, match="LDAP: the server refused StartTLS: unavailable \\(52\\), 'no TLS here'"):
        run_script(LDAPNegotiator(), [_ldap_response(52, b"no TLS here")])
    with pytest.raises(StartTLSError, match="LDAP: the server disconnected: protocolError"):
        run_script(LDAPNegotiator(), [_ldap_response(2, b"bye", b"1.3.6.1.4.1.1466.20036")])
    with pytest.raises(StartTLSError, match="not an LDAP response"):
        run_script(LDAPNegotiator(), [b"SSH-2.0-OpenSSH_9.2\r\n"])


def test_postgres_ssl_request() -> None:
    negotiator = PostgresNegotiator()
    assert run_script(negotiator, [b"S"]) == [struct.pack(">II", 8, 80877103)]
    assert negotiator.done
    with pytest.raises(StartTLSError, match="does not accept TLS \\(it answered 'N' to SSLRequest\\)"):
        run_script(PostgresNegotiator(), [b"N"])


def _rdp_confirm(negotiation: bytes) -> bytes:
    x224 = bytes([6 + len(negotiation), 0xD0, 0, 0, 0x12, 0x34, 0]) + negotiation
    return struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224


def test_rdp_negotiation() -> None:
    assert bytes.fromhex("030000130ee000000000000100080003000000") == CONNECTION_REQUEST
    negotiator = RDPNegotiator()
    assert run_script(negotiator, [_rdp_confirm(struct.pack("<BBHI", 2, 0, 8, 1))], chunk=6) == [CONNECTION_REQUEST]
    assert negotiator.done
    with pytest.raises(StartTLSError, match="RDP Negotiation Failure SSL_NOT_ALLOWED_BY_SERVER"):
        run_script(RDPNegotiator(), [_rdp_confirm(struct.pack("<BBHI", 3, 0, 8, 2))])
    with pytest.raises(StartTLSError, match="only offers standard RDP security"):
        run_script(RDPNegotiator(), [_rdp_confirm(b"")])


def test_http_connect() -> None:
    negotiator = HttpConnectNegotiator(HttpProxy.parse("http://alice:s%3Acret@proxy.example:3128"), "::1", 443)
    sent = run_script(negotiator, [b"HTTP/1.1 200 Connection established\r\nX-A: b\r\n\r\n"], chunk=9)
    assert sent == [
        b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\nProxy-Authorization: Basic YWxpY2U6czpjcmV0\r\n\r\n"
    ]
    assert negotiator.done
    anonymous = HttpProxy.parse("http://127.0.0.1:3128")
    with pytest.raises(ProxyAuthenticationError, match=r"requires credentials .*'HTTP/1\.1 407 Proxy Auth"):
        run_script(HttpConnectNegotiator(anonymous, "a.example", 443), [b"HTTP/1.1 407 Proxy Auth\r\n\r\n"])
    with pytest.raises(ProxyError, match=re.escape("refused the tunnel to a.example:25: 'HTTP/1.1 403 Forbidden'")):
        run_script(HttpConnectNegotiator(anonymous, "a.example", 25), [b"HTTP/1.1 403 Forbidden\r\n\r\n"])


def test_auto_picks_the_protocol_from_the_port() -> None:
    assert [
        effective_starttls(StartTLS.AUTO, port) for port in (25, 587, 110, 143, 21, 389, 5222, 5269, 5432, 3389)
    ] == [
        StartTLS.SMTP,
        StartTLS.SMTP,
        StartTLS.POP3,
        StartTLS.IMAP,
        StartTLS.FTP,
        StartTLS.LDAP,
        StartTLS.XMPP,
        StartTLS.XMPP_SERVER,
        StartTLS.POSTGRES,
        StartTLS.RDP,
    ]
    assert effective_starttls(StartTLS.AUTO, 443) is StartTLS.NONE
    assert effective_starttls(StartTLS.IMAP, 25) is StartTLS.IMAP
    assert starttls_negotiator(StartTLS.NONE, xmpp_domain="x", ehlo_name="y") is None


@pytest.fixture
def scripted_server() -> Iterator[Callable[[Sequence[bytes]], tuple[int, list[bytes]]]]:
    """A real TCP server on loopback that sends each scripted reply after reading something (the first one at
    once), then stays silent; an empty reply closes the connection instead. Returns its port and what it
    received."""
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(replies: Sequence[bytes]) -> tuple[int, list[bytes]]:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)
        received: list[bytes] = []

        def serve() -> None:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                for index, reply in enumerate(replies):
                    if index:
                        received.append(connection.recv(4096))
                    if not reply:
                        return
                    connection.sendall(reply)
                try:
                    while data := connection.recv(4096):  # silent from now on, until the client hangs up
                        received.append(data)
                except OSError:
                    pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return listener.getsockname()[1], received

    yield start
    for listener in listeners:
        listener.close()
    for thread in threads:
        thread.join(5)


@pytest.mark.anyio
async def test_async_driver_bounds_each_exchange_in_time(
    scripted_server: Callable[[Sequence[bytes]], tuple[int, list[bytes]]],
) -> None:
    port, received = scripted_server([SMTP_HAPPY[0], SMTP_HAPPY[1]])  # then no answer to STARTTLS
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        with pytest.raises(ResponseTimeoutError, match=re.escape("SMTP: no answer from the server within 0.3 s")):
            await negotiate(stream, [SMTPNegotiator("x.example")], 0.3)
    assert received[:2] == [b"EHLO x.example\r\n", b"STARTTLS\r\n"]


def test_blocking_driver_reports_a_close_with_the_last_words(
    scripted_server: Callable[[Sequence[bytes]], tuple[int, list[bytes]]],
) -> None:
    port, received = scripted_server([b"+OK hello\r\n", b""])
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock, pytest.raises(StartTLSError) as raised:
        negotiate_blocking(sock, [POP3Negotiator()], 2.0)
    assert str(raised.value) == "POP3: the server closed the connection before TLS started; it last said '+OK hello'"
    assert received == [b"STLS\r\n"]


def test_blocking_driver_completes_an_exchange(
    scripted_server: Callable[[Sequence[bytes]], tuple[int, list[bytes]]],
) -> None:
    port, received = scripted_server([b"* OK ready\r\n", b"tp1 OK go\r\n"])
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        negotiate_blocking(sock, [IMAPNegotiator()], 2.0)
    assert received[0] == b"tp1 STARTTLS\r\n"


def test_xmpp_escapes_the_domain_in_the_stream_header() -> None:
    domain = "a&b<c>\"d'\te"
    header = XMPPNegotiator(domain, server_to_server=False).start()
    # The header is an open element: closed here, an XML parser must read the domain back unchanged.
    element = ET.fromstring(header + b"</stream:stream>")
    assert element.get("to") == domain
