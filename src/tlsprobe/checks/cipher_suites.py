"""Cipher suites accepted at one protocol version, with ephemeral keys and the server's preferred order.

How: offer a bundle of suites, record the one the server picks, remove it and offer the rest again, until the
server refuses. That costs (accepted + 1) hellos per bundle instead of one per suite. From SSL 3.0 to TLS 1.2 the
catalogue is cut into parts by the rank servers commonly give suites (``catalogue_parts``) and every part is
enumerated at once, so that the chain in a row is one part's, not the catalogue's; for a server that enforces its
order, the parts' orders are merged (``_enumeration.merged_server_order``: one hello per boundary between parts
holding accepted suites, all at once, more only where the predicted rank is wrong). Whether it enforces one mostly
shows in the picks themselves (``_enumeration``); when not, one more hello, offering accepted suites in reverse,
tells. The method before parts (``EnumerationMode.SEQUENTIAL``) is kept for cross-checking the order.
SSL 2.0 needs a single hello: the SERVER-HELLO lists every cipher kind the server supports.

Connections (bundle mode): 0 for a version above the highest one the server accepted; otherwise (accepted + 1) per
part, plus, for a server that enforces its order, one per boundary between parts holding accepted suites that no
earlier hello settled (and what merging by heads costs where the prediction fails), plus one for the order test
unless the picks showed the order.
Sequential mode: (accepted + 1) per bundle, plus (accepted - 1) to merge the order of picks from several bundles.
Exhaustive mode: one connection per suite in the catalogue. The first hello may be an answer already had: under
TLS 1.3 the connectivity phase's first hello; from SSL 3.0 to TLS 1.2 the broad hello the other checks share
(``_tls12_baseline.broad_answer``), which also tells whether the version is refused at all.

References: RFC 5246 §7.4.1 (TLS 1.2 hello), RFC 8446 §4.1 (TLS 1.3), the IANA TLS Cipher Suites registry.
"""

from __future__ import annotations

import enum
import functools
import itertools
from collections.abc import Sequence
from typing import ClassVar, final

import anyio
import attrs

from tlsprobe._probing._context import EarlyHello, ServerContext
from tlsprobe._probing._hello_specs import MAX_HELLO_SUITES, tls_hello
from tlsprobe.checks._enumeration import (
    KnownPick,
    PickLog,
    in_offer_order,
    merged_server_order,
    parts_in_parallel,
    picks_until_refused,
    server_order,
)
from tlsprobe.checks._tls12_baseline import broad_answer, broad_hello, early_broad_hello, refuses_version
from tlsprobe.wire import EphemeralKey, KeyExchange
from tlsprobe.wire._answers import HelloAccepted, HelloOutcome, HelloRejected
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import (
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
    CipherSuite,
    cipher_suite_by_code,
    suites_for_version,
)


class EnumerationMode(enum.Enum):
    """How suites are enumerated."""

    BUNDLE = "bundle"
    """Offer many suites, remove the pick, repeat, over disjoint parts of the catalogue at once; the parts'
    orders merged by verified prediction (few connections, a short critical path; reveals the server's order)."""
    SEQUENTIAL = "sequential"
    """Bundle-and-remove over the catalogue's bundles of common suites first, the order of picks from different
    bundles found one hello at a time (the method before parts; kept for cross-checking the order)."""
    EXHAUSTIVE = "exhaustive"
    """One connection per suite (many connections; for cross-checking)."""


@final
@attrs.frozen(kw_only=True)
class AcceptedCipherSuite:
    """A suite the server accepted, and the key exchange it used with it."""

    cipher_suite: CipherSuite
    """The suite."""
    ephemeral_key: EphemeralKey | None
    """The server's ephemeral key for this suite (None for RSA key exchange and SSL 2.0)."""


