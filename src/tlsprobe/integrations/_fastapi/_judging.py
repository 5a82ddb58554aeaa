"""How a scan service judges what it scans: the trust anchors its certificate check adds, and its policies.

Set when the router is made: ``ca_file`` (CAs trusted besides the Mozilla and system stores, so that servers behind
a private CA are not all untrusted, and so graded F), ``compliance_policy`` (the policy every scan is judged
against unless its request names another) and ``named_policies`` (the policies a request may name). A request
picks a Mozilla profile (``"mozilla": "intermediate"``) or one of the named policies (``"policy": "internal"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, final

import attrs

from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._assessment import Policy
from tlsprobe.checks._base import Check
from tlsprobe.checks.certificate import CertificateCheck
from tlsprobe.policy import MOZILLA_PROFILES, mozilla_profile


def trusting(checks: Sequence[Check[Any]], ca_file: str | Path | None) -> list[Check[Any]]:
    """``checks`` with the certificate check trusting ``ca_file`` too. The file is read now: a bad one is a
    ``ConfigurationError`` before the service starts."""
    if ca_file is None:
        return list(checks)
    certificate_checks = [check for check in checks if isinstance(check, CertificateCheck)]
    if not certificate_checks:
        raise ConfigurationError("ca_file is for the certificate check, which this service does not offer")
    if any(check.ca_file is not None and check.ca_file != Path(ca_file) for check in certificate_checks):
        raise ConfigurationError("the certificate check offered has a CA file of its own: give one CA file only")
    trusting_ca = CertificateCheck(ca_file=ca_file)
    return [trusting_ca if isinstance(check, CertificateCheck) else check for check in checks]


class PolicyProblem(Exception):  # noqa: N818 - a request's mistake, answered with 422
    """A request names a policy the service does not offer, or two policies."""

    def __init__(self, message: str, *, field: str | None) -> None:
        super().__init__(message)
        self.field = field
        """The request field at fault; None when it is the combination."""


def _policy(value: object, what: str) -> Policy:
    if not isinstance(value, Policy):
        raise ConfigurationError(f"{what} is not a Policy (see tlsprobe.policy.load_policy), got {value!r}")
    return value


@final
@attrs.frozen(kw_only=True)
class PolicyChoice:
    """The policies a service judges by: its own, and those a request may name."""

    default: Policy | None
    """What a scan is judged against when its request names no policy; None: no verdict."""
    named: Mapping[str, Policy]
    """The policies a request may name, by the name it gives."""

    @classmethod
    def checked(cls, default: object, named: Mapping[Any, object]) -> PolicyChoice:
        """The choice, or a ``ConfigurationError`` naming the first option that is not a policy."""
        if default is not None and not isinstance(default, Policy):
            raise ConfigurationError(f"compliance_policy must be a Policy, got {default!r}")
        chosen: dict[str, Policy] = {}
        for name, policy in named.items():
            if not isinstance(name, str) or not name.strip():
                raise ConfigurationError(f"a named policy needs a name, got {name!r}")
            chosen[name] = _policy(policy, f"named_policies[{name!r}]")
        return cls(default=default, named=chosen)

    def for_request(self, mozilla: str | None, name: str | None) -> Policy | None:
        """The policy a request names, else the service's default.

        :raises PolicyProblem: an unknown name, or both kinds of policy named.
        """
        if mozilla is not None and name is not None:
            raise PolicyProblem("choose either mozilla or policy, not both", field=None)
        if mozilla is not None:
            if mozilla not in MOZILLA_PROFILES:  # the request model allows only these; a sentence all the same
                known = ", ".join(MOZILLA_PROFILES)
                raise PolicyProblem(f"unknown Mozilla profile {mozilla!r}; choose one of {known}", field="mozilla")
            return mozilla_profile(mozilla)
        if name is not None:
            policy = self.named.get(name)
            if policy is None:
                offered = f"offers: {', '.join(self.named)}" if self.named else "offers no named policies"
                raise PolicyProblem(f"unknown policy {name!r}; this service {offered}", field="policy")
            return policy
        return self.default
