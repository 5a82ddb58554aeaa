"""Client-initiated renegotiation: how many renegotiations in a row does the server accept on one connection?

Only nassl's legacy client (OpenSSL 1.0.2) can start a renegotiation, so this runs on it, at a version up to
TLS 1.2 (TLS 1.3 has no renegotiation).
"""

from __future__ import annotations

import socket
import time

import attrs
from nassl._nassl import OpenSSLError

from tlsprobe._tls._clients import legacy_client
from tlsprobe._tls._errors import translated_errors
from tlsprobe.wire._versions import TLSVersion


@attrs.frozen
class RenegotiationTally:
    """What one connection's renegotiations came to."""

    successes: int
    """Renegotiations the server completed before the first refusal (or all of them)."""
    durations_s: tuple[float, ...]
    """How long each renegotiation tried took, refused or not, in order."""


def count_client_renegotiations(
    sock: socket.socket, version: TLSVersion, server_name: str | None, attempts: int, enough_after_s: float
) -> RenegotiationTally:
    """Handshake at ``version``, then renegotiate up to ``attempts`` times, stopping at the first refusal (an
    alert, a closed connection, or no answer within the socket's timeout), or once at least one has succeeded
    and the renegotiations have taken ``enough_after_s`` in all: whether the server accepts is then certain, and
    a server that takes that long per renegotiation holds the connection (and the scan) for every further one.
    """
    client = legacy_client(sock, version, server_name, ignore_client_auth=True)
    with translated_errors():
        client.do_handshake()
    successes = 0
    durations: list[float] = []
    for _ in range(attempts):
        started = time.monotonic()
        try:
            client.do_renegotiate()
        except (OpenSSLError, OSError):  # refused: alert, hang-up, reset or timeout
            durations.append(time.monotonic() - started)
            break
        durations.append(time.monotonic() - started)
        successes += 1
        if sum(durations) >= enough_after_s:
            break
    return RenegotiationTally(successes=successes, durations_s=tuple(durations))