@final
@attrs.frozen(kw_only=True)
class CipherSuitesResult:
    """The suites one protocol version accepts."""

    version: TLSVersion
    """The protocol version tested."""
    is_supported: bool
    """Whether the server accepted at least one suite at this version."""
    accepted_cipher_suites: tuple[AcceptedCipherSuite, ...]
    """Accepted suites: in the server's order of preference when it enforces one, else in the catalogue's."""
    server_order_enforced: bool | None
    """Whether the server picks by its own preference rather than the client's (None: fewer than two suites,
    or exhaustive mode)."""
    rejected_cipher_suites: tuple[str, ...]
    """IANA names of the suites offered and not accepted."""
    mode: EnumerationMode
    """How the suites were enumerated."""


@final
@attrs.frozen(kw_only=True)
class CipherSuitesCheck:
    """Enumerate the suites the server accepts at ``version``."""

    result_type: ClassVar[type] = CipherSuitesResult
    probes_in_sequence: ClassVar[bool] = True  # each hello offers what the one before left

    version: TLSVersion
    """The protocol version to test."""
    mode: EnumerationMode = EnumerationMode.BUNDLE
    """Bundle-and-remove (default) or one suite per connection."""
    bundle_size: int = attrs.field(default=MAX_HELLO_SUITES, validator=attrs.validators.in_(range(1, 65536)))
    """The most suites offered in one hello (some servers fail on hellos with more than 128)."""

    @property
    def name(self) -> str:
        """``tls1_2_cipher_suites`` and the like."""
        return f"{self.version.value}_cipher_suites"

    def early_hellos(self, server_name: str | None) -> tuple[EarlyHello, ...]:
        """From SSL 3.0 to TLS 1.2, with the default bundles, the enumeration opens with the shared broad hello
        at its version: the scanner may send it while the first contact is under way."""
        default_opening = self.mode is not EnumerationMode.EXHAUSTIVE and self.bundle_size == MAX_HELLO_SUITES
        if default_opening and TLSVersion.SSL3 <= self.version <= TLSVersion.TLS1_2:
            return (early_broad_hello(self.version, server_name),)
        return ()

    async def run(self, server: ServerContext) -> CipherSuitesResult:
        """Enumerate; see the module docstring."""
        catalogue = suites_for_version(self.version)
        if self.version > server.profile.highest_version:
            # The connectivity phase offered this version and the server chose an older one: no connection.
            return _result(self.version, catalogue, [], None, self.mode)
        if self.version is TLSVersion.SSL2:
            return await self._run_sslv2(server, catalogue)
        if self.mode is EnumerationMode.EXHAUSTIVE:
            accepted = await _one_suite_per_hello(server, self.version, catalogue)
            return _result(self.version, catalogue, accepted, None, self.mode)
        if self.mode is EnumerationMode.BUNDLE and TLSVersion.SSL3 <= self.version <= TLSVersion.TLS1_2:
            picks, enforced = await _parts_and_merge(server, self.version, catalogue, self.bundle_size)
        else:  # TLS 1.3 has too few suites to gain from parts
            picks, enforced = await _bundle_and_remove(server, self.version, catalogue, self.bundle_size)
        return _result(self.version, catalogue, picks, enforced, self.mode)

    async def _run_sslv2(self, server: ServerContext, catalogue: Sequence[CipherSuite]) -> CipherSuitesResult:
        outcome = await server.sslv2_hello(tuple(suite.code for suite in catalogue))
        accepted: list[AcceptedCipherSuite] = []
        if not isinstance(outcome, HelloRejected):
            offered = {suite.code: suite for suite in catalogue}
            accepted = [
                AcceptedCipherSuite(cipher_suite=offered[kind], ephemeral_key=None)
                for kind in outcome.cipher_kinds
                if kind in offered
            ]
        return _result(self.version, catalogue, accepted, None, self.mode)


