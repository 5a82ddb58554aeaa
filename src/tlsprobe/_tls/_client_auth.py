"""Does the server request or require a client certificate? Learned from full handshakes, without a client cert.

Under TLS <= 1.2 the CertificateRequest is visible in the native probe, and a server that requires a certificate
refuses the handshake before its Finished. Under TLS 1.3 the request is encrypted, so a real handshake is needed,
and a server that requires a certificate only says so (an alert) after the client's Finished. Rather than waiting
for a read to time out (SSLyze's way), the first record the server sends after the handshake is decrypted: an
alert means "required"; a NewSessionTicket, which almost every TLS 1.3 server sends at once, means "optional".
"""

from __future__ import annotations

import socket

import attrs
from nassl._nassl import OpenSSLError, WantReadError
from nassl.ssl_client import BaseSslClient, ClientCertificateRequested

from tlsprobe._tls._clients import new_client
from tlsprobe._tls._errors import translated_errors
from tlsprobe.wire._versions import TLSVersion


@attrs.frozen
class ClientAuthObservation:
    """What one handshake without a client certificate showed."""

    requested: bool
    """The server sent a CertificateRequest."""
    completed: bool
    """The handshake (and, under TLS 1.3, the server's first post-handshake record) went through."""


def observe_client_auth(
    sock: socket.socket,
    version: TLSVersion,
    server_name: str | None,
    send_empty_certificate: bool,
    offer_identity: bool = False,
) -> ClientAuthObservation:
    """One handshake at ``version``. With ``send_empty_certificate`` a request is answered with no certificate
    (with ``offer_identity``, with the user's certificate instead); without it, a request stops the handshake at
    once (it is only detected)."""
    with translated_errors():
        client = new_client(
            sock, version, server_name, ignore_client_auth=send_empty_certificate, offer_identity=offer_identity
        )
        try:
            client.do_handshake()
        except ClientCertificateRequested:
            return ClientAuthObservation(requested=True, completed=False)
        except OpenSSLError:
            if send_empty_certificate:
                return ClientAuthObservation(requested=True, completed=False)
            raise
        if send_empty_certificate and version is TLSVersion.TLS1_3:
            # nassl leaves the client's last flight (Certificate, Finished) in its BIO once the handshake is done.
            client._flush_ssl_engine()
            return ClientAuthObservation(requested=True, completed=_tls13_server_accepted(client, sock))
        return ClientAuthObservation(requested=send_empty_certificate, completed=True)


def _tls13_server_accepted(client: BaseSslClient, sock: socket.socket) -> bool:
    try:
        data = sock.recv(16384)
    except TimeoutError:
        return True  # no alert came: the server is waiting for application data
    if not data:
        return False  # hung up on us without even an alert
    # Reaching into nassl's BIO pair is the only way to decrypt one record without blocking for more.
    client._network_bio.write(data)
    try:
        client._ssl.read(1)
    except WantReadError:
        return True  # a NewSessionTicket (or a partial record): no alert
    except OpenSSLError:
        return False
    return True
