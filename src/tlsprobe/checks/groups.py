"""Supported groups: the key-exchange groups the server accepts, in the order it prefers them.

How, like cipher suites: offer many groups, record the one the server picks, remove it, repeat until it refuses.
- TLS 1.3: the hello sends no key share at all, so the server must answer with a HelloRetryRequest naming the
  group it wants: every group it knows can be found this way, post-quantum hybrids (X25519MLKEM768...) and
  finite-field groups (RFC 7919) included, without ever computing a key for them.
- Below TLS 1.3: ECDHE suites only, at the version of the shared TLS <= 1.2 baseline hello; the curve is read
  from the ServerKeyExchange. Then DHE suites only with the RFC 7919 finite-field groups: the group is the one
  whose prime the ServerKeyExchange carries. A server that keeps using a prime that was not offered does not
  negotiate groups (RFC 7919 is not implemented, or its parameters are fixed); the enumeration stops there.
Whether the server enforces its order shows in its picks when it does (``_enumeration``); otherwise one more hello
per version, offering the accepted groups in reverse, tells.

The baseline hello offered every group, so when its answer used a group (an ECDHE or an RFC 7919 DHE suite), that
group is the first pick of its enumeration, and the enumeration sends one hello fewer.

Connections: per enumeration, (accepted groups + 1), one fewer below TLS 1.3 when the baseline's answer is the
first pick, plus 1 for the order unless the picks showed it.
References: RFC 8446 §4.2.7-4.2.8, RFC 8422, RFC 7919, draft-ietf-tls-ecdhe-mlkem, the IANA TLS Supported Groups
registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar, final

import attrs
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from tlsprobe._exceptions import CheckNotApplicable
from tlsprobe._probing._context import ServerContext
from tlsprobe._probing._hello_specs import MAX_HELLO_SUITES, common_suite_codes, tls_hello
from tlsprobe.checks._enumeration import KnownPick, picks_and_order
from tlsprobe.checks._side_by_side import side_by_side
from tlsprobe.checks._tls12_baseline import broad_hello, tls12_baseline
from tlsprobe.wire import ClientHelloSpec, EphemeralKeyKind, ffdhe_prime
from tlsprobe.wire._answers import HelloAccepted
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import (
    GroupKind,
    KeyExchange,
    NamedGroup,
    groups_for_version,
    named_group_by_code,
    named_group_by_name,
    suites_for_version,
)


@final
@attrs.frozen(kw_only=True)
class GroupsAtVersion:
    """The groups the server accepts at one protocol version."""

    version: TLSVersion
    """The protocol version of the hellos."""
    accepted_groups: tuple[NamedGroup, ...]
    """Accepted groups: in the server's order of preference when it enforces one, else in the order offered."""
    server_order_enforced: bool | None
    """Whether the server picks by its own preference (None: fewer than two groups)."""
    rejected_groups: tuple[str, ...]
    """Names of the groups offered and not accepted."""


@final
@attrs.frozen(kw_only=True)
class SupportedGroupsResult:
    """The groups the server accepts."""

    tls1_3: GroupsAtVersion | None
    """Groups under TLS 1.3 (None: the server does not speak TLS 1.3)."""
    ecdhe_below_tls1_3: GroupsAtVersion | None
    """Elliptic curves with ECDHE suites below TLS 1.3 (None: no version from TLS 1.0 to 1.2 is accepted)."""
    ffdhe_below_tls1_3: GroupsAtVersion | None
    """RFC 7919 finite-field groups with DHE suites below TLS 1.3 (None: no version from TLS 1.0 to 1.2)."""


@final
@attrs.frozen(kw_only=True)
class SupportedGroupsCheck:
    """Supported key-exchange groups and the server's preference (EC, finite-field, post-quantum hybrids)."""

    result_type: ClassVar[type] = SupportedGroupsResult
    probes_in_sequence: ClassVar[bool] = True  # each hello offers what the one before left

    @property
    def name(self) -> str:
        """``supported_groups``."""
        return "supported_groups"

    async def run(self, server: ServerContext) -> SupportedGroupsResult:
        """Enumerate under TLS 1.3 and, with ECDHE and DHE suites, below it: the three enumerations side by side
        (each is a chain of hellos one after the other). TLS 1.3's starts at once; the other two wait for the
        shared baseline hello, whose version they use and whose answer is their first pick."""
        parts: dict[str, Callable[[], Awaitable[GroupsAtVersion | None]]] = {}
        if server.profile.highest_version is TLSVersion.TLS1_3:
            parts["tls13"] = lambda: _tls13_groups(server)
        parts["ecdhe"] = lambda: _below_tls13(server, _ecdhe_groups)
        parts["ffdhe"] = lambda: _below_tls13(server, _ffdhe_groups)
        found = await side_by_side(parts)
        return SupportedGroupsResult(
            tls1_3=found.get("tls13"), ecdhe_below_tls1_3=found.get("ecdhe"), ffdhe_below_tls1_3=found.get("ffdhe")
        )


