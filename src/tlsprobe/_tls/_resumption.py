"""Session resumption and TLS 1.3 early data through nassl full handshakes; each function is one connection.

How a resumption is recognised. nassl shows an ``SSL_SESSION`` only as OpenSSL's text dump (``as_text()``), so
the dump is parsed. After a handshake that offered a session, OpenSSL keeps the offered session object exactly
when the server resumed it (under TLS <= 1.2 when the ServerHello echoes the offered session ID, OpenSSL's own
test; under TLS 1.3 when the server accepts the PSK); otherwise it starts a new session with a freshly derived
secret. So: **a connection resumed iff its session, read right after the handshake, has the offered session's
secret** (``Master-Key`` under TLS <= 1.2, ``Resumption PSK`` under TLS 1.3). The session IDs then match too,
except when a server renews a TLS 1.2 ticket during the resumption: OpenSSL then names the session after the
new ticket, which is why the secret, not the ID, decides.

Session ID or ticket? The session ID test runs with the client's ticket support off, so only the server's
session cache can resume. For the ticket test, OpenSSL sets the ID of a ticket session to the SHA-256 of the
ticket (RFC 5077 §3.4 lets a client send any ID to learn whether the ticket was accepted): the server never
issued that ID, so only the ticket can resume such a session, even on a server that has a session cache too.

TLS 1.3 tickets arrive after the handshake, and nassl only processes them on a read: the records the server
sends are fed to OpenSSL until the session changes (a ticket was taken) or a short wait ends, so a server that
sends tickets at once costs no timeout.

Every connection ends with the client's last flight and a close_notify: OpenSSL and GnuTLS servers drop a cached
session when the connection that made it ends without one, which would turn a resumable server into one that
"does not resume".
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from typing import Any

import attrs
from nassl._nassl import OpenSSLError, WantReadError
from nassl.ssl_client import BaseSslClient, OpenSslEarlyDataStatusEnum

from tlsprobe._tls._clients import modern_client, new_client
from tlsprobe._tls._errors import translated_errors
from tlsprobe.wire._versions import TLSVersion

TICKET_WAIT_S = 2.0
"""How long to wait for a TLS 1.3 NewSessionTicket after the handshake (capped by the read timeout)."""

_RECV_SIZE = 16384

_SESSION_ID = re.compile(r"^\s*Session-ID:[ \t]*([0-9A-Fa-f]*)[ \t]*$", re.MULTILINE)
_SECRET = re.compile(r"^\s*(?:Master-Key|Resumption PSK):[ \t]*([0-9A-Fa-f]*)[ \t]*$", re.MULTILINE)
_TICKET = re.compile(r"^\s*TLS session ticket:", re.MULTILINE)
_LIFETIME_HINT = re.compile(r"^\s*TLS session ticket lifetime hint:[ \t]*(\d+)", re.MULTILINE)
_CIPHER = re.compile(r"^\s*Cipher\s*:[ \t]*(\S*)[ \t]*$", re.MULTILINE)
_COMPRESSION = re.compile(r"^\s*Compression:[ \t]*(\d+)", re.MULTILINE)
_EXTENDED_MASTER_SECRET = re.compile(r"^\s*Extended master secret:[ \t]*yes[ \t]*$", re.MULTILINE)
# The ticket's hex dump (BIO_dump_indent): "    0000 - 25 d3 f3 68 36 98 a7 ba-ab 1b 43 ae 3b 8f 59 0e   %..h6...".
_TICKET_DUMP = re.compile(r"^\s*TLS session ticket:[ \t]*\n((?:[ \t]*[0-9a-f]{4,} - .*\n?)+)", re.MULTILINE)
_DUMP_BYTES = re.compile(r"^[ \t]*[0-9a-f]{4,} - ((?:[0-9a-f]{2}[ -]){0,15}[0-9a-f]{2})", re.MULTILINE)


@attrs.frozen(kw_only=True)
class SessionDetails:
    """What OpenSSL's text dump of a session (``SSL_SESSION_print``) says that resumption needs."""

    session_id: str
    """The session ID in upper-case hex; empty when the session has none."""
    secret: str
    """The master secret (TLS <= 1.2) or resumption PSK (TLS 1.3) in upper-case hex; empty when none yet."""
    has_ticket: bool
    """The session holds a ticket from the server."""
    ticket_lifetime_hint_s: float | None
    """The lifetime hint sent with the ticket; None without a ticket."""
    cipher_suite: str = ""
    """OpenSSL's name of the session's cipher suite; empty when the dump has none."""
    ticket: bytes = b""
    """The ticket itself; empty without a ticket, or when its dump could not be read."""
    extended_master_secret: bool = False
    """The session's master secret is an extended one (RFC 7627)."""
    compression_method: int = 0
    """The session's compression method (0: none; 1: DEFLATE); a resumption must offer it."""


