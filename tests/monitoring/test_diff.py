"""``diff_scans`` on real scan results: tlsprobe's checks run against scripted servers (``tests.monitoring.scans``),
one configuration before and one after, judged and converted to JSON as a scan writes them. Every kind of change,
in both directions, and the rule that a check which did not complete on both sides gives no change at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from tests.monitoring.scans import MODERN_SUITES, Config, leaf, scan
from tlsprobe import TLSVersion
from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._json import to_jsonable
from tlsprobe.monitoring import (
    Change,
    ChangeKind,
    Direction,
    ScanDiff,
    TargetDiff,
    diff_scans,
    folded_changes,
    suite_weaknesses,
)
from tlsprobe.monitoring._rules import group_is_post_quantum, group_is_weak
from tlsprobe.wire.catalogue import SSL2_CIPHER_SUITES, cipher_suite_by_name, named_group_by_name

WORSE, NEUTRAL, BETTER = Direction.WORSE, Direction.NEUTRAL, Direction.BETTER
BASE = Config()
TLS12_TLS13 = frozenset({TLSVersion.TLS1_2, TLSVersion.TLS1_3})
WITH_TLS10 = Config(
    versions=frozenset({TLSVersion.TLS1_0, *TLS12_TLS13}),
    suites=(*MODERN_SUITES, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
)


def only(diff: ScanDiff) -> TargetDiff:
    (target,) = diff.targets
    return target


def summary(changes: tuple[Change, ...]) -> list[tuple[str, str, str | None, str | None]]:
    return [(c.kind.value, c.direction.value, c.scope, c.subject) for c in changes]


def structural(changes: tuple[Change, ...]) -> list[tuple[str, str, str | None, str | None]]:
    """``summary`` without the grade and findings, which follow the policy catalogue (tested on their own)."""
    return [item for item in summary(changes) if not item[0].startswith(("grade_", "finding_"))]


def compare(old: Config, new: Config, directory: Path, **options: Any) -> ScanDiff:
    return diff_scans([scan(old, directory)], [scan(new, directory)], **options)


# --- the rules -----------------------------------------------------------------------------------------------------


def suite_json(name: str) -> dict[str, Any]:
    suite = cipher_suite_by_name(name)
    assert suite is not None
    return to_jsonable(suite)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("name", "reasons"),
    [
        ("TLS_AES_128_GCM_SHA256", ()),
        ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", ()),
        ("TLS_RSA_WITH_AES_128_GCM_SHA256", ("no forward secrecy",)),
        ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", ("not AEAD",)),
        ("TLS_RSA_WITH_RC4_128_SHA", ("RC4", "no forward secrecy", "not AEAD")),
        ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", ("3DES", "no forward secrecy", "not AEAD")),
        ("TLS_RSA_WITH_DES_CBC_SHA", ("DES", "no forward secrecy", "not AEAD")),
        ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", ("export-grade", "RC4", "no forward secrecy", "not AEAD")),
        ("TLS_DH_anon_WITH_AES_128_GCM_SHA256", ("anonymous", "no forward secrecy")),
        ("TLS_RSA_WITH_NULL_SHA256", ("no encryption", "no forward secrecy", "not AEAD")),
    ],
)
def test_a_suite_is_weak_for_each_flag_of_its_catalogue_entry(name: str, reasons: tuple[str, ...]) -> None:
    assert suite_weaknesses(suite_json(name)) == reasons


def test_ssl2_triple_des_is_named_as_such() -> None:
    (triple_des,) = (suite for suite in SSL2_CIPHER_SUITES if "EDE3" in suite.encryption)
    assert "3DES" in suite_weaknesses(to_jsonable(triple_des))


def test_an_unknown_key_exchange_claims_no_forward_secrecy() -> None:
    suite = {**suite_json("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), "key_exchange": "QUANTUM_MAGIC"}
    assert suite_weaknesses(suite) == ("no forward secrecy",)


@pytest.mark.parametrize(
    ("name", "weak", "post_quantum"),
    [
        ("x25519", False, False),
        ("secp224r1", False, False),
        ("secp192r1", True, False),
        ("sect163k1", True, False),
        ("ffdhe2048", False, False),
        ("X25519MLKEM768", False, True),
        ("MLKEM768", False, True),
    ],
)
def test_groups_are_weak_below_224_ec_or_2048_ffdhe_bits(name: str, weak: bool, post_quantum: bool) -> None:
    group = named_group_by_name(name)
    assert group is not None
    assert group_is_weak(to_jsonable(group)) is weak
    assert group_is_post_quantum(to_jsonable(group)) is post_quantum
    assert group_is_weak({**to_jsonable(group), "kind": "ffdhe", "size": 1024})


# --- the scans and their targets -----------------------------------------------------------------------------------


def test_a_scan_compared_with_an_identical_one_has_no_change(ca_directory: Path) -> None:
    old, new = scan(BASE, ca_directory), scan(BASE, ca_directory)
    diff = diff_scans([old], [new])
    assert diff.targets == ()
    assert not diff.worse
    assert dict(diff.counts) == {"worse": 0, "neutral": 0, "better": 0}
    assert diff.targets_compared == 1
    assert diff.new.servers == diff.new.reachable == 1
    assert diff.new.started_at is not None and diff.new.started_at.isoformat() == new["started_at"]


def test_targets_added_and_removed_are_neutral(ca_directory: Path) -> None:
    old = [scan(BASE, ca_directory, host="a.test"), scan(BASE, ca_directory, host="b.test")]
    new = [scan(BASE, ca_directory, host="b.test"), scan(BASE, ca_directory, host="c.test")]
    diff = diff_scans(old, new)
    assert [(t.target, summary(t.changes)) for t in diff.targets] == [
        ("a.test:443", [("target_removed", "neutral", None, None)]),
        ("c.test:443", [("target_added", "neutral", None, None)]),
    ]
    assert not diff.worse
    assert diff.targets_compared == 1
    assert diff.to_jsonable()["targets_added"] == diff.to_jsonable()["targets_removed"] == 1


def test_a_server_that_stops_answering_is_worse_and_one_that_answers_again_better(ca_directory: Path) -> None:
    down = Config(reachable=False)
    (lost,) = only(compare(BASE, down, ca_directory)).changes
    assert (lost.kind, lost.direction, lost.before, lost.after) == (ChangeKind.UNREACHABLE, WORSE, True, False)
    assert lost.message == "server no longer reachable: connection_rejected: TCP connection to server.test:443 refused"
    (back,) = only(compare(down, BASE, ca_directory)).changes
    assert (back.kind, back.direction, back.before, back.after) == (ChangeKind.REACHABLE, BETTER, False, True)
    assert compare(down, down, ca_directory).targets == ()


def test_the_scan_facts_of_each_side(ca_directory: Path) -> None:
    old = [scan(BASE, ca_directory, host="a.test"), scan(Config(reachable=False), ca_directory, host="b.test")]
    new = [scan(BASE, ca_directory, host="a.test")]
    diff = diff_scans(iter(old), iter(new))  # iterators: read once
    assert (diff.old.servers, diff.old.reachable, diff.new.servers, diff.new.reachable) == (2, 1, 1, 1)
    assert diff.old.started_at is not None
    assert diff.old.started_at.isoformat() == min(server["started_at"] for server in old)
    assert diff_scans([], []).old.started_at is None


def test_a_target_listed_twice_is_compared_by_its_first_result(ca_directory: Path) -> None:
    first, again = scan(BASE, ca_directory), scan(WITH_TLS10, ca_directory)
    assert diff_scans([first], [first, again]).targets == ()
    assert diff_scans([first], [first, again]).new.servers == 1
    assert only(diff_scans([first], [again, first])).worse


# --- versions and suites -------------------------------------------------------------------------------------------


def test_a_deprecated_version_enabled_is_worse(ca_directory: Path) -> None:
    target = only(compare(BASE, WITH_TLS10, ca_directory))
    cbc = "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
    assert structural(target.changes) == [
        ("version_enabled", "worse", None, "tls1_0"),
        ("cipher_suite_added", "worse", "tls1_0", cbc),
        ("cipher_suite_added", "worse", "tls1_2", cbc),
    ]
    assert {change.direction for change in target.changes} == {WORSE}
    assert [c.kind for c in target.changes][:2] == [ChangeKind.GRADE_DOWN, ChangeKind.FINDING_NEW]
    by_kind = {(c.kind, c.scope, c.subject): c for c in target.changes}
    version = by_kind[ChangeKind.VERSION_ENABLED, None, "tls1_0"]
    assert (version.message, version.before, version.after) == ("TLS 1.0 enabled (deprecated)", False, True)
    suite = by_kind[ChangeKind.CIPHER_SUITE_ADDED, "tls1_0", cbc]
    assert suite.message == f"weak cipher suite enabled at TLS 1.0: {cbc} (not AEAD)"
    finding = by_kind[ChangeKind.FINDING_NEW, None, "tls1_0"]
    assert (finding.before, finding.after) == (None, "medium")
    assert finding.message.startswith("new finding (medium): ") and "TLS 1.0" in finding.message
    grade = by_kind[ChangeKind.GRADE_DOWN, None, None]
    assert (grade.message, grade.before) == (f"grade down from A to {grade.after}", "A")


def test_a_deprecated_version_disabled_is_better(ca_directory: Path) -> None:
    target = only(compare(WITH_TLS10, BASE, ca_directory))
    assert {change.direction for change in target.changes} == {BETTER}
    assert structural(target.changes)[0] == ("version_disabled", "better", None, "tls1_0")
    assert target.changes[0].kind is ChangeKind.GRADE_UP
    (resolved,) = (c for c in target.changes if c.kind is ChangeKind.FINDING_RESOLVED and c.subject == "tls1_0")
    assert (resolved.before, resolved.after) == ("medium", None)
    assert resolved.message.startswith("finding resolved (medium): ")


def test_tls13_disabled_is_worse_and_enabled_better(ca_directory: Path) -> None:
    tls12 = Config(versions=frozenset({TLSVersion.TLS1_2}))
    removed = only(compare(BASE, tls12, ca_directory)).changes
    assert structural(removed) == [
        ("version_disabled", "worse", None, "tls1_3"),
        ("cipher_suite_removed", "neutral", "tls1_3", "TLS_AES_128_GCM_SHA256"),
        ("cipher_suite_removed", "neutral", "tls1_3", "TLS_AES_256_GCM_SHA384"),
        ("group_removed", "neutral", "tls1_3", "secp256r1"),
        ("group_removed", "neutral", "tls1_3", "x25519"),
    ]
    messages = {(c.kind, c.subject): c.message for c in removed}
    assert messages[ChangeKind.VERSION_DISABLED, "tls1_3"] == "TLS 1.3 disabled"
    assert messages[ChangeKind.CIPHER_SUITE_REMOVED, "TLS_AES_128_GCM_SHA256"] == (
        "cipher suite removed at TLS 1.3: TLS_AES_128_GCM_SHA256"
    )
    added = only(compare(tls12, BASE, ca_directory)).changes
    (enabled,) = (c for c in added if c.kind is ChangeKind.VERSION_ENABLED)
    assert (enabled.subject, enabled.direction, enabled.message) == ("tls1_3", BETTER, "TLS 1.3 enabled")


def test_for_reading_a_versions_neutral_suites_and_groups_go_on_one_line_each(ca_directory: Path) -> None:
    tls12 = Config(versions=frozenset({TLSVersion.TLS1_2}), suites=(*MODERN_SUITES, "TLS_RSA_WITH_AES_128_GCM_SHA256"))
    changes = only(compare(BASE, tls12, ca_directory)).changes
    folded = folded_changes(changes)
    assert [change.message for change in folded if change.kind in _SUITES_AND_GROUPS] == [
        "weak cipher suite enabled at TLS 1.2: TLS_RSA_WITH_AES_128_GCM_SHA256 (no forward secrecy)",
        "2 cipher suites removed at TLS 1.3: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384",
        "2 groups removed under TLS 1.3: secp256r1, x25519",
    ]
    assert [c for c in folded if c.kind not in _SUITES_AND_GROUPS] == [
        c for c in changes if c.kind not in _SUITES_AND_GROUPS
    ]
    assert [c.subject for c in folded if c.kind is ChangeKind.CIPHER_SUITE_REMOVED] == [None]
    single = Config(suites=(*MODERN_SUITES, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"))
    one = only(compare(BASE, single, ca_directory)).changes
    assert folded_changes(one) == one  # a run of one stays as it is


_SUITES_AND_GROUPS = {
    ChangeKind.CIPHER_SUITE_ADDED,
    ChangeKind.CIPHER_SUITE_REMOVED,
    ChangeKind.GROUP_ADDED,
    ChangeKind.GROUP_REMOVED,
}


def test_tls12_enabled_or_disabled_is_neutral(ca_directory: Path) -> None:
    tls13 = Config(versions=frozenset({TLSVersion.TLS1_3}))
    changes = only(compare(tls13, BASE, ca_directory)).changes
    version = next(change for change in changes if change.kind is ChangeKind.VERSION_ENABLED)
    assert (version.subject, version.direction, version.message) == ("tls1_2", NEUTRAL, "TLS 1.2 enabled")
    assert all(change.direction is not WORSE for change in changes)


def test_a_weak_suite_added_is_worse_a_strong_one_neutral_and_back(ca_directory: Path) -> None:
    more = Config(suites=(*MODERN_SUITES, "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"))
    added = only(compare(BASE, more, ca_directory)).changes
    added = tuple(c for c in added if c.kind is ChangeKind.CIPHER_SUITE_ADDED)
    assert summary(added) == [
        ("cipher_suite_added", "worse", "tls1_2", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
        ("cipher_suite_added", "neutral", "tls1_2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    ]
    assert added[0].message == (
        "weak cipher suite enabled at TLS 1.2: TLS_RSA_WITH_AES_128_GCM_SHA256 (no forward secrecy)"
    )
    assert (added[0].before, added[0].after) == (False, True)
    removed = only(compare(more, BASE, ca_directory)).changes
    assert structural(removed) == [
        ("cipher_suite_removed", "neutral", "tls1_2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        ("cipher_suite_removed", "better", "tls1_2", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    ]


# --- groups --------------------------------------------------------------------------------------------------------


def test_a_weak_group_added_is_worse_and_removed_better(ca_directory: Path) -> None:
    # Preferred before the certificate's curve, which the check keeps offering (RFC 8422): a server choosing by
    # its own order would pick that one again and end the enumeration before a curve it likes less.
    weak = Config(curves=("secp192r1", "x448", *BASE.curves))
    added = only(compare(BASE, weak, ca_directory)).changes
    assert summary(added) == [
        ("group_added", "worse", "ecdhe_below_tls1_3", "secp192r1"),
        ("group_added", "neutral", "tls1_3", "x448"),
        ("group_added", "neutral", "ecdhe_below_tls1_3", "x448"),
    ]
    assert added[0].message == "weak group (192 bits) enabled with ECDHE below TLS 1.3: secp192r1"
    assert added[1].message == "group enabled under TLS 1.3: x448"
    removed = only(compare(weak, BASE, ca_directory)).changes
    assert [(c.kind, c.direction) for c in removed if c.subject == "secp192r1"] == [(ChangeKind.GROUP_REMOVED, BETTER)]


def test_a_post_quantum_group_added_is_better_and_removed_worse(ca_directory: Path) -> None:
    hybrid = Config(curves=("X25519MLKEM768", *BASE.curves))
    added = only(compare(BASE, hybrid, ca_directory)).changes
    assert summary(added) == [("group_added", "better", "tls1_3", "X25519MLKEM768")]
    assert added[0].message == "post-quantum group enabled under TLS 1.3: X25519MLKEM768"
    assert summary(only(compare(hybrid, BASE, ca_directory)).changes) == [
        ("group_removed", "worse", "tls1_3", "X25519MLKEM768")
    ]


# --- certificates --------------------------------------------------------------------------------------------------


def test_a_replaced_certificate_is_neutral(ca_directory: Path) -> None:
    renewed = Config(certificate=leaf(serial=1))
    (replaced,) = only(compare(BASE, renewed, ca_directory)).changes
    assert (replaced.kind, replaced.direction) == (ChangeKind.CERTIFICATE_REPLACED, NEUTRAL)
    until = renewed.certificate.cert.not_valid_after_utc.date().isoformat()
    assert replaced.message == f"certificate replaced: CN=server.test, valid until {until}"
    assert isinstance(replaced.before, tuple) and isinstance(replaced.after, tuple)
    assert len(replaced.after) == 1 and replaced.before != replaced.after


def test_a_certificate_now_expiring_is_worse_saying_how_many_days(ca_directory: Path) -> None:
    soon = Config(certificate=leaf(days_left=10))
    diff = compare(BASE, soon, ca_directory)
    expiring = only(diff).changes[0]
    assert (expiring.kind, expiring.direction) == (ChangeKind.CERTIFICATE_EXPIRING, WORSE)
    until = soon.certificate.cert.not_valid_after_utc.date().isoformat()
    assert expiring.message == f"certificate expires in 10 days, on {until}"
    assert (expiring.before, expiring.after) == (200, 10)
    assert diff.targets_with(ChangeKind.CERTIFICATE_EXPIRING) == ("server.test:443",)
    # Ten days and an hour left: within 11 days, not within 10.
    assert compare(BASE, soon, ca_directory, expiry_days=11).targets_with(ChangeKind.CERTIFICATE_EXPIRING)
    assert not compare(BASE, soon, ca_directory, expiry_days=10).targets_with(ChangeKind.CERTIFICATE_EXPIRING)
    # Expiring on both sides is no change; renewed, it is better.
    assert not compare(soon, soon, ca_directory).targets
    resolved = only(compare(soon, BASE, ca_directory)).changes
    assert summary(resolved)[-1] == ("certificate_expiry_resolved", "better", None, None)
    assert resolved[-1].message.startswith("certificate no longer expiring soon: valid until ")


def test_an_expired_certificate_is_worse(ca_directory: Path) -> None:
    expired = Config(certificate=leaf(days_left=-3))
    changes = only(compare(BASE, expired, ca_directory)).changes
    by_kind = {change.kind: change for change in changes}
    gone = by_kind[ChangeKind.CERTIFICATE_EXPIRED]
    until = expired.certificate.cert.not_valid_after_utc.date().isoformat()
    assert (gone.direction, gone.message, gone.after) == (WORSE, f"certificate expired on {until}", -3)
    assert by_kind[ChangeKind.TRUST_LOST].direction is WORSE  # an expired chain does not validate
    assert any(c.kind is ChangeKind.FINDING_NEW and c.subject == "certificate_validity" for c in changes)
    back = only(compare(expired, BASE, ca_directory)).changes
    assert any(
        c.kind is ChangeKind.CERTIFICATE_EXPIRY_RESOLVED and c.message.startswith("certificate no longer expired")
        for c in back
    )


def test_trust_lost_is_worse_and_regained_better(ca_directory: Path) -> None:
    untrusted = Config(trusted=False)
    lost = only(compare(BASE, untrusted, ca_directory)).changes
    assert summary(lost) == [
        ("grade_down", "worse", None, None),
        ("finding_new", "worse", None, "certificate_untrusted"),
        ("trust_lost", "worse", None, None),
    ]
    assert (lost[0].message, lost[0].before, lost[0].after) == ("grade down from A to F", "A", "F")
    assert lost[1].after == "high" and "not trusted" in lost[1].message
    assert lost[2].message.startswith("certificate no longer trusted: ")
    assert (lost[2].before, lost[2].after) == (True, False)
    regained = only(compare(untrusted, BASE, ca_directory)).changes
    assert summary(regained) == [
        ("grade_up", "better", None, None),
        ("finding_resolved", "better", None, "certificate_untrusted"),
        ("trust_gained", "better", None, None),
    ]
    assert regained[0].message == "grade up from F to A"


def test_a_finding_whose_severity_changed_goes_the_way_of_the_severity(ca_directory: Path) -> None:
    old = scan(WITH_TLS10, ca_directory)
    new = scan(WITH_TLS10, ca_directory)
    (finding,) = (finding for finding in new["findings"] if finding["id"] == "tls1_0")
    finding["severity"] = "high"  # the one edit: as a later catalogue might judge it
    (change,) = only(diff_scans([old], [new])).changes
    assert (change.kind, change.direction, change.before, change.after) == (
        ChangeKind.FINDING_SEVERITY_CHANGED,
        WORSE,
        "medium",
        "high",
    )
    assert change.message.startswith("finding now high, was medium: ")
    assert only(diff_scans([new], [old])).changes[0].direction is BETTER


# --- a check that did not complete on both sides -------------------------------------------------------------------


def test_a_check_failing_now_is_noted_and_nothing_is_claimed_from_it(ca_directory: Path) -> None:
    """TLS 1.0 was on; its check now times out: that is no evidence TLS 1.0, its suite or its findings went."""
    failing = attrs.evolve(WITH_TLS10, failing=frozenset({"tls1_0_cipher_suites"}))
    diff = compare(WITH_TLS10, failing, ca_directory)
    (note,) = only(diff).changes
    assert (note.kind, note.direction, note.subject) == (ChangeKind.CHECK_FAILED, NEUTRAL, "tls1_0_cipher_suites")
    assert (note.before, note.after) == ("completed", "failed")
    assert note.message == (
        "the tls1_0_cipher_suites check failed (timeout: no answer within 5 s): its results are unknown"
    )
    assert not diff.worse
    # And back: TLS 1.0 is seen again, but it was unknown before, so nothing is claimed either.
    (recovered,) = only(compare(failing, WITH_TLS10, ca_directory)).changes
    assert (recovered.kind, recovered.direction) == (ChangeKind.CHECK_RECOVERED, NEUTRAL)
    assert (recovered.before, recovered.after) == ("failed", "completed")


@pytest.mark.parametrize(
    ("after", "check"),
    [
        (Config(trusted=False, certificate=leaf(days_left=3)), "certificate"),
        (Config(curves=("secp192r1", *BASE.curves)), "supported_groups"),
        (Config(suites=(*MODERN_SUITES, "TLS_RSA_WITH_AES_128_GCM_SHA256")), "tls1_2_cipher_suites"),
    ],
)
def test_no_change_is_claimed_from_a_check_that_failed_on_either_side(
    ca_directory: Path, after: Config, check: str
) -> None:
    assert compare(BASE, after, ca_directory).worse  # the change is real and seen when the check completes
    failing = attrs.evolve(after, failing=frozenset({check}))
    for old, new in ((BASE, failing), (failing, BASE)):
        changes = only(compare(old, new, ca_directory)).changes
        assert [(c.kind, c.subject) for c in changes if c.kind not in _NOTES] == []
        assert [c.subject for c in changes] == [check]


_NOTES = {ChangeKind.CHECK_FAILED, ChangeKind.CHECK_RECOVERED}


def test_a_check_run_on_one_side_only_gives_no_change(ca_directory: Path) -> None:
    old = scan(BASE, ca_directory)
    new = scan(Config(trusted=False), ca_directory)
    new["checks"] = [outcome for outcome in new["checks"] if outcome["name"] != "certificate"]
    new["findings"] = [finding for finding in new["findings"] if finding["id"] != "certificate_untrusted"]
    assert diff_scans([old], [new]).targets == ()  # the grade too: the certificate check is not comparable
    assert diff_scans([new], [old]).targets == ()


# --- order and the JSON form ---------------------------------------------------------------------------------------


def test_targets_are_listed_worst_first_and_changes_worse_then_neutral_then_better(ca_directory: Path) -> None:
    old = [
        scan(BASE, ca_directory, host="a.test"),
        scan(WITH_TLS10, ca_directory, host="b.test"),
        scan(BASE, ca_directory, host="c.test"),
        scan(BASE, ca_directory, host="d.test"),
    ]
    mixed = Config(certificate=leaf(serial=2), trusted=False, curves=("X25519MLKEM768", *BASE.curves))
    new = [
        scan(BASE, ca_directory, host="a.test"),  # unchanged
        scan(BASE, ca_directory, host="b.test"),  # only better
        scan(mixed, ca_directory, host="c.test"),  # worse, neutral and better
        scan(Config(reachable=False), ca_directory, host="d.test"),  # one worse
    ]
    diff = diff_scans(old, new)
    assert [target.target for target in diff.targets] == ["c.test:443", "d.test:443", "b.test:443"]
    assert diff.targets_worse == ("c.test:443", "d.test:443")
    directions = [change.direction for change in diff.targets[0].changes]
    assert directions == sorted(directions, key=[WORSE, NEUTRAL, BETTER].index)
    assert {WORSE, NEUTRAL, BETTER} <= set(directions)
    assert diff.worse
    assert diff.count(WORSE) == diff.targets[0].count(WORSE) + 1


def test_the_json_form_is_exact_and_its_order_stable(ca_directory: Path) -> None:
    hostile = "evil\x1b]0 pwned\x07\u202etxt.exe"
    old = [scan(BASE, ca_directory, host=host) for host in ("a.test", "b.test")]
    new = [
        scan(Config(certificate=leaf(subject=hostile)), ca_directory, host="a.test"),
        scan(WITH_TLS10, ca_directory, host="b.test"),
    ]
    document = diff_scans(old, new).to_jsonable()
    assert document == diff_scans(reversed(old), reversed(new)).to_jsonable()
    text = json.dumps(document, ensure_ascii=False)
    assert json.loads(text) == document
    assert list(document) == [
        "old",
        "new",
        "expiry_days",
        "targets_compared",
        "targets_added",
        "targets_removed",
        "worse",
        "counts",
        "targets_worse",
        "targets",
    ]
    # b.test's certificate is not for b.test: its grade is F on both sides, and only TLS 1.0 is new.
    assert document["targets_worse"] == ["b.test:443"]
    worse = len(document["targets"][0]["changes"])
    assert [change["direction"] for change in document["targets"][0]["changes"]] == ["worse"] * worse
    assert "grade_down" not in [change["kind"] for change in document["targets"][0]["changes"]]
    assert document["counts"] == {"worse": worse, "neutral": 1, "better": 0}
    (replaced,) = document["targets"][1]["changes"]
    assert replaced["message"].startswith(f"certificate replaced: CN={hostile}, valid until ")  # exact
    assert list(replaced) == ["kind", "direction", "message", "scope", "subject", "before", "after"]
    assert isinstance(replaced["after"], list)
    assert document["targets"][0]["counts"] == {"worse": worse, "neutral": 0, "better": 0}
    assert document["new"]["started_at"] == min(server["started_at"] for server in new)


# --- bad input -----------------------------------------------------------------------------------------------------


def test_input_that_is_not_a_scan_result_is_one_clear_error(ca_directory: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"^server 2 of the new scan is not a tlsprobe server result"):
        diff_scans([], [scan(BASE, ca_directory), {"servers": []}])
    broken = scan(BASE, ca_directory)
    (tls12,) = (outcome for outcome in broken["checks"] if outcome["name"] == "tls1_2_cipher_suites")
    del tls12["result"]["accepted_cipher_suites"]
    expected = r"^server 1 \(server\.test:443\) of the new scan is not a tlsprobe server result \(missing"
    with pytest.raises(ConfigurationError, match=expected):
        diff_scans([scan(BASE, ca_directory)], [broken])
    with pytest.raises(ConfigurationError, match="expiry_days must be 0 or more"):
        diff_scans([], [], expiry_days=-1)
