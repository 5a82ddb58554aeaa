"""ALPN: the application protocols the server agrees to (h2, http/1.1 and the rest of the IANA registry).

How, like cipher suites: offer every registered protocol ID, read the one the server selects, remove it, repeat
until it selects none (or refuses with no_application_protocol). Whether it selects by its own preference shows
in its picks when it does; otherwise one more hello, offering the accepted ones reversed, tells
(``_enumeration``). Below TLS 1.3 the selection is in the ServerHello, at the version of the shared TLS <= 1.2
baseline hello; a server that speaks only TLS 1.3 puts it in its EncryptedExtensions, which are decrypted with
the probe's own key share.
Connections: one per accepted protocol, plus one, plus one for the order when two or more are accepted and the
picks did not show it.
References: RFC 7301, the IANA ALPN Protocol IDs registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar, final

import attrs

from tlsprobe._exceptions import CheckNotApplicable
from tlsprobe._probing._context import ServerContext
from tlsprobe._probing._hello_specs import common_suite_codes, tls_hello
from tlsprobe.checks._enumeration import picks_and_order
from tlsprobe.checks._tls12_baseline import tls12_baseline
from tlsprobe.wire._alpn import ALPN_PROTOCOL_IDS
from tlsprobe.wire._answers import HelloAccepted, HelloRejected
from tlsprobe.wire._versions import TLSVersion


@final
@attrs.frozen(kw_only=True)
class ALPNResult:
    """The application protocols the server selects."""

    tested_version: TLSVersion
    """The protocol version of the hellos."""
    accepted_protocols: tuple[str, ...]
    """Protocol IDs the server selected: in its order of preference when it enforces one, else as offered."""
    server_order_enforced: bool | None
    """Whether it selects by its own preference (None: fewer than two protocols)."""
    rejected_protocols: tuple[str, ...]
    """Registered protocol IDs offered and never selected."""


@final
@attrs.frozen(kw_only=True)
class ALPNCheck:
    """Application-Layer Protocol Negotiation (RFC 7301)."""

    result_type: ClassVar[type] = ALPNResult
    probes_in_sequence: ClassVar[bool] = True  # each hello offers what the one before left

    @property
    def name(self) -> str:
        """``alpn``."""
        return "alpn"

    async def run(self, server: ServerContext) -> ALPNResult:
        """Enumerate the protocols the server selects."""
        try:
            version = (await tls12_baseline(server)).version
        except CheckNotApplicable:
            return await _tls13_protocols(server)
        if version is TLSVersion.SSL3:
            raise CheckNotApplicable("SSL 3.0 hellos carry no extensions, so no ALPN")
        base = tls_hello(version, common_suite_codes(version), server.profile.server_name)

        async def selected(offered: Sequence[str]) -> str | None:
            outcome = await server.hello(attrs.evolve(base, alpn_protocols=tuple(offered)))
            if not isinstance(outcome, HelloAccepted) or outcome.server_hello is None:
                return None
            return outcome.server_hello.alpn_protocol

        return await enumerate_protocols(version, selected)


async def _tls13_protocols(server: ServerContext) -> ALPNResult:
    base = tls_hello(TLSVersion.TLS1_3, common_suite_codes(TLSVersion.TLS1_3), server.profile.server_name)

    async def selected(offered: Sequence[str]) -> str | None:
        flight = await server.tls13_flight(attrs.evolve(base, alpn_protocols=tuple(offered)))
        return None if isinstance(flight, HelloRejected) else flight.encrypted_extensions.alpn_protocol

    return await enumerate_protocols(TLSVersion.TLS1_3, selected)


async def enumerate_protocols(
    version: TLSVersion, selected: Callable[[Sequence[str]], Awaitable[str | None]]
) -> ALPNResult:
    """The enumeration on top of ``selected`` (one hello: the protocol the server chose, None for none)."""

    # The enumeration helpers work on codes: a protocol's code is its index in the registry tuple.
    async def pick(codes: Sequence[int]) -> int | None:
        offered = [ALPN_PROTOCOL_IDS[code] for code in codes]
        chosen = await selected(offered)
        return codes[offered.index(chosen)] if chosen in offered else None

    order, enforced = await picks_and_order(pick, range(len(ALPN_PROTOCOL_IDS)))
    accepted = tuple(ALPN_PROTOCOL_IDS[code] for code in order)
    return ALPNResult(
        tested_version=version,
        accepted_protocols=accepted,
        server_order_enforced=enforced,
        rejected_protocols=tuple(protocol for protocol in ALPN_PROTOCOL_IDS if protocol not in accepted),
    )
