"""Client-initiated renegotiation: a server that accepts it lets one client make it redo the expensive part of
the handshake over and over on one connection, a cheap denial of service (CVE-2011-1473).

How: one full handshake at the version of the shared TLS <= 1.2 baseline hello, then up to ``attempts``
renegotiations in a row on the same connection, counting those the server completes. Connections: one (plus the
shared baseline hello). Not applicable to servers that speak only TLS 1.3, which has no renegotiation.
"""

from __future__ import annotations

from typing import ClassVar, final

import attrs

from tlsprobe._probing._context import ServerContext
from tlsprobe._tls import count_client_renegotiations
from tlsprobe.checks._tls12_baseline import tls12_baseline
from tlsprobe.wire._versions import TLSVersion


@final
@attrs.frozen(kw_only=True)
class ClientRenegotiationResult:
    """How many client-initiated renegotiations the server accepted in a row."""

    accepts_client_renegotiation: bool
    """At least one renegotiation started by the client was completed."""
    successful_renegotiations: int
    """Renegotiations completed before the first refusal (or all of them)."""
    attempted_renegotiations: int
    """Renegotiations tried at most."""
    tested_version: TLSVersion
    """The protocol version of the connection."""


@final
@attrs.frozen(kw_only=True)
class ClientRenegotiationCheck:
    """Client-initiated renegotiation (denial of service)."""

    result_type: ClassVar[type] = ClientRenegotiationResult
    long_held_probe: ClassVar[bool] = True  # a handshake, then a renegotiation refused or not: five round trips

    attempts: int = attrs.field(default=10, validator=attrs.validators.in_(range(1, 101)))
    """Renegotiations to try in a row."""

    @property
    def name(self) -> str:
        """``client_renegotiation``."""
        return "client_renegotiation"

    async def run(self, server: ServerContext) -> ClientRenegotiationResult:
        """Handshake, then renegotiate until refused or ``attempts`` succeed."""
        version = (await tls12_baseline(server)).version
        successes = await server.run_blocking(
            count_client_renegotiations, version, server.profile.server_name, self.attempts
        )
        return ClientRenegotiationResult(
            accepts_client_renegotiation=successes > 0,
            successful_renegotiations=successes,
            attempted_renegotiations=self.attempts,
            tested_version=version,
        )
