"""``diff_scans``: what changed between two scans, per target, each change worse, better or neutral.

Both scans are read in their JSON form (servers as ``to_jsonable`` writes them), paired by ``target_key``.

What is worse, and what better (the rest is neutral):

=====================  ==========================================================  ===========================
change                 worse                                                       better
=====================  ==========================================================  ===========================
reachability           the server no longer answers                                it answers again
protocol version       SSL 2.0, SSL 3.0, TLS 1.0 or 1.1 enabled; TLS 1.3 disabled  the reverse
cipher suite           a weak one enabled (``suite_weaknesses``: no forward        a weak one removed
                       secrecy, not AEAD, anonymous, export, NULL, RC4, 3DES, DES)
group                  a weak one enabled (EC under 224 bits, finite-field under   a weak one removed, a
                       2048); a post-quantum one removed                           post-quantum one enabled
grade                  lower                                                       higher
finding                new, or more severe                                         resolved, or less severe
certificate            now expiring within ``expiry_days``, or expired; no longer  renewed; trusted again
                       trusted
=====================  ==========================================================  ===========================

Neutral: targets added to or removed from the list, TLS 1.2 enabled or disabled, strong suites and ordinary groups
enabled or removed, a certificate replaced, and the notes on checks below.

A change is claimed only from checks that completed on both sides: a check that failed (or was not run) on one side
is no evidence that anything was added or removed. It gives a neutral ``check_failed`` (or ``check_recovered``)
note instead; the findings derived from it are not compared, nor is the grade (which every check's findings can
cap) while any check failed on either side.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

import attrs

from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._summary import VERSIONS, ServerSummary, grade_rank, severity_rank, target_key
from tlsprobe.monitoring._changes import (
    DIRECTION_ORDER,
    Change,
    ChangeKind,
    Direction,
    ScanDiff,
    ScanSide,
    TargetDiff,
)
from tlsprobe.monitoring._facts import GROUP_PARTS, CheckStatus, ServerFacts, read_facts
from tlsprobe.monitoring._rules import (
    DEPRECATED_VERSIONS,
    MODERN_VERSION,
    group_is_post_quantum,
    group_is_weak,
    suite_weaknesses,
)
from tlsprobe.policy._catalogue import FINDINGS
from tlsprobe.wire._versions import TLSVersion

_WORSE, _NEUTRAL, _BETTER = Direction.WORSE, Direction.NEUTRAL, Direction.BETTER
_KIND_ORDER: Final = {kind: index for index, kind in enumerate(ChangeKind)}
_GROUP_PLACES: Final = {
    "tls1_3": "under TLS 1.3",
    "ecdhe_below_tls1_3": "with ECDHE below TLS 1.3",
    "ffdhe_below_tls1_3": "with DHE below TLS 1.3",
}
_SCOPE_ORDER: Final = {scope: index for index, scope in enumerate((*VERSIONS, *GROUP_PARTS))}
_OK, _EXPIRING, _EXPIRED = 0, 1, 2  # a certificate's expiry state, worst last


def diff_scans(
    old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]], *, expiry_days: int = 30
) -> ScanDiff:
    """What changed from the ``old`` scan to the ``new`` one (servers in their JSON form, each iterable read
    once). A target listed twice in one scan is compared by its first result. A certificate is reported as
    expiring when it expires within ``expiry_days`` of its server's scan in the new scan.

    A server that is not a tlsprobe result in JSON form raises ``ConfigurationError`` saying which one."""
    if expiry_days < 0:
        raise ConfigurationError(f"expiry_days must be 0 or more, not {expiry_days}")
    old_servers = _read_side(old, "old")
    new_servers = _read_side(new, "new")
    targets: list[TargetDiff] = []
    for key in {**old_servers, **new_servers}:
        before, after = old_servers.get(key), new_servers.get(key)
        shown = after or before
        assert shown is not None  # the key comes from one side or the other
        changes = _target_changes(before, after, expiry_days)
        if changes:
            ordered = tuple(sorted(changes, key=_change_order))
            targets.append(TargetDiff(target=key, host=shown.summary.host, port=shown.summary.port, changes=ordered))
    targets.sort(key=_target_order)
    return ScanDiff(
        old=_side(old_servers.values()),
        new=_side(new_servers.values()),
        expiry_days=expiry_days,
        targets_compared=len(old_servers.keys() & new_servers.keys()),
        targets=tuple(targets),
    )


def _what(error: Exception) -> str:
    return f"missing {error}" if isinstance(error, KeyError) else str(error)


def _read_side(servers: Iterable[Mapping[str, Any]], side: str) -> dict[str, ServerFacts]:
    read: dict[str, ServerFacts] = {}
    for index, server in enumerate(servers, start=1):
        try:
            facts = read_facts(server)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ConfigurationError(
                f"server {index}{_named(server)} of the {side} scan is not a tlsprobe server result ({_what(error)})"
            ) from None
        read.setdefault(facts.summary.target, facts)
    return read


def _named(server: Mapping[str, Any]) -> str:
    """`` (host:port)`` when the server's target can be read, to say which one is broken."""
    try:
        return f" ({target_key(server['target'])})"
    except (KeyError, TypeError, ValueError, AttributeError):
        return ""


