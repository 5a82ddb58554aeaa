"""Client-initiated renegotiation: a server that accepts it lets one client make it redo the expensive part of
the handshake over and over on one connection, a cheap denial of service (CVE-2011-1473).

How: one full handshake at the version of the shared TLS <= 1.2 baseline hello, then up to ``attempts``
renegotiations in a row on the same connection, counting those the server completes, until the first refusal or
until the renegotiations have taken ``enough_after_s`` with at least one completed: the answer is then certain,
and some servers take a second per renegotiation (``openssl s_server -www``), which would hold the connection,
and the scan of the server, for ten. Whether such a server would refuse after more is then not known, and the
result says so (``stopped_early``), with how many were tried and how long each took.

Scheduling: its one connection is held for many round trips, so the check starts its chain of probes before any
enumeration begins its own (``chain``): it is served first and overlaps with them instead of trailing them.
Connections: one (plus the shared baseline hello). Not applicable to servers that speak only TLS 1.3, which has
no renegotiation.
"""

from __future__ import annotations

from typing import ClassVar, final

import attrs

from tlsprobe._net import chain
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
    renegotiations_tried: int = 0
    """Renegotiations actually tried: fewer than ``attempted_renegotiations`` after a refusal, or when stopped
    early."""
    renegotiation_durations_s: tuple[float, ...] = ()
    """How long each renegotiation tried took, refused or not, in order (seconds)."""
    stopped_early: bool = False
    """Stopped with every renegotiation tried accepted, before ``attempted_renegotiations``, because they had
    taken the time allowed: whether the server limits how many it accepts in a row was not tested."""


@final
@attrs.frozen(kw_only=True)
class ClientRenegotiationCheck:
    """Client-initiated renegotiation (denial of service)."""

    result_type: ClassVar[type] = ClientRenegotiationResult

    attempts: int = attrs.field(default=10, validator=attrs.validators.in_(range(1, 101)))
    """Renegotiations to try in a row."""
    enough_after_s: float = attrs.field(default=1.0, validator=attrs.validators.ge(0.0))
    """Stop once the renegotiations have taken this long with at least one accepted (0: after the first)."""

    @property
    def name(self) -> str:
        """``client_renegotiation``."""
        return "client_renegotiation"

    async def run(self, server: ServerContext) -> ClientRenegotiationResult:
        """Handshake, then renegotiate until refused, ``attempts`` succeed, or the answer is certain and the time
        allowed is spent."""
        with chain():  # begun before the enumerations' chains, so served before them
            version = (await tls12_baseline(server)).version
            tally = await server.run_blocking(
                count_client_renegotiations, version, server.profile.server_name, self.attempts, self.enough_after_s
            )
        tried = len(tally.durations_s)
        return ClientRenegotiationResult(
            accepts_client_renegotiation=tally.successes > 0,
            successful_renegotiations=tally.successes,
            attempted_renegotiations=self.attempts,
            tested_version=version,
            renegotiations_tried=tried,
            renegotiation_durations_s=tuple(round(duration, 4) for duration in tally.durations_s),
            stopped_early=tally.successes == tried < self.attempts,
        )