def _result(
    version: TLSVersion,
    catalogue: Sequence[CipherSuite],
    accepted: Sequence[AcceptedCipherSuite],
    enforced: bool | None,
    mode: EnumerationMode,
) -> CipherSuitesResult:
    accepted_codes = {entry.cipher_suite.code for entry in accepted}
    return CipherSuitesResult(
        version=version,
        is_supported=bool(accepted),
        accepted_cipher_suites=tuple(accepted),
        server_order_enforced=enforced if len(accepted) > 1 else None,
        rejected_cipher_suites=tuple(suite.name for suite in catalogue if suite.code not in accepted_codes),
        mode=mode,
    )


def _accepted_entry(outcome: HelloAccepted) -> AcceptedCipherSuite:
    suite = cipher_suite_by_code(outcome.cipher_suite)
    assert suite is not None  # the probe checked the pick was among the offered catalogue suites
    return AcceptedCipherSuite(cipher_suite=suite, ephemeral_key=outcome.ephemeral_key)


async def _pick(server: ServerContext, version: TLSVersion, offered: Sequence[int]) -> HelloAccepted | None:
    """The server's pick among ``offered`` at exactly ``version``, or None when it refuses them all."""
    outcome = await server.hello(tls_hello(version, offered, server.profile.server_name))
    if isinstance(outcome, HelloRejected) or outcome.version is not version:
        return None  # refused, or answered with another version: none of these at this version
    return outcome


class _Picker:
    """Picks at one version, keeping the first answer seen for each suite (its ephemeral key)."""

    def __init__(self, server: ServerContext, version: TLSVersion) -> None:
        self._server = server
        self._version = version
        self.entries: dict[int, AcceptedCipherSuite] = {}

    def record(self, outcome: HelloAccepted) -> int:
        self.entries.setdefault(outcome.cipher_suite, _accepted_entry(outcome))
        return outcome.cipher_suite

    async def pick(self, offered: Sequence[int]) -> int | None:
        outcome = await _pick(self._server, self._version, offered)
        return None if outcome is None else self.record(outcome)


async def _bundle_and_remove(
    server: ServerContext, version: TLSVersion, catalogue: Sequence[CipherSuite], bundle_size: int
) -> tuple[list[AcceptedCipherSuite], bool | None]:
    """The accepted suites in the server's order (in the catalogue's when it follows the client's), and whether it
    enforces its order."""
    codes = [suite.code for suite in catalogue]
    bundles = [codes[start : start + bundle_size] for start in range(0, len(codes), bundle_size)]
    picker = _Picker(server, version)
    log = PickLog()
    logged_pick = log.logging(picker.pick)
    # The first hello alone first: if the server refuses the version outright, the other bundles need no probe.
    opening, opening_offer = await _opening(server, version, bundles[0])
    if refuses_version(opening, version):
        return [], None
    per_bundle: list[list[int]] = [[] for _ in bundles]

    async def enumerate_bundle(index: int) -> None:
        first = None
        if index == 0:
            if isinstance(opening, HelloRejected):
                return
            assert isinstance(opening, HelloAccepted)
            first = picker.record(opening)
            log.record(opening_offer, first)
        per_bundle[index] = await picks_until_refused(logged_pick, bundles[index], first=first, alternate=True)

    async with anyio.create_task_group() as group:
        for index in range(len(bundles)):
            group.start_soon(enumerate_bundle, index)
    order = [code for picks in per_bundle for code in picks]
    split = sum(1 for picks in per_bundle if picks) > 1
    # The order test needs suites picked from one offer, the first of them with all the others offered.
    tested = max(per_bundle, key=len)
    if split and len(tested) < 2:
        # One pick per bundle: no two accepted suites were offered side by side yet, so the server orders them.
        order = tested = await server_order(logged_pick, order)
        split = False
    enforced = await log.order_enforced(picker.pick, order, tested)
    if not enforced:
        order = in_offer_order(order, codes)
    elif split:
        # Picks from different bundles were never offered side by side: let the server order all of them.
        order = await server_order(picker.pick, order)
    return [picker.entries[code] for code in order], enforced