async def _below_tls13(
    server: ServerContext,
    enumerate_groups: Callable[[ServerContext, HelloAccepted], Awaitable[GroupsAtVersion]],
) -> GroupsAtVersion | None:
    """``enumerate_groups`` at the baseline's version; None when the server has no version from TLS 1.0 to 1.2."""
    try:
        baseline = await tls12_baseline(server)
    except CheckNotApplicable:
        return None
    if baseline.version < TLSVersion.TLS1_0:
        return None
    return await enumerate_groups(server, baseline)


async def _tls13_groups(server: ServerContext) -> GroupsAtVersion:
    suites = common_suite_codes(TLSVersion.TLS1_3)

    def hello(groups: Sequence[int]) -> ClientHelloSpec:
        spec = tls_hello(TLSVersion.TLS1_3, suites, server.profile.server_name)
        return attrs.evolve(spec, groups=tuple(groups), key_share_groups=())

    def picked(outcome: HelloAccepted) -> int | None:
        if outcome.hello_retry_request is not None:
            return outcome.hello_retry_request.selected_group
        return outcome.server_hello.key_share_group if outcome.server_hello is not None else None

    candidates = list(groups_for_version(TLSVersion.TLS1_3))
    return await _enumerate(server, TLSVersion.TLS1_3, candidates, hello, picked)


async def _ecdhe_groups(server: ServerContext, baseline: HelloAccepted) -> GroupsAtVersion:
    version = baseline.version
    ecdhe = [suite.code for suite in suites_for_version(version) if suite.key_exchange is KeyExchange.ECDHE]
    suites = ecdhe[:MAX_HELLO_SUITES]
    # Below TLS 1.3 the offered curves also bind the curve of an ECDSA certificate (RFC 8422 §5.1): once that
    # curve is out of the offer, an ECDSA-only server refuses everything. So it stays offered, last.
    certificate_curve: list[int] = []

    def hello(groups: Sequence[int]) -> ClientHelloSpec:
        offer = [*groups, *(code for code in certificate_curve if code not in groups)]
        return attrs.evolve(tls_hello(version, suites, server.profile.server_name), groups=tuple(offer))

    def picked(outcome: HelloAccepted) -> int | None:
        if not certificate_curve and outcome.certificates:
            certificate_curve.extend(_ec_certificate_curve(outcome.certificates[0]))
        key = outcome.ephemeral_key
        return key.group if key is not None and key.kind is EphemeralKeyKind.ECDH else None

    candidates = [group for group in groups_for_version(version) if group.kind is GroupKind.EC]
    return await _enumerate(server, version, candidates, hello, picked, baseline=baseline)


async def _ffdhe_groups(server: ServerContext, baseline: HelloAccepted) -> GroupsAtVersion:
    version = baseline.version
    dhe = [suite.code for suite in suites_for_version(version) if suite.key_exchange is KeyExchange.DHE]
    suites = dhe[:MAX_HELLO_SUITES]
    candidates = [group for group in groups_for_version(version) if group.kind is GroupKind.FFDHE]
    group_by_prime = {ffdhe_prime(group.code): group.code for group in candidates}

    def hello(groups: Sequence[int]) -> ClientHelloSpec:
        return attrs.evolve(tls_hello(version, suites, server.profile.server_name), groups=tuple(groups))

    def picked(outcome: HelloAccepted) -> int | None:
        key = outcome.ephemeral_key
        if key is None or key.kind is not EphemeralKeyKind.DH or key.dh_prime is None:
            return None
        return group_by_prime.get(int.from_bytes(key.dh_prime, "big"))

    return await _enumerate(server, version, candidates, hello, picked, baseline=baseline)


def _ec_certificate_curve(der: bytes) -> list[int]:
    try:
        key = x509.load_der_x509_certificate(der).public_key()
    except ValueError:
        return []
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return []
    group = named_group_by_name(key.curve.name)
    return [group.code] if group is not None else []


async def _enumerate(
    server: ServerContext,
    version: TLSVersion,
    candidates: Sequence[NamedGroup],
    hello: Callable[[Sequence[int]], ClientHelloSpec],
    picked: Callable[[HelloAccepted], int | None],
    *,
    baseline: HelloAccepted | None = None,
) -> GroupsAtVersion:
    """Offer, pick, remove, repeat. The group the ``baseline`` answer used, when it used one of this kind, is the
    first pick (``KnownPick``: that hello offered every candidate)."""

    async def pick(offered: Sequence[int]) -> int | None:
        outcome = await server.hello(hello(offered))
        if not isinstance(outcome, HelloAccepted) or outcome.version is not version:
            return None
        group = picked(outcome)
        # A pick outside the offer (such as a pinned certificate curve chosen again) ends the enumeration.
        return group if group in offered else None

    seed = None
    if baseline is not None and (chosen := picked(baseline)) is not None:
        seed = KnownPick(broad_hello(version, server.profile.server_name).groups, chosen)
    order, enforced = await picks_and_order(pick, [group.code for group in candidates], known=seed)
    accepted = tuple(known for code in order if (known := named_group_by_code(code)) is not None)
    return GroupsAtVersion(
        version=version,
        accepted_groups=accepted,
        server_order_enforced=enforced,
        rejected_groups=tuple(group.name for group in candidates if group.code not in order),
    )
