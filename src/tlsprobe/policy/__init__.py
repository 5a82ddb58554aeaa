"""Policies, findings and grades: judging scan results.

- ``mozilla_profile("intermediate")`` and ``load_policy(path)`` give a ``Policy``; ``evaluate_policy`` lists every
  deviation (or says what could not be evaluated).
- ``derive_findings`` names what is wrong in plain words with the evidence (SWEET32, FREAK, LOGJAM, DROWN...).
- ``grade`` gives A+ to F with the reason for every cap (the rules are in docs/grading.md).
- ``simulate_handshakes`` tells what each real client of ``client_profiles()`` would negotiate (version, suite,
  group, certificate) or why it fails, computed from the results without connecting.

A ``Scanner`` whose ``ScanConfig`` has a ``policy`` fills ``ServerScanResult.compliance``; findings, grade and client
simulation are always filled.
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
from tlsprobe._model._simulation import SimulatedHandshake, SimulationOutcome
from tlsprobe.policy._client_profiles import ClientProfile, client_profiles
from tlsprobe.policy._client_simulation import simulate_handshakes
from tlsprobe.policy._compliance import evaluate_policy
from tlsprobe.policy._findings import derive_findings
from tlsprobe.policy._grade import grade
from tlsprobe.policy._load import MOZILLA_PROFILES, load_policy, mozilla_profile, policy_from_json

__all__ = [
    "ClientProfile",
    "Compliance",
    "Deviation",
    "Finding",
    "GRADES",
    "Grade",
    "GradeCap",
    "MOZILLA_PROFILES",
    "Policy",
    "Severity",
    "SimulatedHandshake",
    "SimulationOutcome",
    "UnevaluatedRule",
    "Verdict",
    "Vulnerability",
    "client_profiles",
    "derive_findings",
    "evaluate_policy",
    "grade",
    "load_policy",
    "mozilla_profile",
    "policy_from_json",
    "simulate_handshakes",
]
