"""Client-initiated renegotiation: how many renegotiations in a row does the server accept on one connection?

Only nassl's legacy client (OpenSSL 1.0.2) can start a renegotiation, so this runs on it, at a version up to
TLS 1.2 (TLS 1.3 has no renegotiation).
"""

from __future__ import annotations

import socket

from nassl._nassl import OpenSSLError
from nassl.legacy_ssl_client import LegacySslClient
from nassl.ssl_client import OpenSslVerifyEnum

from tlsprobe._tls._client_auth import nassl_version
from tlsprobe._tls._errors import translated_errors
from tlsprobe.wire._versions import TLSVersion

_LEGACY_ALL_CIPHERS = "ALL:COMPLEMENTOFALL"


def count_client_renegotiations(
    sock: socket.socket, version: TLSVersion, server_name: str | None, attempts: int
) -> int:
    """Handshake at ``version``, then renegotiate up to ``attempts`` times; the number that succeeded.

    A refusal (an alert, a closed connection, or no answer within the socket's timeout) ends the count.
    """
    client = LegacySslClient(
        underlying_socket=sock,
        ssl_version=nassl_version(version),
        ssl_verify=OpenSslVerifyEnum.NONE,
        ignore_client_authentication_requests=True,
    )
    client.set_cipher_list(_LEGACY_ALL_CIPHERS)
    if server_name is not None:
        client.set_tlsext_host_name(server_name)
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
