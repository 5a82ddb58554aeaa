"""Small helpers for tests that scan real servers."""

from __future__ import annotations

from typing import Any, TypeVar

from tlsprobe import (
    CheckCompleted,
    CheckFailed,
    ConnectivityCompleted,
    ScanConfig,
    ServerScanResult,
    TLSVersion,
    scan_server,
)
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._results import ProbeCost
from tlsprobe.checks import AcceptedCipherSuite, Check, CipherSuitesCheck, CipherSuitesResult, EnumerationMode

T = TypeVar("T")


def cipher_result(result: ServerScanResult, version: TLSVersion) -> CipherSuitesResult:
    """The completed cipher-suite result for ``version``; fails the test if the check did not complete."""
    outcome = result.outcome(f"{version.value}_cipher_suites")
    assert isinstance(outcome, CheckCompleted), outcome
    assert isinstance(outcome.result, CipherSuitesResult)
    return outcome.result


def accepted_entry(result: ServerScanResult, version: TLSVersion, name: str) -> AcceptedCipherSuite:
    """The accepted suite called ``name`` at ``version``; fails the test if it was not accepted."""
    entries = [
        entry for entry in cipher_result(result, version).accepted_cipher_suites if entry.cipher_suite.name == name
    ]
    assert entries, f"{name} not accepted at {version.label}"
    return entries[0]


def accepted_names(result: ServerScanResult, version: TLSVersion) -> set[str]:
    """IANA names of the suites accepted at ``version``."""
    return {entry.cipher_suite.name for entry in cipher_result(result, version).accepted_cipher_suites}


def cipher_checks(mode: EnumerationMode = EnumerationMode.BUNDLE) -> list[Check[Any]]:
    return [CipherSuitesCheck(version=version, mode=mode) for version in TLSVersion]


async def scan_both_modes(target: str, config: ScanConfig | None = None) -> tuple[ServerScanResult, ServerScanResult]:
    """The same server scanned in bundle mode and in exhaustive mode."""
    bundle = await scan_server(target, cipher_checks(), config=config)
    exhaustive = await scan_server(target, cipher_checks(EnumerationMode.EXHAUSTIVE), config=config)
    return bundle, exhaustive


def only_result(result: ServerScanResult, result_type: type[T]) -> T:
    """The result of the one check ``result`` ran, which must have completed with a ``result_type``."""
    (outcome,) = result.checks
    assert isinstance(outcome, CheckCompleted), outcome
    assert isinstance(outcome.result, result_type), outcome.result
    return outcome.result


# Ephemeral key shares are fresh on every handshake; how many renegotiations are tried once one is accepted
# depends on how long they take (ClientRenegotiationCheck.enough_after_s), and so what they took.
_VOLATILE_KEYS = frozenset(
    {"public_key", "renegotiation_durations_s", "renegotiations_tried", "successful_renegotiations", "stopped_early"}
)


def comparable(value: Any) -> Any:
    """``value`` (JSON) without what differs between two scans of the same server."""
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items() if key not in _VOLATILE_KEYS}
    if isinstance(value, list):
        return [comparable(item) for item in value]
    return value


def observations(result: ServerScanResult) -> dict[str, Any]:
    """Everything the scan found: each check's result and the findings; costs and timings left out."""
    assert isinstance(result.connectivity, ConnectivityCompleted), result.connectivity
    found: dict[str, Any] = {"findings": comparable(to_jsonable(result.findings))}
    for outcome in result.checks:
        assert not isinstance(outcome, CheckFailed), outcome
        found[outcome.name] = comparable(
            to_jsonable(outcome.result if isinstance(outcome, CheckCompleted) else outcome.reason)
        )
    return found


def completed_suites(version: TLSVersion, *accepted: AcceptedCipherSuite) -> CheckCompleted[CipherSuitesResult]:
    """A completed cipher-suite check at ``version`` that accepted ``accepted``, as a hand-made result."""
    result = CipherSuitesResult(
        version=version,
        is_supported=bool(accepted),
        accepted_cipher_suites=accepted,
        server_order_enforced=None,
        rejected_cipher_suites=(),
        mode=EnumerationMode.BUNDLE,
    )
    return CheckCompleted(
        name=f"{version.value}_cipher_suites",
        result=result,
        cost=ProbeCost(connections=1, retries=0, duration_s=0.0),
    )
