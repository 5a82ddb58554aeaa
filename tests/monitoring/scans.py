"""Scans of scripted servers, in their JSON form: the material the diff and metrics tests compare.

Each scan runs tlsprobe's own checks, unchanged, against a ``ScriptedServer`` configured by a ``Config`` (versions,
suites, curves, certificate), assembles their outcomes into a ``ServerScanResult`` as the scanner does, judges it
with the policy package (findings and grade) and converts it with ``to_jsonable``: a real scan result, with no
socket. A check named in ``Config.failing`` meets a server whose every probe times out, as a check does whose
server stops answering mid-scan.
"""

from __future__ import annotations

import copy
import datetime
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import attrs
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.trust import DAY, NOW, Issued, issue
from tlsprobe import ServerTarget, TLSVersion
from tlsprobe._engine._errors import error_from_exception
from tlsprobe._exceptions import CheckNotApplicable, ConnectionRejectedError, ResponseTimeoutError
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._results import (
    CheckCompleted,
    CheckFailed,
    CheckOutcome,
    CheckSkipped,
    ConnectivityCompleted,
    ConnectivityFailed,
    ProbeCost,
    ServerScanResult,
)
from tlsprobe.checks import CertificateCheck, CipherSuitesCheck, SupportedGroupsCheck
from tlsprobe.checks._base import Check
from tlsprobe.policy._assess import assess
from tlsprobe.testing import ScriptedServer, accepted, rejected, tls_server
from tlsprobe.wire import ClientHelloSpec, EphemeralKey, EphemeralKeyKind
from tlsprobe.wire._answers import HelloAccepted, HelloOutcome, HelloRejected, SSL2Outcome, Tls13Flight
from tlsprobe.wire._server import HelloRetryRequest
from tlsprobe.wire._tls13 import CertificateEntry, EncryptedExtensions, Tls13Certificate
from tlsprobe.wire.catalogue import (
    KeyExchange,
    cipher_suite_by_code,
    cipher_suite_by_name,
    named_group_by_code,
    named_group_by_name,
)

MODERN_SUITES = (
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
)
"""What the default server accepts: TLS 1.3 suites and forward-secret AEAD suites below."""

HOST = "server.test"


@functools.cache
def certificate_authority() -> Issued:
    """The CA every test certificate is issued by."""
    return issue("Monitoring Test CA", key=ec.generate_private_key(ec.SECP256R1()), ca=True)


@functools.cache
def ca_file(directory: Path) -> Path:
    """The CA as a PEM file in ``directory``: the certificate check's ``ca_file``, which makes it trusted."""
    path = directory / "monitoring-ca.pem"
    path.write_bytes(certificate_authority().cert.public_bytes(serialization.Encoding.PEM))
    return path


