"""Policies, findings and grades: judging scan results.

- ``mozilla_profile("intermediate")`` and ``load_policy(path)`` give a ``Policy``; ``evaluate_policy`` lists every
  deviation (or says what could not be evaluated).
- ``derive_findings`` names what is wrong in plain words with the evidence (SWEET32, FREAK, LOGJAM, DROWN...).
- ``grade`` gives A+ to F with the reason for every cap (the rules are in docs/grading.md).

A ``Scanner`` whose ``ScanConfig`` has a ``policy`` fills ``ServerScanResult.compliance``; findings and grade are
always filled.
"""

from tlsprobe._model._assessment import (
    GRADES,
    Compliance,
    Deviation,
    Finding,
    Grade,
    GradeCap,
    Policy,
    Severity,
    UnevaluatedRule,
    Verdict,
    Vulnerability,
)
from tlsprobe.policy._compliance import evaluate_policy
from tlsprobe.policy._findings import derive_findings
from tlsprobe.policy._grade import grade
from tlsprobe.policy._load import MOZILLA_PROFILES, load_policy, mozilla_profile, policy_from_json

__all__ = [
    "Compliance",
    "Deviation",
    "Finding",
    "GRADES",
    "Grade",
    "GradeCap",
    "MOZILLA_PROFILES",
    "Policy",
    "Severity",
    "UnevaluatedRule",
    "Verdict",
    "Vulnerability",
    "derive_findings",
    "evaluate_policy",
    "grade",
    "load_policy",
    "mozilla_profile",
    "policy_from_json",
]