_EPHEMERAL = frozenset({KeyExchange.ECDHE, KeyExchange.DHE})
_ANONYMOUS_EPHEMERAL = frozenset({KeyExchange.DH, KeyExchange.ECDH})  # DH_anon and ECDH_anon are ephemeral
_SHA2_MACS = frozenset({"SHA256", "SHA384"})


def _predicted_rank(suite: CipherSuite) -> int:
    """Where servers commonly rank a suite, coarsely (lower first): forward-secret AEAD, forward-secret CBC with
    SHA-2, other forward-secret, the rest. OpenSSL's default and ``ALL`` orders, Mozilla's profiles and GnuTLS's
    priority strings all rank these classes in this order; a server that does not costs the parts' merge more
    hellos, never a wrong order."""
    ephemeral = suite.key_exchange in _EPHEMERAL or (suite.is_anonymous and suite.key_exchange in _ANONYMOUS_EPHEMERAL)
    if not ephemeral:
        return 3
    if suite.is_aead:
        return 0
    return 1 if suite.mac in _SHA2_MACS else 2


def catalogue_parts(catalogue: Sequence[CipherSuite], bundle_size: int) -> list[list[int]]:
    """The catalogue's codes cut into disjoint parts, enumerated at once: one per predicted rank (each in the
    catalogue's order, cut again where longer than ``bundle_size``), in the predicted order."""
    parts: list[list[int]] = []
    for rank in range(4):
        codes = [suite.code for suite in catalogue if _predicted_rank(suite) == rank]
        parts.extend(codes[start : start + bundle_size] for start in range(0, len(codes), bundle_size))
    return parts


@functools.cache
def _version_parts(version: TLSVersion, bundle_size: int) -> tuple[tuple[int, ...], ...]:
    """``catalogue_parts`` of a version's catalogue, computed once per process, not once per server."""
    return tuple(tuple(part) for part in catalogue_parts(suites_for_version(version), bundle_size))


@functools.cache
def _rare_offers(version: TLSVersion, bundle_size: int) -> tuple[tuple[int, ...], ...]:
    """The hellos that ask whether a server accepts a suite outside the first bundle (the rare suites): each part
    made of rare suites alone, so that its answer is that part's first hello too, then the other rare suites,
    in bundles."""
    codes = [suite.code for suite in suites_for_version(version)]
    common = frozenset(codes[:bundle_size])
    rare_parts = [part for part in _version_parts(version, bundle_size) if common.isdisjoint(part)]
    in_parts = frozenset(code for part in rare_parts for code in part)
    rest = [code for code in codes[bundle_size:] if code not in in_parts]
    return (*rare_parts, *(tuple(rest[start : start + bundle_size]) for start in range(0, len(rest), bundle_size)))


def _code_rank(code: int) -> int:
    suite = cipher_suite_by_code(code)
    assert suite is not None  # a catalogue code
    return _predicted_rank(suite)


def _folded_behind_head(parts: Sequence[tuple[int, ...]], head_rank: int, bundle_size: int) -> list[tuple[int, ...]]:
    """``parts`` (in the predicted order), each one whose suites all rank as high as the head's last pick or
    higher joined to the next part when both fit in one hello. A server that ranks as predicted picked such
    suites before that one, so these parts most likely hold nothing, and alone each would cost a refusal of its
    own; joined, a wrong guess costs a longer chain, never a suite or the order."""
    folded: list[tuple[int, ...]] = []
    carried: tuple[int, ...] = ()
    for part in parts:
        if carried and len(carried) + len(part) <= bundle_size:
            part = carried + part
        elif carried:
            folded.append(carried)
        carried = ()
        if all(_code_rank(code) <= head_rank for code in part):
            carried = part
        else:
            folded.append(part)
    if carried:
        folded.append(carried)
    return folded