def parse_session_text(text: str) -> SessionDetails:
    """Parse ``SSL_SESSION.as_text()``; missing lines read as empty (no ID, no secret, no ticket)."""
    session_id = _SESSION_ID.search(text)
    secret = _SECRET.search(text)
    hint = _LIFETIME_HINT.search(text)
    has_ticket = _TICKET.search(text) is not None
    cipher = _CIPHER.search(text)
    compression = _COMPRESSION.search(text)
    return SessionDetails(
        session_id=session_id[1].upper() if session_id else "",
        secret=secret[1].upper() if secret else "",
        has_ticket=has_ticket,
        ticket_lifetime_hint_s=float(hint[1]) if hint and has_ticket else None,
        cipher_suite=cipher[1] if cipher else "",
        ticket=_ticket_bytes(text) if has_ticket else b"",
        extended_master_secret=_EXTENDED_MASTER_SECRET.search(text) is not None,
        compression_method=int(compression[1]) if compression else 0,
    )


def _ticket_bytes(text: str) -> bytes:
    dump = _TICKET_DUMP.search(text)
    if dump is None:
        return b""
    return b"".join(bytes.fromhex(row.replace("-", " ")) for row in _DUMP_BYTES.findall(dump[1]))


def session_resumed(offered: SessionDetails, after_handshake: SessionDetails) -> bool:
    """Whether the handshake resumed ``offered``: its session right after the handshake kept the offered secret."""
    return bool(offered.secret) and after_handshake.secret == offered.secret


@attrs.frozen(kw_only=True)
class TLSSession:
    """A session a later handshake can offer. Opaque outside this package: it holds nassl's ``SSL_SESSION``."""

    version: TLSVersion
    """The protocol version it was made with."""
    details: SessionDetails
    """What its text dump says."""
    max_early_data: int
    """The early data its TLS 1.3 ticket allows, in bytes (0 without a ticket, and below TLS 1.3)."""
    _handle: Any = attrs.field(repr=False, eq=False)


@attrs.frozen(kw_only=True)
class ResumptionHandshake:
    """One handshake, which may have offered a session."""

    resumed: bool
    """The server resumed the session offered (False when none was)."""
    session: TLSSession
    """The session to offer next: the connection's own, with the newest ticket it received."""


def resumption_handshake(
    sock: socket.socket,
    version: TLSVersion,
    server_name: str | None,
    offered: TLSSession | None,
    use_tickets: bool,
    ticket_wait_s: float,
) -> ResumptionHandshake:
    """A handshake at ``version`` offering ``offered`` (a full one when None). ``use_tickets`` False turns the
    client's ticket support off (TLS <= 1.2). Under TLS 1.3, with ``ticket_wait_s`` > 0, waits that long at most
    for a NewSessionTicket; with 0 the session is taken as it is right after the handshake."""
    with translated_errors():
        client = new_client(sock, version, server_name, ignore_client_auth=True)
        if not use_tickets:
            client.disable_stateless_session_resumption()
        if offered is not None:
            client.set_session(offered._handle)
        client.do_handshake()
        after = parse_session_text(client.get_session().as_text())
        resumed = offered is not None and session_resumed(offered.details, after)
        # The client's Finished and a close_notify go together (nassl leaves the Finished in its BIO). Under TLS
        # 1.3 the server sends its tickets once it has the Finished, then answers the close_notify, so the tickets
        # and the server's close come in one round trip, not two. An orderly close keeps the session.
        _close_politely(client)
        if version is TLSVersion.TLS1_3 and ticket_wait_s > 0:
            _await_ticket(client, sock, after, ticket_wait_s)
        session = _session_of(client, version)
    return ResumptionHandshake(resumed=resumed, session=session)


