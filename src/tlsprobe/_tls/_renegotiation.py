"""Client-initiated renegotiation: how many renegotiations in a row does the server accept on one connection?

Only nassl's legacy client (OpenSSL 1.0.2) can start a renegotiation, so this runs on it, at a version up to
TLS 1.2 (TLS 1.3 has no renegotiation).
"""

from __future__ import annotations

import socket

from nassl._nassl import OpenSSLError

from tlsprobe._tls._clients import legacy_client
from tlsprobe._tls._errors import translated_errors
from tlsprobe.wire._versions import TLSVersion


def count_client_renegotiations(
    sock: socket.socket, version: TLSVersion, server_name: str | None, attempts: int
) -> int:
    """Handshake at ``version``, then renegotiate up to ``attempts`` times; the number that succeeded.

    A refusal (an alert, a closed connection, or no answer within the socket's timeout) ends the count.
    """
    client = legacy_client(sock, version, server_name, ignore_client_auth=True)
    with translated_errors():
        client.do_handshake()
    successes = 0
    for _ in range(attempts):
        try:
            client.do_renegotiate()
        except (OpenSSLError, OSError):  # refused: alert, hang-up, reset or timeout
            break
        successes += 1
    return successes
