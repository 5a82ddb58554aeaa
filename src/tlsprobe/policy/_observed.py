"""What the checks observed, read back from a scan result for the policy, the findings and the grade.

Every reader either returns the observation or raises ``NotObserved`` saying which check is missing, failed or did
not apply, so that a judgement built on it can say "incomplete" instead of passing by default.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from tlsprobe._model._results import CheckFailed, CheckOutcome, CheckSkipped, ServerScanResult
from tlsprobe.checks.certificate import CertificateDeployment, CertificateResult
from tlsprobe.checks.cipher_suites import AcceptedCipherSuite, CipherSuitesResult
from tlsprobe.checks.groups import SupportedGroupsResult
from tlsprobe.wire._versions import TLSVersion

T = TypeVar("T")


class NotObserved(Exception):  # noqa: N818 - a condition, not an error of tlsprobe
    """A check a judgement needs did not produce a result."""


class Observations:
    """Typed access to the completed check results of one server."""

    def __init__(self, result: ServerScanResult) -> None:
        self.result = result

    def _outcome(self, name: str) -> CheckOutcome:
        try:
            return self.result.outcome(name)
        except KeyError:
            raise NotObserved(f"the {name} check was not run") from None

    def get(self, name: str, result_type: type[T]) -> T:
        """The result of the check ``name``; ``NotObserved`` saying why there is none."""
        outcome = self._outcome(name)
        if isinstance(outcome, CheckFailed):
            raise NotObserved(f"the {name} check failed: {outcome.error.message}")
        if isinstance(outcome, CheckSkipped):
            raise NotObserved(f"the {name} check did not apply: {outcome.reason}")
        if not isinstance(outcome.result, result_type):
            raise NotObserved(f"the {name} check gave a {type(outcome.result).__name__}")
        return outcome.result

    def optional(self, name: str, result_type: type[T]) -> T | None:
        """The result of ``name``, or None when the check was skipped as not applicable."""
        if isinstance(self._outcome(name), CheckSkipped):
            return None
        return self.get(name, result_type)

    def cipher_results(self) -> list[CipherSuitesResult]:
        """Every version's cipher-suite result; ``NotObserved`` when any version's is missing."""
        return [self.get(f"{version.value}_cipher_suites", CipherSuitesResult) for version in TLSVersion]

    def accepted_versions(self) -> list[TLSVersion]:
        """The versions the server accepts, oldest first."""
        return [result.version for result in self.cipher_results() if result.is_supported]

    def accepted_suites(self) -> Iterator[tuple[TLSVersion, AcceptedCipherSuite]]:
        """Every accepted suite with its version."""
        for result in self.cipher_results():
            for entry in result.accepted_cipher_suites:
                yield result.version, entry

    def deployments(self) -> tuple[CertificateDeployment, ...]:
        """The certificate deployments."""
        return self.get("certificate", CertificateResult).deployments

    def groups(self) -> SupportedGroupsResult:
        """The supported-groups result."""
        return self.get("supported_groups", SupportedGroupsResult)