@functools.cache
def leaf(*, days_left: int = 200, subject: str | None = None, serial: int = 0) -> Issued:
    """A leaf for ``HOST`` valid for ``days_left`` more days (from the tests' ``NOW``), with a CN of
    ``subject`` (the host by default); ``serial`` tells otherwise equal certificates apart."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject if subject is not None else HOST)])
    return issue(
        HOST,
        key=ec.generate_private_key(ec.SECP256R1()),
        issuer=certificate_authority(),
        sans=(HOST,),
        subject=name,
        not_before=NOW - 100 * DAY - serial * datetime.timedelta(seconds=1),
        not_after=NOW + days_left * DAY + datetime.timedelta(hours=1),
    )


@attrs.frozen(kw_only=True)
class Config:
    """A scripted server: what it speaks, and how the scan of it goes."""

    versions: frozenset[TLSVersion] = frozenset({TLSVersion.TLS1_2, TLSVersion.TLS1_3})
    """The versions it accepts (SSL 3.0 to TLS 1.3)."""
    suites: tuple[str, ...] = MODERN_SUITES
    """The suites it accepts, its preferred first (each at the versions it exists for)."""
    curves: tuple[str, ...] = ("x25519", "secp256r1")
    """The groups it accepts, for ECDHE below TLS 1.3 and for TLS 1.3."""
    certificate: Issued = attrs.field(factory=leaf)
    """Its leaf, sent with the CA."""
    trusted: bool = True
    """The scan is given the CA (``ca_file``), so the certificate is trusted."""
    reachable: bool = True
    """False: the connection is refused, and no check runs."""
    failing: frozenset[str] = frozenset()
    """Checks whose probes all time out."""


def scan(config: Config, directory: Path, *, host: str = HOST) -> dict[str, Any]:
    """The JSON form of a scan of the server ``config`` describes, reached as ``host``: a fresh copy, which a test
    may edit (the scan itself runs once per configuration, directory and host)."""
    return copy.deepcopy(_scan(config, directory, host))


@functools.cache
def _scan(config: Config, directory: Path, host: str) -> dict[str, Any]:
    return anyio.run(_scan_async, config, directory, host)


async def _scan_async(config: Config, directory: Path, host: str) -> dict[str, Any]:
    target = ServerTarget(host=host)
    started_at = datetime.datetime.now(datetime.UTC)
    if not config.reachable:
        refused = ConnectionRejectedError(f"TCP connection to {host}:443 refused")
        result = ServerScanResult(
            target=target,
            connectivity=ConnectivityFailed(error=error_from_exception(refused), cost=_cost(1)),
            checks=(),
            started_at=started_at,
            duration_s=0.01,
        )
        return to_jsonable(assess(result, None))  # type: ignore[no-any-return]
    server = _server(config, target)
    stalled = ScriptedServer(
        hello=_time_out, tls13_flight=_time_out, sslv2_hello=_time_out, target=target, profile=server.profile
    )
    checks: list[Check[Any]] = [
        *(CipherSuitesCheck(version=version) for version in TLSVersion),
        CertificateCheck(ca_file=ca_file(directory) if config.trusted else None),
        SupportedGroupsCheck(),
    ]
    outcomes = [await _run(check, stalled if check.name in config.failing else server) for check in checks]
    result = ServerScanResult(
        target=target,
        connectivity=ConnectivityCompleted(profile=server.profile, cost=_cost(2)),
        checks=tuple(outcomes),
        started_at=started_at,
        duration_s=0.5,
    )
    return to_jsonable(assess(result, None))  # type: ignore[no-any-return]


async def _run(check: Check[Any], server: ScriptedServer) -> CheckOutcome:
    """As the scanner runs a check: its exceptions become outcomes."""
    context = server.context()
    try:
        result = await check.run(context)
    except CheckNotApplicable as reason:
        return CheckSkipped(name=check.name, reason=str(reason), cost=_cost(len(context.connections)))
    except Exception as error:
        return CheckFailed(name=check.name, error=error_from_exception(error), cost=_cost(len(context.connections)))
    return CheckCompleted(name=check.name, result=result, cost=_cost(len(context.connections)))


def _cost(connections: int) -> ProbeCost:
    return ProbeCost(connections=connections, retries=0, duration_s=0.0)


def _time_out(_: object) -> Any:
    raise ResponseTimeoutError("no answer within 5 s")


def _der(issued: Issued) -> bytes:
    return issued.cert.public_bytes(serialization.Encoding.DER)


def _server(config: Config, target: ServerTarget) -> ScriptedServer:
    chain = (_der(config.certificate), _der(certificate_authority()))
    codes = [_code(name) for name in config.suites]
    curves = [_curve(name) for name in config.curves]
    plain = tls_server(config.versions, cipher_suites=codes, certificates=chain)

    def hello(spec: ClientHelloSpec) -> HelloOutcome:
        answer = plain(spec)
        if not isinstance(answer, HelloAccepted):
            if spec.version is TLSVersion.TLS1_3 and TLSVersion.TLS1_3 in config.versions:
                return _tls13_hello(spec, codes, curves)
            return answer
        if answer.version is TLSVersion.TLS1_3:
            return _tls13_hello(spec, codes, curves)
        suite = cipher_suite_by_code(answer.cipher_suite)
        if suite is None or suite.key_exchange is not KeyExchange.ECDHE:
            return answer
        group = next((code for code in curves if code in spec.groups), None)
        if group is None:
            return rejected()
        named = named_group_by_code(group)
        assert named is not None
        return attrs.evolve(
            answer, ephemeral_key=EphemeralKey(kind=EphemeralKeyKind.ECDH, size=named.size, group=group, public_key=b"")
        )

    def flight(spec: ClientHelloSpec) -> Tls13Flight | HelloRejected:
        answer = hello(spec)
        if not isinstance(answer, HelloAccepted) or answer.server_hello is None:
            return answer if isinstance(answer, HelloRejected) else rejected()
        assert answer.server_hello.key_share_group is not None
        entries = tuple(
            CertificateEntry(cert_data=der, extensions=(), ocsp_response=None, signed_certificate_timestamps=())
            for der in chain
        )
        return Tls13Flight(
            cipher_suite=answer.cipher_suite,
            key_share_group=answer.server_hello.key_share_group,
            encrypted_extensions=EncryptedExtensions(
                extensions=(),
                alpn_protocol=None,
                early_data=False,
                server_name_acknowledged=spec.server_name is not None,
                supported_groups=(),
            ),
            certificate_request=None,
            certificate=Tls13Certificate(certificate_request_context=b"", entries=entries),
            certificate_verify=None,
        )

    return ScriptedServer(
        hello=hello,
        tls13_flight=flight,
        sslv2_hello=_no_sslv2,
        target=target,
        highest_version=max(config.versions),
    )


def _tls13_hello(spec: ClientHelloSpec, codes: Sequence[int], curves: Sequence[int]) -> HelloOutcome:
    """A TLS 1.3 answer choosing among the server's curves: the key share sent, else a HelloRetryRequest."""
    suite = next((code for code in codes if code in spec.cipher_suites and _is_tls13(code)), None)
    if suite is None:
        return rejected()
    shared = next((code for code in curves if code in spec.key_share_groups), None)
    if shared is not None:
        return accepted(TLSVersion.TLS1_3, suite, key_share_group=shared)
    wanted = next((code for code in curves if code in spec.groups), None)
    if wanted is None:
        return rejected()
    retry = HelloRetryRequest(
        cipher_suite=suite, selected_group=wanted, cookie=None, version=TLSVersion.TLS1_3, extensions=()
    )
    return HelloAccepted(
        version=TLSVersion.TLS1_3,
        cipher_suite=suite,
        server_hello=None,
        hello_retry_request=retry,
        certificates=(),
        ephemeral_key=None,
        certificate_requested=False,
    )


def _is_tls13(code: int) -> bool:
    suite = cipher_suite_by_code(code)
    return suite is not None and TLSVersion.TLS1_3 in suite.versions


def _no_sslv2(_: tuple[int, ...]) -> SSL2Outcome:
    return rejected(None)


def _code(name: str) -> int:
    suite = cipher_suite_by_name(name)
    assert suite is not None, name
    return suite.code


def _curve(name: str) -> int:
    group = named_group_by_name(name)
    assert group is not None, name
    return group.code