def _side(servers: Iterable[ServerFacts]) -> ScanSide:
    summaries = [server.summary for server in servers]
    return ScanSide(
        started_at=min((summary.started_at for summary in summaries), default=None),
        servers=len(summaries),
        reachable=sum(summary.reachable for summary in summaries),
    )


def _change_order(change: Change) -> tuple[int, int, int, str]:
    scope = _SCOPE_ORDER.get(change.scope, len(_SCOPE_ORDER)) if change.scope is not None else -1
    return DIRECTION_ORDER.index(change.direction), _KIND_ORDER[change.kind], scope, change.subject or ""


def _target_order(target: TargetDiff) -> tuple[int, int, int, str]:
    return -target.count(_WORSE), -target.count(_NEUTRAL), -target.count(_BETTER), target.target


# --- one target ----------------------------------------------------------------------------------------------------


def _target_changes(before: ServerFacts | None, after: ServerFacts | None, expiry_days: int) -> list[Change]:
    if before is None:
        return [Change(kind=ChangeKind.TARGET_ADDED, direction=_NEUTRAL, message="new target: not in the old scan")]
    if after is None:
        return [Change(kind=ChangeKind.TARGET_REMOVED, direction=_NEUTRAL, message="target gone: not in the new scan")]
    if before.summary.reachable and not after.summary.reachable:
        message = f"server no longer reachable: {after.summary.error}"
        return [Change(kind=ChangeKind.UNREACHABLE, direction=_WORSE, message=message, before=True, after=False)]
    if after.summary.reachable and not before.summary.reachable:
        message = "server reachable again"
        return [Change(kind=ChangeKind.REACHABLE, direction=_BETTER, message=message, before=False, after=True)]
    if not after.summary.reachable:
        return []
    pair = _Pair(before, after)
    return [
        *_check_notes(pair),
        *_grade_changes(pair),
        *_finding_changes(pair),
        *_certificate_changes(pair, expiry_days),
        *_version_and_suite_changes(pair),
        *_group_changes(pair),
    ]


@attrs.frozen
class _Pair:
    """The two sides of one target."""

    old: ServerFacts
    new: ServerFacts

    def completed(self, name: str) -> bool:
        """Whether the check ``name`` completed on both sides."""
        old, new = self.old.checks.get(name), self.new.checks.get(name)
        return old is not None and new is not None and old.status == new.status == "completed"

    def comparable(self, names: Iterable[str]) -> bool:
        """Whether what is derived from the checks ``names`` can be compared: none failed on either side, and
        each was run on both sides or on neither."""
        for name in names:
            old, new = self.old.checks.get(name), self.new.checks.get(name)
            if (old is None) != (new is None):
                return False
            if old is not None and new is not None and "failed" in (old.status, new.status):
                return False
        return True


def _check_notes(pair: _Pair) -> Iterator[Change]:
    for name, new in pair.new.checks.items():
        old: CheckStatus | None = pair.old.checks.get(name)
        if old is None or (old.status == "failed") == (new.status == "failed"):
            continue
        if new.status == "failed":
            kind = ChangeKind.CHECK_FAILED
            message = f"the {name} check failed ({new.error}): its results are unknown"
        else:
            kind = ChangeKind.CHECK_RECOVERED
            message = f"the {name} check completed again: it failed in the old scan, so its results are not compared"
        yield Change(kind=kind, direction=_NEUTRAL, message=message, subject=name, before=old.status, after=new.status)


def _grade_changes(pair: _Pair) -> Iterator[Change]:
    before, after = pair.old.summary.grade, pair.new.summary.grade
    old_rank, new_rank = grade_rank(before), grade_rank(after)
    if old_rank is None or new_rank is None or old_rank == new_rank:
        return  # "?" or no grade on a side: the failed check says why
    if not pair.comparable(pair.old.checks.keys() | pair.new.checks.keys()):
        return  # every check's findings can cap the grade: one that failed on a side may be all that changed it
    if new_rank < old_rank:
        yield Change(
            kind=ChangeKind.GRADE_DOWN,
            direction=_WORSE,
            message=f"grade down from {before} to {after}",
            before=before,
            after=after,
        )
    else:
        yield Change(
            kind=ChangeKind.GRADE_UP,
            direction=_BETTER,
            message=f"grade up from {before} to {after}",
            before=before,
            after=after,
        )