@attrs.frozen(kw_only=True)
class EarlyDataAttempt:
    """One resumption that sent early data."""

    resumed: bool
    """The server resumed the session."""
    accepted: bool
    """The server accepted the early data (its EncryptedExtensions carried ``early_data``)."""


def early_data_handshake(
    sock: socket.socket, server_name: str | None, offered: TLSSession, payload: bytes
) -> EarlyDataAttempt:
    """Resume ``offered`` (a TLS 1.3 session whose ticket allows early data), sending ``payload`` as 0-RTT data
    (cut to the size the ticket allows)."""
    with translated_errors():
        client = modern_client(sock, TLSVersion.TLS1_3, server_name, ignore_client_auth=True)
        client.set_session(offered._handle)
        client.write_early_data(payload[: offered.max_early_data])
        client.do_handshake()
        accepted = client.get_early_data_status() == OpenSslEarlyDataStatusEnum.ACCEPTED
        after = parse_session_text(client.get_session().as_text())
        _close_politely(client)
    return EarlyDataAttempt(resumed=session_resumed(offered.details, after), accepted=accepted)


def _session_of(client: BaseSslClient, version: TLSVersion) -> TLSSession:
    handle = client.get_session()
    details = parse_session_text(handle.as_text())
    # Only OpenSSL 1.1.1 sessions know about early data; a ticketless session allows none whatever it says.
    max_early_data = int(handle.get_max_early_data()) if version is TLSVersion.TLS1_3 and details.has_ticket else 0
    return TLSSession(version=version, details=details, max_early_data=max_early_data, handle=handle)


def _await_ticket(client: BaseSslClient, sock: socket.socket, before: SessionDetails, wait_s: float) -> bool:
    """Feed what the server sends after the handshake to OpenSSL until a NewSessionTicket replaced the session
    (True) or ``wait_s`` (at most the socket's timeout) passed, the server closed, or it sent an alert (False)."""
    timeout = sock.gettimeout()
    deadline = time.monotonic() + (wait_s if timeout is None else min(wait_s, timeout))
    try:
        while True:
            try:
                # Reaching into nassl's BIO pair is the only way to process records without blocking for more.
                client._ssl.read(_RECV_SIZE)  # application data, if any, is not ours to keep
                ended = False
            except WantReadError:
                ended = False  # every complete record was processed
            except OpenSSLError:
                ended = True  # close_notify or an alert: no more ticket is coming, but one may have come before it
            current = parse_session_text(client.get_session().as_text())
            if current.has_ticket and current != before:
                return True
            if ended:
                return False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            sock.settimeout(remaining)
            try:
                data = sock.recv(_RECV_SIZE)
            except TimeoutError:
                return False
            if not data:
                return False
            client._network_bio.write(data)
    finally:
        sock.settimeout(timeout)


def _close_politely(client: BaseSslClient) -> None:
    """Send the client's last flight and a close_notify, leaving the socket to its owner. Best effort: the
    observation is made, and a server that hangs up first has nothing left to lose."""
    with contextlib.suppress(OSError):
        client._flush_ssl_engine()
        with contextlib.suppress(OpenSSLError):  # "shutdown while in init" and the like
            client._ssl.shutdown()
        client._flush_ssl_engine()
