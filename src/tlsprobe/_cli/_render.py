"""The terminal report. Presentation lives here, never on a check or a result.

Each check's result type has its renderer in ``RENDERERS``, keyed by the type; ``tests/test_registration.py``
fails for a registered check whose result type has none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from tlsprobe._cli._concerns import concerns
from tlsprobe._cli._render_certificate import render_certificate
from tlsprobe._cli._summary import render_summary
from tlsprobe._model._results import (
    CheckCompleted,
    CheckFailed,
    CheckSkipped,
    ClientAuthRequirement,
    ConnectivityFailed,
    ServerScanResult,
)
from tlsprobe.checks.alpn import ALPNResult
from tlsprobe.checks.ccs_injection import CCSInjectionResult
from tlsprobe.checks.certificate import CertificateResult
from tlsprobe.checks.cipher_suites import CipherSuitesResult
from tlsprobe.checks.client_renegotiation import ClientRenegotiationResult
from tlsprobe.checks.compression import CompressionResult
from tlsprobe.checks.early_data import EarlyDataResult
from tlsprobe.checks.extensions import ExtendedMasterSecretResult, SecureRenegotiationResult
from tlsprobe.checks.fallback_scsv import FallbackSCSVResult
from tlsprobe.checks.groups import GroupsAtVersion, SupportedGroupsResult
from tlsprobe.checks.heartbleed import HeartbleedResult
from tlsprobe.checks.http_headers import HTTPHeadersResult
from tlsprobe.checks.robot import RobotResult
from tlsprobe.checks.session_resumption import SessionResumptionResult
from tlsprobe.checks.signature_algorithms import SignatureAlgorithmsResult
from tlsprobe.policy._findings import suite_weakness
from tlsprobe.wire import EphemeralKey, EphemeralKeyKind
from tlsprobe.wire._http import StrictTransportSecurity
from tlsprobe.wire.catalogue import named_group_by_code

_CLIENT_AUTH = {
    ClientAuthRequirement.NOT_REQUESTED: "not requested",
    ClientAuthRequirement.OPTIONAL: "requested (optional)",
    ClientAuthRequirement.REQUIRED: "required",
    ClientAuthRequirement.UNKNOWN: "unknown",
}


def render_server(result: ServerScanResult, label: str | None = None, *, colour: bool = False) -> str:
    """The report for one server: the summary (grade, verdict, main findings), then the details."""
    title = f"{result.target}" + (f"  ({label})" if label else "")
    lines = [title, "=" * len(title)]
    if isinstance(result.connectivity, ConnectivityFailed):
        error = result.connectivity.error
        lines.append(f"  NOT SCANNED [{error.kind.value}]: {error.message}")
        return "\n".join(lines) + "\n"
    lines += [*render_summary(result, colour), ""]
    profile = result.connectivity.profile
    client_auth = _CLIENT_AUTH[profile.client_auth]
    if profile.client_auth_note:
        client_auth += f" ({profile.client_auth_note})"
    lines += [
        f"  Address:             {profile.ip_address} port {profile.port}, SNI {profile.server_name or '(none)'}",
        f"  Highest version:     {profile.highest_version.label} ({profile.cipher_suite.name})",
        f"  Client certificate:  {client_auth}",
        "",
    ]
    for outcome in result.checks:
        if isinstance(outcome, CheckCompleted):
            lines += _render_completed(outcome)
        elif isinstance(outcome, CheckFailed):
            lines.append(f"  {outcome.name}: FAILED [{outcome.error.kind.value}] {outcome.error.message}")
        elif isinstance(outcome, CheckSkipped):
            lines.append(f"  {outcome.name}: skipped, {outcome.reason}")
    found = concerns(result)
    lines.append("")
    lines.append("  Concerns:" if found else "  Concerns: none")
    lines += [f"    - {concern}" for concern in found]
    lines.append(
        f"  Cost: {result.connections} connections, "
        f"{sum(o.cost.retries for o in result.checks)} retries, "
        f"{result.duration_s:.2f} s"
    )
    return "\n".join(lines) + "\n"


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "n/a"}[value]


def _render_completed(outcome: CheckCompleted[Any]) -> list[str]:
    render = RENDERERS.get(type(outcome.result))
    if render is None:
        # Last resort for a check outside the registry (a Scanner runs any Check): a registered check without a
        # renderer fails tests/test_registration.py instead of reaching a user.
        return [f"  {outcome.name}: completed (no report for {type(outcome.result).__name__}; see --json-out)"]
    return render(outcome.result)


def _compression(result: CompressionResult) -> str:
    accepted = "ACCEPTED" if result.supports_compression else "refused"
    return f"TLS compression:        {accepted} ({result.tested_version.label})"


def _secure_renegotiation(result: SecureRenegotiationResult) -> str:
    supported = _yes_no(result.supports_secure_renegotiation)
    return f"Secure renegotiation:   {supported} ({result.tested_version.label})"


def _client_renegotiation(result: ClientRenegotiationResult) -> str:
    accepted = "ACCEPTED" if result.accepts_client_renegotiation else "refused"
    count = f"{result.successful_renegotiations} of {result.attempted_renegotiations}"
    return f"Client renegotiation:   {accepted} ({count}, {result.tested_version.label})"


def _extended_master_secret(result: ExtendedMasterSecretResult) -> str:
    supported = _yes_no(result.supports_extended_master_secret)
    return f"Extended master secret: {supported} ({result.tested_version.label})"


def _fallback_scsv(result: FallbackSCSVResult) -> str:
    if result.tested_version is None:
        return "Fallback SCSV:          n/a (no lower version accepted: no downgrade possible)"
    supported = _yes_no(result.supports_fallback_scsv)
    return f"Fallback SCSV:          {supported} (fallback to {result.tested_version.label})"


def _vulnerability(title: str) -> Callable[[HeartbleedResult | CCSInjectionResult], str]:
    def describe(result: HeartbleedResult | CCSInjectionResult) -> str:
        verdict = "VULNERABLE" if result.vulnerable else "not vulnerable"
        return f"{title:<24}{verdict} ({result.tested_version.label}; server: {result.server_reaction})"

    return describe


def _robot(result: RobotResult) -> str:
    return f"ROBOT:                  {result.verdict.value.replace('_', ' ')} ({result.tested_version.label})"


def _alpn(result: ALPNResult) -> str:
    protocols = ", ".join(result.accepted_protocols) or "none"
    return f"ALPN:                   {protocols} ({result.tested_version.label})"


def _signature_algorithms(result: SignatureAlgorithmsResult) -> str:
    parts = [
        f"{at.version.label}: {', '.join(scheme.name for scheme in at.accepted) or 'none'}"
        for at in (result.tls1_3, result.tls1_2)
        if at is not None
    ]
    return f"Signature schemes:      {'; '.join(parts) or 'n/a'}"


def _session_resumption(result: SessionResumptionResult) -> str:
    ways = (
        ("ID", result.session_id_resumption),
        ("ticket", result.ticket_resumption),
        ("TLS 1.3", result.tls1_3_resumption),
    )
    parts = [f"{label} {way.succeeded}/{way.attempted}" for label, way in ways if way is not None]
    return f"Session resumption:     {', '.join(parts) or 'n/a'}"


def _early_data(result: EarlyDataResult) -> str:
    accepted = "ACCEPTED" if result.accepts_early_data else "refused"
    return f"TLS 1.3 early data:     {accepted} (ticket allows {result.max_early_data} bytes)"


def _http_headers(result: HTTPHeadersResult) -> str:
    return f"HTTP headers:           {_describe_hsts(result.strict_transport_security)}"


def _describe_hsts(hsts: StrictTransportSecurity | None) -> str:
    if hsts is None:
        return "no Strict-Transport-Security"
    if not hsts.valid:
        return f"invalid Strict-Transport-Security: {hsts.raw!r}"
    flags = "".join(
        (
            f"max-age={hsts.max_age}",
            "; includeSubDomains" if hsts.include_subdomains else "",
            "; preload" if hsts.preload else "",
        )
    )
    return f"Strict-Transport-Security {flags}"


def _render_groups(result: SupportedGroupsResult) -> list[str]:
    def line(label: str, groups: GroupsAtVersion | None) -> str:
        if groups is None:
            return f"  {label:<23} n/a"
        order = {True: "server order", False: "client order", None: ""}[groups.server_order_enforced]
        names = ", ".join(group.name for group in groups.accepted_groups) or "none"
        return f"  {label:<23} {names}" + (f" ({order})" if order else "")

    return [
        line("Groups (TLS 1.3):", result.tls1_3),
        line("Curves (below TLS 1.3):", result.ecdhe_below_tls1_3),
        line("FFDHE (below TLS 1.3):", result.ffdhe_below_tls1_3),
    ]


def _render_cipher_suites(result: CipherSuitesResult) -> list[str]:
    label = f"  {result.version.label:<8}"
    if not result.is_supported:
        return [f"{label} not accepted"]
    order = {True: "server order", False: "client order", None: "order not determined"}[result.server_order_enforced]
    lines = [f"{label} {len(result.accepted_cipher_suites)} suites accepted ({order})"]
    for entry in result.accepted_cipher_suites:
        weakness = suite_weakness(entry.cipher_suite)
        flag = f"  <- {weakness}" if weakness else ""
        lines.append(f"      {entry.cipher_suite.name:<50} {_describe_key(entry.ephemeral_key)}{flag}")
    return lines


def _describe_key(key: EphemeralKey | None) -> str:
    if key is None:
        return ""
    if key.kind is EphemeralKeyKind.DH:
        group = named_group_by_code(key.group) if key.group is not None else None
        return f"DH {key.size} bits" + (f" ({group.name})" if group else "")
    if key.kind is EphemeralKeyKind.RSA:
        return f"RSA {key.size} bits (export)"
    group = named_group_by_code(key.group) if key.group is not None else None
    return f"ECDH {group.name if group else 'explicit curve'} ({key.size} bits)"


_R = TypeVar("_R")
_Renderer = Callable[[Any], list[str]]


def _lines(result_type: type[_R], render: Callable[[_R], list[str]]) -> tuple[type, _Renderer]:
    """An entry of ``RENDERERS``; the type variable lets mypy check that ``render`` takes ``result_type``."""
    return result_type, render


def _line(result_type: type[_R], describe: Callable[[_R], str]) -> tuple[type, _Renderer]:
    """An entry for a result the report shows on one line."""
    return result_type, lambda result: [f"  {describe(result)}"]


RENDERERS: Final[Mapping[type, _Renderer]] = dict(
    (
        _lines(CipherSuitesResult, _render_cipher_suites),
        _lines(CertificateResult, render_certificate),
        _line(CompressionResult, _compression),
        _line(SecureRenegotiationResult, _secure_renegotiation),
        _line(ClientRenegotiationResult, _client_renegotiation),
        _line(ExtendedMasterSecretResult, _extended_master_secret),
        _line(FallbackSCSVResult, _fallback_scsv),
        _lines(SupportedGroupsResult, _render_groups),
        _line(SignatureAlgorithmsResult, _signature_algorithms),
        _line(HeartbleedResult, _vulnerability("Heartbleed:")),
        _line(CCSInjectionResult, _vulnerability("OpenSSL CCS injection:")),
        _line(RobotResult, _robot),
        _line(SessionResumptionResult, _session_resumption),
        _line(EarlyDataResult, _early_data),
        _line(ALPNResult, _alpn),
        _line(HTTPHeadersResult, _http_headers),
    )
)
"""The report's lines for each check's result type, keyed by the exact type (``Check.result_type``)."""