def _finding_changes(pair: _Pair) -> Iterator[Change]:
    before, after = pair.old.findings, pair.new.findings
    for finding_id in sorted(before.keys() | after.keys()):
        kind = FINDINGS.get(finding_id)
        if kind is not None and not pair.comparable(kind.source_checks):
            continue
        was, now = before.get(finding_id), after.get(finding_id)
        if was is None and now is not None:
            yield Change(
                kind=ChangeKind.FINDING_NEW,
                direction=_WORSE,
                message=f"new finding ({now[0]}): {now[1]}",
                subject=finding_id,
                after=now[0],
            )
        elif now is None and was is not None:
            yield Change(
                kind=ChangeKind.FINDING_RESOLVED,
                direction=_BETTER,
                message=f"finding resolved ({was[0]}): {was[1]}",
                subject=finding_id,
                before=was[0],
            )
        elif was is not None and now is not None and was[0] != now[0]:
            worse = severity_rank(now[0]) < severity_rank(was[0])
            yield Change(
                kind=ChangeKind.FINDING_SEVERITY_CHANGED,
                direction=_WORSE if worse else _BETTER,
                message=f"finding now {now[0]}, was {was[0]}: {now[1]}",
                subject=finding_id,
                before=was[0],
                after=now[0],
            )


# --- certificates --------------------------------------------------------------------------------------------------


def _expiry_state(summary: ServerSummary, expiry_days: int) -> int | None:
    if summary.certificate_not_after is None:
        return None
    left = summary.certificate_not_after - summary.started_at
    if left < datetime.timedelta(0):
        return _EXPIRED
    return _EXPIRING if left <= datetime.timedelta(days=expiry_days) else _OK


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def _expiry_change(old: ServerSummary, new: ServerSummary, expiry_days: int) -> Change | None:
    was, now = _expiry_state(old, expiry_days), _expiry_state(new, expiry_days)
    if was is None or now is None or was == now:
        return None
    assert new.certificate_not_after is not None and new.certificate_days_left is not None
    days, until = new.certificate_days_left, new.certificate_not_after.date().isoformat()
    if now == _EXPIRED:
        kind, direction, message = ChangeKind.CERTIFICATE_EXPIRED, _WORSE, f"certificate expired on {until}"
    elif now > was:
        kind, direction = ChangeKind.CERTIFICATE_EXPIRING, _WORSE
        message = (
            f"certificate expires in {_days(days)}, on {until}"
            if days
            else f"certificate expires within a day, {until}"
        )
    else:
        kind, direction = ChangeKind.CERTIFICATE_EXPIRY_RESOLVED, _BETTER
        message = f"certificate no longer {'expired' if was == _EXPIRED else 'expiring soon'}: valid until {until}"
    return Change(kind=kind, direction=direction, message=message, before=old.certificate_days_left, after=days)


def _certificate_changes(pair: _Pair, expiry_days: int) -> Iterator[Change]:
    if not pair.completed("certificate"):
        return
    old, new = pair.old.summary, pair.new.summary
    if old.trusted is not None and new.trusted is not None and old.trusted != new.trusted:
        if new.trusted:
            message = "certificate trusted again"
            yield Change(kind=ChangeKind.TRUST_GAINED, direction=_BETTER, message=message, before=False, after=True)
        else:
            reason = pair.new.untrusted_reason
            message = "certificate no longer trusted" + (f": {reason}" if reason else "")
            yield Change(kind=ChangeKind.TRUST_LOST, direction=_WORSE, message=message, before=True, after=False)
    expiry = _expiry_change(old, new, expiry_days)
    if expiry is not None:
        yield expiry
    before, after = old.certificate_fingerprints, new.certificate_fingerprints
    if before and after and before != after:
        fresh = [
            f"{leaf.subject}, valid until {leaf.not_after.isoformat()}"
            for leaf in pair.new.leaves
            if leaf.fingerprint not in before
        ]
        message = "certificate replaced" + (f": {'; '.join(fresh)}" if fresh else "")
        yield Change(
            kind=ChangeKind.CERTIFICATE_REPLACED, direction=_NEUTRAL, message=message, before=before, after=after
        )


# --- versions, suites, groups --------------------------------------------------------------------------------------


def _version_label(version: str) -> str:
    try:
        return TLSVersion(version).label
    except ValueError:
        return version


