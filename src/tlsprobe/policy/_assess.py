"""The one place a scan result gets its judgements: findings, grade, client simulation and, with a policy, the
verdict."""

from __future__ import annotations

import attrs

from tlsprobe._model._assessment import Policy
from tlsprobe._model._results import ServerScanResult
from tlsprobe.policy._client_simulation import simulate_handshakes
from tlsprobe.policy._compliance import evaluate_policy
from tlsprobe.policy._dh_groups import observed_dh_groups
from tlsprobe.policy._findings import derive_findings
from tlsprobe.policy._grade import grade


def assess(result: ServerScanResult, policy: Policy | None) -> ServerScanResult:
    """``result`` with its findings, grade, client simulation and verdict against ``policy`` (None: no verdict)."""
    findings = derive_findings(result)
    return attrs.evolve(
        result,
        findings=findings,
        grade=grade(result, findings=findings),
        compliance=evaluate_policy(result, policy, findings=findings) if policy is not None else None,
        dh_groups=observed_dh_groups(result),
        client_simulation=simulate_handshakes(result),
    )
