"""What in a result should fail a CI job (exit code 1).

With a policy, its verdict decides: anything but "pass" fails (an incomplete evaluation never passes). Without
one, every finding of medium severity or worse fails. Either way, a server or check that could not be scanned
fails: a scan that did not happen must not pass.
"""

from __future__ import annotations

from tlsprobe._model._assessment import Severity, Verdict
from tlsprobe._model._results import CheckFailed, ConnectivityFailed, ServerScanResult


def concerns(result: ServerScanResult) -> list[str]:
    """Plain-language concerns, most serious first; empty when the scan found nothing to worry about."""
    if isinstance(result.connectivity, ConnectivityFailed):
        return [f"not scanned: {result.connectivity.error.message}"]
    found = [
        f"{outcome.name} could not be completed: {outcome.error.message}"
        for outcome in result.checks
        if isinstance(outcome, CheckFailed)
    ]
    compliance = result.compliance
    if compliance is None:
        found += [finding.title for finding in result.findings if finding.severity is not Severity.LOW]
    elif compliance.verdict is Verdict.FAIL:
        found += [f"{compliance.policy}: {d.rule}: {', '.join(d.found)}" for d in compliance.deviations]
    elif compliance.verdict is Verdict.INCOMPLETE:
        found += [f"{compliance.policy}: not evaluated: {u.rule} ({u.reason})" for u in compliance.unevaluated]
    return found