def _version_change(version: str, enabled: bool) -> Change:
    label = _version_label(version)
    if version in DEPRECATED_VERSIONS:
        direction = _WORSE if enabled else _BETTER
        message = f"{label} enabled (deprecated)" if enabled else f"{label} disabled (deprecated)"
    else:
        modern = version == MODERN_VERSION
        direction = (_BETTER if enabled else _WORSE) if modern else _NEUTRAL
        message = f"{label} {'enabled' if enabled else 'disabled'}"
    kind = ChangeKind.VERSION_ENABLED if enabled else ChangeKind.VERSION_DISABLED
    return Change(kind=kind, direction=direction, message=message, subject=version, before=not enabled, after=enabled)


def _suite_change(version: str, name: str, suite: Mapping[str, Any], added: bool) -> Change:
    weaknesses = suite_weaknesses(suite)
    at = _version_label(version)
    what = "weak cipher suite" if weaknesses else "cipher suite"
    why = f" ({', '.join(weaknesses)})" if weaknesses else ""
    message = f"{what} {'enabled' if added else 'removed'} at {at}: {name}{why}"
    direction = (_WORSE if added else _BETTER) if weaknesses else _NEUTRAL
    kind = ChangeKind.CIPHER_SUITE_ADDED if added else ChangeKind.CIPHER_SUITE_REMOVED
    return Change(
        kind=kind, direction=direction, message=message, scope=version, subject=name, before=not added, after=added
    )


def _version_and_suite_changes(pair: _Pair) -> Iterator[Change]:
    for version in VERSIONS:
        if not pair.completed(f"{version}_cipher_suites"):
            continue
        if pair.old.versions[version] != pair.new.versions[version]:
            yield _version_change(version, pair.new.versions[version])
        before, after = pair.old.suites[version], pair.new.suites[version]
        for name in after.keys() - before.keys():
            yield _suite_change(version, name, after[name], added=True)
        for name in before.keys() - after.keys():
            yield _suite_change(version, name, before[name], added=False)


def _group_change(part: str, name: str, group: Mapping[str, Any], added: bool) -> Change:
    where = _GROUP_PLACES[part]
    if group_is_weak(group):
        direction = _WORSE if added else _BETTER
        what = f"weak group ({group['size']} bits)"
    elif group_is_post_quantum(group):
        direction = _BETTER if added else _WORSE
        what = "post-quantum group"
    else:
        direction, what = _NEUTRAL, "group"
    message = f"{what} {'enabled' if added else 'removed'} {where}: {name}"
    kind = ChangeKind.GROUP_ADDED if added else ChangeKind.GROUP_REMOVED
    return Change(
        kind=kind, direction=direction, message=message, scope=part, subject=name, before=not added, after=added
    )


_FOLDED: Final = frozenset(
    {ChangeKind.CIPHER_SUITE_ADDED, ChangeKind.CIPHER_SUITE_REMOVED, ChangeKind.GROUP_ADDED, ChangeKind.GROUP_REMOVED}
)


def folded_changes(changes: Sequence[Change]) -> tuple[Change, ...]:
    """``changes`` for people to read: the neutral suite and group changes of one kind and scope (all of a
    version's suites, when the version is enabled or disabled) as one change naming them all, in the place of
    the first; every other change as it is. The JSON form keeps them one by one."""
    runs: dict[tuple[ChangeKind, str | None], list[Change]] = {}
    order: list[Change | tuple[ChangeKind, str | None]] = []
    for change in changes:
        if change.direction is not _NEUTRAL or change.kind not in _FOLDED:
            order.append(change)
            continue
        key = (change.kind, change.scope)
        if key not in runs:
            runs[key] = []
            order.append(key)
        runs[key].append(change)
    return tuple(item if isinstance(item, Change) else _fold(runs[item]) for item in order)


def _fold(run: Sequence[Change]) -> Change:
    first = run[0]
    if len(run) == 1 or first.scope is None:
        return first
    added = first.kind in (ChangeKind.CIPHER_SUITE_ADDED, ChangeKind.GROUP_ADDED)
    if first.kind in (ChangeKind.CIPHER_SUITE_ADDED, ChangeKind.CIPHER_SUITE_REMOVED):
        what, where = "cipher suites", f"at {_version_label(first.scope)}"
    else:
        what, where = "groups", _GROUP_PLACES.get(first.scope, first.scope)
    names = ", ".join(change.subject or "" for change in run)
    message = f"{len(run)} {what} {'enabled' if added else 'removed'} {where}: {names}"
    return attrs.evolve(first, message=message, subject=None)


def _group_changes(pair: _Pair) -> Iterator[Change]:
    old, new = pair.old.groups, pair.new.groups
    if old is None or new is None:
        return
    for part in GROUP_PARTS:
        before, after = old[part], new[part]
        for name in after.keys() - before.keys():
            yield _group_change(part, name, after[name], added=True)
        for name in before.keys() - after.keys():
            yield _group_change(part, name, before[name], added=False)
