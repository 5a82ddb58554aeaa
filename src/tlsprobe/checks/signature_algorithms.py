"""Signature algorithms: the signature schemes the server signs its handshake with, under TLS 1.2 and TLS 1.3.

How, like cipher suites: offer every scheme in signature_algorithms, read the one the server signed with, remove
it, repeat until the server refuses.
- TLS 1.2: (EC)DHE suites only, so that a ServerKeyExchange carries the scheme in the clear. A server with two
  certificates moves on to the other one's schemes once the first one's are all gone, so both are found.
- TLS 1.3: the scheme is in the CertificateVerify, which is encrypted: the server's flight is decrypted with the
  probe's own key share (``wire._tls13``).
A server that signs with a scheme that was not offered ends the enumeration (it ignores the client's list),
and that scheme is reported. Connections: per version, one per accepted scheme plus one; under TLS 1.2 one fewer
when the shared baseline hello, which offers the same schemes, got a signed suite (its scheme is the first pick);
under TLS 1.3 one fewer when the connectivity phase's first hello, which offers them too, had its flight decrypted.
References: RFC 8446 §4.2.3 and §4.4.3, RFC 5246 §7.4.1.4.1, RFC 8422 §5.4, the IANA TLS SignatureScheme registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar, final

import attrs

from tlsprobe._exceptions import CheckNotApplicable
from tlsprobe._probing._context import ServerContext
from tlsprobe._probing._hello_specs import MAX_HELLO_SUITES, common_suite_codes, offered_schemes, tls_hello
from tlsprobe.checks._enumeration import KnownPick, picks_until_refused
from tlsprobe.checks._side_by_side import side_by_side
from tlsprobe.checks._tls12_baseline import broad_hello, tls12_baseline
from tlsprobe.wire import SignatureScheme, signature_scheme_by_code
from tlsprobe.wire._answers import HelloAccepted, HelloRejected
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import KeyExchange, suites_for_version

_SIGNED_KEY_EXCHANGES = frozenset({KeyExchange.ECDHE, KeyExchange.DHE})


@final
@attrs.frozen(kw_only=True)
class SignatureAlgorithmsAtVersion:
    """The signature schemes the server used at one protocol version."""

    version: TLSVersion
    """The protocol version of the hellos."""
    accepted: tuple[SignatureScheme, ...]
    """Schemes the server signed with, in the order it picked them."""
    rejected: tuple[str, ...]
    """Names of the schemes offered and never used."""
    chosen_outside_offer: SignatureScheme | None
    """A scheme the server signed with although it was not offered (it ignores the client's list)."""


@final
@attrs.frozen(kw_only=True)
class SignatureAlgorithmsResult:
    """The signature schemes the server accepts."""

    tls1_2: SignatureAlgorithmsAtVersion | None
    """Under TLS 1.2 (None: no TLS 1.2, or no (EC)DHE suite to sign)."""
    tls1_3: SignatureAlgorithmsAtVersion | None
    """Under TLS 1.3 (None: no TLS 1.3). Only schemes RFC 8446 allows for the handshake signature are offered."""


@final
@attrs.frozen(kw_only=True)
class SignatureAlgorithmsCheck:
    """Signature schemes the server signs with (TLS 1.2 and TLS 1.3)."""

    result_type: ClassVar[type] = SignatureAlgorithmsResult
    probes_in_sequence: ClassVar[bool] = True  # each hello offers what the one before left

    @property
    def name(self) -> str:
        """``signature_algorithms``."""
        return "signature_algorithms"

    async def run(self, server: ServerContext) -> SignatureAlgorithmsResult:
        """Enumerate under each version the server speaks, side by side."""
        parts: dict[TLSVersion, Callable[[], Awaitable[SignatureAlgorithmsAtVersion | None]]] = {
            TLSVersion.TLS1_2: lambda: _tls12_schemes(server)
        }
        if server.profile.highest_version is TLSVersion.TLS1_3:
            parts[TLSVersion.TLS1_3] = lambda: _tls13_schemes(server)
        found = await side_by_side(parts)
        return SignatureAlgorithmsResult(tls1_2=found.get(TLSVersion.TLS1_2), tls1_3=found.get(TLSVersion.TLS1_3))


async def _tls12_schemes(server: ServerContext) -> SignatureAlgorithmsAtVersion | None:
    try:
        baseline = await tls12_baseline(server)
    except CheckNotApplicable:
        return None
    if baseline.version is not TLSVersion.TLS1_2:
        return None
    suites = [
        suite.code
        for suite in suites_for_version(TLSVersion.TLS1_2)
        if suite.key_exchange in _SIGNED_KEY_EXCHANGES and not suite.is_anonymous
    ][:MAX_HELLO_SUITES]
    base = tls_hello(TLSVersion.TLS1_2, suites, server.profile.server_name)

    async def signed_with(offered: Sequence[int]) -> int | None:
        outcome = await server.hello(attrs.evolve(base, signature_algorithms=tuple(offered)))
        if not isinstance(outcome, HelloAccepted) or outcome.version is not TLSVersion.TLS1_2:
            return None
        return outcome.signature_scheme

    schemes = offered_schemes()
    # The baseline hello is this enumeration's first when it offered the same schemes in the same order (the
    # order matters: the result lists schemes as picked) and got a signed suite.
    same_offer = broad_hello(TLSVersion.TLS1_2, server.profile.server_name).signature_algorithms == tuple(schemes)
    first = baseline.signature_scheme if same_offer and baseline.cipher_suite in suites else None
    if first is None:
        first = await signed_with(schemes)
    if first is None:
        return None  # refuses (EC)DHE altogether: nothing is signed under TLS 1.2
    return await enumerate_schemes(TLSVersion.TLS1_2, schemes, signed_with, first=first)


async def _tls13_schemes(server: ServerContext) -> SignatureAlgorithmsAtVersion | None:
    base = tls_hello(TLSVersion.TLS1_3, common_suite_codes(TLSVersion.TLS1_3), server.profile.server_name)

    async def signed_with(offered: Sequence[int]) -> int | None:
        flight = await server.tls13_flight(attrs.evolve(base, signature_algorithms=tuple(offered)))
        if isinstance(flight, HelloRejected) or flight.certificate_verify is None:
            return None
        return flight.certificate_verify.signature_scheme

    schemes = [code for code in offered_schemes() if _allowed_in_tls13(code)]
    first = _first_contact_scheme(server, schemes)
    return await enumerate_schemes(TLSVersion.TLS1_3, schemes, signed_with, first=first)


def _first_contact_scheme(server: ServerContext, schemes: Sequence[int]) -> int | None:
    """The scheme of the first contact's decrypted CertificateVerify, when that hello offered ``schemes`` in this
    order (among others RFC 8446 does not allow, which a TLS 1.3 server may not sign with) and the server signed
    with one of them: it stands for the enumeration's first hello."""
    contact = server.first_contact
    if contact is None or contact.flight is None or contact.flight.certificate_verify is None:
        return None
    allowed = [code for code in contact.spec.signature_algorithms if _allowed_in_tls13(code)]
    pick = KnownPick(tuple(allowed), contact.flight.certificate_verify.signature_scheme)
    return pick.choice if allowed == list(schemes) and pick.answers(schemes) else None


def _allowed_in_tls13(code: int) -> bool:
    # RFC 8446 §4.2.3: PKCS#1 v1.5, DSA, SHA-1 and SHA-224 schemes may not sign a TLS 1.3 handshake.
    name = _scheme(code).name
    return not name.startswith(("rsa_pkcs1", "dsa_")) and not name.endswith(("sha1", "sha224"))


async def enumerate_schemes(
    version: TLSVersion,
    offered: Sequence[int],
    signed_with: Callable[[Sequence[int]], Awaitable[int | None]],
    *,
    first: int | None = None,
) -> SignatureAlgorithmsAtVersion:
    """Offer, read the scheme used, remove it, repeat; ``signed_with`` sends one hello (None: refused), and
    ``first`` is its answer to the whole offer when already known."""
    outside: list[int] = []
    if first is not None and first not in offered:
        outside.append(first)
        first = None

    async def pick(candidates: Sequence[int]) -> int | None:
        scheme = await signed_with(candidates)
        if scheme is not None and scheme not in candidates:
            outside.append(scheme)
            return None
        return scheme

    order = [] if outside else await picks_until_refused(pick, offered, first=first)
    return SignatureAlgorithmsAtVersion(
        version=version,
        accepted=tuple(_scheme(code) for code in order),
        rejected=tuple(_scheme(code).name for code in offered if code not in order),
        chosen_outside_offer=_scheme(outside[0]) if outside else None,
    )


def _scheme(code: int) -> SignatureScheme:
    return signature_scheme_by_code(code) or SignatureScheme(code, f"unknown_0x{code:04x}")