MAX_CHAINS = 3
"""Parts of one version enumerated at once, at most. Every part costs a refusal (and, under server order, a
boundary to verify), and the server's few permits, shared by every check, let only so many chains advance at
once: more parts would cost connections without shortening the wait."""


def _fewest_chains(
    parts: Sequence[tuple[int, ...]], answered: frozenset[tuple[int, ...]], bundle_size: int
) -> list[tuple[int, ...]]:
    """``parts``, the smallest two neighbours joined (within one hello) until at most ``MAX_CHAINS`` are left
    to enumerate; a part in ``answered`` (its first hello already answered) is kept as it is."""
    joined = list(parts)
    while sum(1 for part in joined if part not in answered) > MAX_CHAINS:
        pairs = [
            (len(above) + len(below), index)
            for index, (above, below) in enumerate(itertools.pairwise(joined))
            if above not in answered and below not in answered and len(above) + len(below) <= bundle_size
        ]
        if not pairs:
            break
        _, index = min(pairs)
        joined[index : index + 2] = [joined[index] + joined[index + 1]]
    return joined


FAN_OUT_AFTER = 12
"""Picks in a row from the first bundle before its rest is split into parts enumerated at once. Most servers
accept fewer suites per version (Mozilla's intermediate profile: 6 under TLS 1.2), and for them the single chain
costs fewest hellos (one refusal, not one per part); a wider server's chain would be its long pole."""


async def _parts_and_merge(
    server: ServerContext, version: TLSVersion, catalogue: Sequence[CipherSuite], bundle_size: int
) -> tuple[list[AcceptedCipherSuite], bool | None]:
    """What ``_bundle_and_remove`` finds, in far fewer hellos in a row.

    The first bundle (the commonly deployed suites) is enumerated in one chain while the rare suites get one hello
    per ``_rare_offers``. A server that accepts none of them and runs out of suites within ``FAN_OUT_AFTER``
    picks is done, as by the sequential method and at its cost. One that accepts a rare suite is wide and
    unusual: the head stops, and the rest of the catalogue is enumerated over its parts at once
    (``catalogue_parts``; a part that was a rare offer starts from that answer). The head is then one more block,
    in the server's order within the first bundle. Otherwise the picks are the server's first choices of the
    whole catalogue, in order, and the rest of the first bundle is enumerated over its parts at once. For a
    server that enforces its order, the blocks are merged (``merged_server_order``: boundaries verified all at
    once, none that a hello already settled, repaired only where the prediction fails). A server that follows
    the client's order needs no merge."""
    codes = [suite.code for suite in catalogue]
    picker = _Picker(server, version)
    log = PickLog()
    logged_pick = log.logging(picker.pick)
    default_catalogue = catalogue is suites_for_version(version)
    bundles = [codes[start : start + bundle_size] for start in range(0, len(codes), bundle_size)]
    rare_offers = _rare_offers(version, bundle_size) if default_catalogue else tuple(map(tuple, bundles[1:]))
    # The shared broad hello first: if the server refuses the version outright, nothing more is sent.
    opening, opening_offer = await _opening(server, version, bundles[0])
    if refuses_version(opening, version):
        return [], None
    head: list[int] = []  # the first bundle's first picks, in the order picked
    rare_picks: list[int | None] = [None for _ in rare_offers]  # each rare offer's pick

    def wide() -> bool:
        return any(choice is not None for choice in rare_picks)

    async def enumerate_head() -> None:
        if not isinstance(opening, HelloAccepted):
            return  # refused every suite of the bundle
        first = picker.record(opening)
        log.record(opening_offer, first)
        head.extend(
            await picks_until_refused(
                logged_pick, bundles[0], first=first, alternate=True, at_most=FAN_OUT_AFTER, until=wide
            )
        )

    async def first_rare_pick(index: int) -> None:
        rare_picks[index] = await logged_pick(rare_offers[index])

    async with anyio.create_task_group() as group:
        group.start_soon(enumerate_head)
        for index in range(len(rare_picks)):
            group.start_soon(first_rare_pick, index)
    if wide():  # every suite but the head's may be left, rare ones included
        still_possible = frozenset(codes).difference(head)
    elif len(head) < FAN_OUT_AFTER:
        still_possible = frozenset()  # refused before: every suite is found
    else:
        still_possible = frozenset(bundles[0]).difference(head)
    blocks: list[list[int]] = []
    if still_possible:  # most servers: nothing left, and no part to cut
        every_part = (
            _version_parts(version, bundle_size) if default_catalogue else catalogue_parts(catalogue, bundle_size)
        )
        parts = [cut for part in every_part if (cut := tuple(code for code in part if code in still_possible))]
        if not wide():
            parts = _folded_behind_head(parts, _code_rank(head[-1]), bundle_size)
        # A rare offer that is a whole part already had that part's first answer.
        answers = dict(zip(rare_offers, rare_picks, strict=True)) if wide() else {}
        parts = _fewest_chains(parts, frozenset(answers), bundle_size)
        answered = {index: answers[part] for index, part in enumerate(parts) if part in answers}
        blocks = await parts_in_parallel(picker.pick, parts, log=log, answered=answered)
    found = [block for block in (head, *blocks) if block]
    order = [code for block in found for code in block]
    tested = max(found, key=len, default=[])
    if len(found) > 1 and len(tested) < 2:
        # One pick per block: no two accepted suites were offered side by side yet, so the server orders them.
        order = tested = await server_order(logged_pick, order)
        found = [order]
    enforced = await log.order_enforced(picker.pick, order, tested)
    if not enforced:
        return [picker.entries[code] for code in in_offer_order(order, codes)], enforced
    if len(found) > 1:
        if wide():  # the head leads the rest of its bundle, not known to lead the rare suites: one more block
            order = await merged_server_order(picker.pick, found, known=log)
        else:  # the head leads every other suite: picked with its whole bundle offered, the rare ones refused
            order = head + await merged_server_order(picker.pick, [block for block in blocks if block], known=log)
    return [picker.entries[code] for code in order], enforced


