"""The finite-field Diffie-Hellman groups a server used, gathered from the answers the checks already have.

No connection is made here: every DHE answer of the cipher-suite enumerations carries its group (p and g from the
ServerKeyExchange, ``AcceptedCipherSuite.ephemeral_key``), and the groups check adds the RFC 7919 groups it
negotiated below TLS 1.3. Each distinct (p, g) is judged once by ``wire.analyze_dh_group``; the findings and the
policy read the result, and the scan result carries it (``ServerScanResult.dh_groups``).
"""

from __future__ import annotations

from collections.abc import Iterable

from tlsprobe._model._results import CheckCompleted, ServerScanResult
from tlsprobe.checks.cipher_suites import CipherSuitesResult
from tlsprobe.checks.groups import SupportedGroupsResult
from tlsprobe.wire import EphemeralKeyKind, ffdhe_prime
from tlsprobe.wire._dh_groups import DHGroupAnalysis, GeneratorOrder, ObservedDHGroup, Primality, analyze_dh_group
from tlsprobe.wire._versions import TLSVersion

_RFC7919_GENERATOR = 2


class _Sightings:
    """Where each (p, g) was seen, in the order first seen."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int], tuple[set[TLSVersion], dict[str, None], dict[str, None]]] = {}

    def add(self, prime: int, generator: int, version: TLSVersion, check: str, suite: str | None) -> None:
        versions, suites, checks = self.seen.setdefault((prime, generator), (set(), {}, {}))
        versions.add(version)
        checks[check] = None
        if suite is not None:
            suites[suite] = None

    def observed(self) -> tuple[ObservedDHGroup, ...]:
        return tuple(
            ObservedDHGroup(
                analysis=analyze_dh_group(prime, generator),
                versions=tuple(sorted(versions)),
                cipher_suites=tuple(suites),
                checks=tuple(checks),
            )
            for (prime, generator), (versions, suites, checks) in self.seen.items()
        )


def observed_dh_groups(result: ServerScanResult) -> tuple[ObservedDHGroup, ...]:
    """Every finite-field group in the completed results of ``result``, judged, in the order first seen."""
    sightings = _Sightings()
    completed = [outcome for outcome in result.checks if isinstance(outcome, CheckCompleted)]
    for outcome in completed:
        found = outcome.result
        if isinstance(found, CipherSuitesResult):
            for entry in found.accepted_cipher_suites:
                key = entry.ephemeral_key
                if key is None or key.kind is not EphemeralKeyKind.DH or not key.dh_prime or not key.dh_generator:
                    continue
                prime, generator = int.from_bytes(key.dh_prime, "big"), int.from_bytes(key.dh_generator, "big")
                sightings.add(prime, generator, found.version, outcome.name, entry.cipher_suite.name)
        elif isinstance(found, SupportedGroupsResult) and found.ffdhe_below_tls1_3 is not None:
            for group in found.ffdhe_below_tls1_3.accepted_groups:
                if (rfc7919_prime := ffdhe_prime(group.code)) is not None:
                    sightings.add(
                        rfc7919_prime, _RFC7919_GENERATOR, found.ffdhe_below_tls1_3.version, outcome.name, None
                    )
    return sightings.observed()


def evidence(group: ObservedDHGroup) -> str:
    """One line naming the group, what is wrong or right with it, and where it was used."""
    analysis = group.analysis
    where = ", ".join(version.label for version in group.versions)
    suites = group.cipher_suites
    used = f"{suites[0]}" + (f" and {len(suites) - 1} more" if len(suites) > 1 else "") if suites else "negotiated"
    return f"{analysis.label}: {analysis.describe()} ({used}; {where})"


def evidence_of(groups: Iterable[ObservedDHGroup]) -> tuple[str, ...]:
    """``evidence`` of each group."""
    return tuple(evidence(group) for group in groups)


def is_sound_dh_group(analysis: DHGroupAnalysis) -> bool:
    """A safe prime whose generator generates a large subgroup (of order q or 2q), and not a widely shared prime of
    1024 bits or less: what both of Mozilla's DHE recommendations give (ffdhe2048, or ``openssl dhparam``)."""
    large = analysis.generator_order in (GeneratorOrder.PRIME_ORDER_SUBGROUP, GeneratorOrder.LARGE_WITH_COFACTOR)
    return (
        analysis.primality is Primality.PRIME
        and analysis.safe_prime is True
        and large
        and not analysis.is_precomputation_target
    )
