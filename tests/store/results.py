"""Scan results for the store's and the summary's fast tests, made without a socket: the real cipher-suite checks
run against a scripted server (``tlsprobe.testing.ScriptedServer``), certificates from tests.trust's PKI judged by
the real certificate analysis, and the real assessment (findings and grade) on top."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import attrs
from cryptography.hazmat.primitives import serialization

from tests.trust import NOW, Issued, trust_pki
from tlsprobe import (
    CheckCompleted,
    CheckError,
    CheckFailed,
    CheckOutcome,
    ConnectivityCompleted,
    ConnectivityFailed,
    ErrorKind,
    ProbeCost,
    ServerScanResult,
    ServerTarget,
    TLSVersion,
)
from tlsprobe._model._json import to_jsonable
from tlsprobe.checks import CertificateResult, CertificateRetrieval, CipherSuitesCheck, OfferedKeyType, WithoutSNI
from tlsprobe.checks._certificate_retrieval import RetrievedChain
from tlsprobe.checks.certificate import analyse_deployment
from tlsprobe.policy._assess import assess
from tlsprobe.testing import ScriptedServer, tls_server
from tlsprobe.trust import TrustStore, TrustStoreName
from tlsprobe.wire.catalogue import cipher_suite_by_name

HOST = "www.example.com"  # the name tests.trust's leaf is for
STARTED_AT = NOW
MODERN = frozenset({TLSVersion.TLS1_2, TLSVersion.TLS1_3})
LEGACY = frozenset({TLSVersion.TLS1_0, TLSVersion.TLS1_1, TLSVersion.TLS1_2})
_SUITES = (
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",  # SWEET32: a medium finding, wherever the version allows it
)
"""What the scripted server accepts (tests.trust's leaf has an EC P-256 key), each at the versions it exists in."""


def _suite_codes() -> tuple[int, ...]:
    codes = []
    for name in _SUITES:
        suite = cipher_suite_by_name(name)
        assert suite is not None, name
        codes.append(suite.code)
    return tuple(codes)


def _cost(connections: int) -> ProbeCost:
    return ProbeCost(connections=connections, retries=0, duration_s=0.01)


@functools.cache
def cipher_outcomes(versions: frozenset[TLSVersion]) -> tuple[CheckOutcome, ...]:
    """The cipher-suite checks from SSL 3.0 to TLS 1.3, run against a scripted server speaking ``versions``; each
    outcome's cost is the connections the check opened on it."""

    async def run() -> tuple[CheckOutcome, ...]:
        outcomes: list[CheckOutcome] = []
        for version in TLSVersion:
            if version is TLSVersion.SSL2:
                continue  # SSL 2.0 has a hello of its own, which the scripted server is not given here
            server = ScriptedServer(
                hello=tls_server(versions, cipher_suites=_suite_codes()), highest_version=max(versions)
            )
            check = CipherSuitesCheck(version=version)
            result = await check.run(server.context())
            outcomes.append(CheckCompleted(name=check.name, result=result, cost=_cost(len(server.connections))))
        return tuple(outcomes)

    return anyio.run(run)


def test_root_store() -> TrustStore:
    """A store trusting tests.trust's root."""
    root = trust_pki().root.cert
    return TrustStore(
        name=TrustStoreName.CA_FILE, version=None, date=None, certificates=(root,), source=Path("test-root.pem")
    )


def certificate_outcome(*leaves: Issued) -> CheckCompleted[CertificateResult]:
    """One deployment per leaf, each sent with tests.trust's intermediate and judged against ``test_root_store``."""
    intermediate = trust_pki().intermediate.cert
    retrieval = CertificateRetrieval(version=TLSVersion.TLS1_2, server_name=HOST, offered_key_type=OfferedKeyType.ANY)
    deployments = tuple(
        analyse_deployment(
            [
                RetrievedChain(
                    certificates=tuple(
                        cert.public_bytes(serialization.Encoding.DER) for cert in (leaf.cert, intermediate)
                    ),
                    ocsp_response=None,
                    sct_list=None,
                    retrieval=retrieval,
                )
            ],
            HOST,
            [test_root_store()],
            now=NOW,
        )
        for leaf in leaves
    )
    result = CertificateResult(
        hostname=HOST, deployments=deployments, without_sni=WithoutSNI.SAME_CERTIFICATE, without_sni_reason=None
    )
    return CheckCompleted(name="certificate", result=result, cost=_cost(len(leaves) + 1))


def failed_certificate_outcome() -> CheckFailed:
    error = CheckError(kind=ErrorKind.TIMEOUT, message="no answer in 5 s", exception="ResponseTimeoutError")
    return CheckFailed(name="certificate", error=error, cost=_cost(2))


def scripted_result(
    *,
    target: ServerTarget | None = None,
    versions: frozenset[TLSVersion] = MODERN,
    leaves: Sequence[Issued] | None = None,
    certificate: CheckOutcome | None = None,
    started_at: datetime.datetime = STARTED_AT,
) -> ServerScanResult:
    """A reachable server's assessed result: ``versions`` from the cipher-suite checks, a certificate check with a
    deployment per leaf (tests.trust's ``leaf`` by default) unless ``certificate`` is given."""
    target = target or ServerTarget(host=HOST)
    outcome = certificate or certificate_outcome(*(leaves if leaves is not None else [trust_pki().leaf]))
    profile = ScriptedServer(target=target, highest_version=max(versions)).profile
    result = ServerScanResult(
        target=target,
        connectivity=ConnectivityCompleted(profile=profile, cost=_cost(3)),
        checks=(*cipher_outcomes(versions), outcome),
        started_at=started_at,
        duration_s=1.25,
    )
    return assess(result, None)


def unreachable_result(
    *, target: ServerTarget | None = None, started_at: datetime.datetime = STARTED_AT, message: str = "refused"
) -> ServerScanResult:
    """A server whose connectivity failed."""
    error = CheckError(kind=ErrorKind.CONNECTION_REJECTED, message=message, exception="ConnectionRejectedError")
    return assess(
        ServerScanResult(
            target=target or ServerTarget(host="down.example", port=8443),
            connectivity=ConnectivityFailed(error=error, cost=_cost(1)),
            checks=(),
            started_at=started_at,
            duration_s=0.5,
        ),
        None,
    )


@functools.cache
def _modern_document() -> dict[str, Any]:
    return to_jsonable(scripted_result())  # type: ignore[no-any-return]


def document(host: str = HOST, port: int = 443, **changes: Any) -> dict[str, Any]:
    """The JSON form of ``scripted_result()`` for another target (and ``changes`` at the top level): a quick way
    to many realistic documents."""
    base = _modern_document()
    return base | {"target": base["target"] | {"host": host, "port": port}} | changes


def retarget(result: ServerScanResult, host: str, port: int = 443) -> ServerScanResult:
    """``result`` as if it were another target's."""
    return attrs.evolve(result, target=ServerTarget(host=host, port=port))