async def _opening(
    server: ServerContext, version: TLSVersion, first_bundle: Sequence[int]
) -> tuple[HelloOutcome, tuple[int, ...]]:
    """The answer to the first bundle, and what the hello that got it offered. An answer already had stands for
    it: under TLS 1.3 the first contact's, when it offered every suite of the bundle and picked one of them;
    below it the shared broad hello's, when it offers the same suites (the default bundle size)."""
    contact = server.first_contact
    if (
        version is TLSVersion.TLS1_3
        and contact is not None
        and contact.answer.version is TLSVersion.TLS1_3
        and KnownPick(contact.spec.cipher_suites, contact.answer.cipher_suite).answers(first_bundle)
    ):
        return contact.answer, contact.spec.cipher_suites
    if TLSVersion.SSL3 <= version <= TLSVersion.TLS1_2:
        broad = broad_hello(version, server.profile.server_name)
        if [code for code in broad.cipher_suites if code != TLS_EMPTY_RENEGOTIATION_INFO_SCSV] == list(first_bundle):
            return await broad_answer(server, version), broad.cipher_suites
    return await server.hello(tls_hello(version, first_bundle, server.profile.server_name)), tuple(first_bundle)


async def _one_suite_per_hello(
    server: ServerContext, version: TLSVersion, catalogue: Sequence[CipherSuite]
) -> list[AcceptedCipherSuite]:
    accepted: dict[int, AcceptedCipherSuite] = {}

    async def probe(code: int) -> None:
        outcome = await _pick(server, version, [code])
        if outcome is not None:
            accepted[code] = _accepted_entry(outcome)

    async with anyio.create_task_group() as group:
        for suite in catalogue:
            group.start_soon(probe, suite.code)
    return [accepted[suite.code] for suite in catalogue if suite.code in accepted]
