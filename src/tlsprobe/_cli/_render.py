"""The terminal report. Presentation lives here, never on a check or a result."""

from __future__ import annotations

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
from tlsprobe.wire._versions import TLSVersion
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
        if isinstance(outcome, CheckCompleted) and isinstance(outcome.result, CipherSuitesResult):
            lines += _render_cipher_suites(outcome.result)
        elif isinstance(outcome, CheckCompleted) and isinstance(outcome.result, CertificateResult):
            lines += render_certificate(outcome.result)
        elif isinstance(outcome, CheckCompleted) and isinstance(outcome.result, SupportedGroupsResult):
            lines += _render_groups(outcome.result)
        elif isinstance(outcome, CheckCompleted):
            lines.append(f"  {_describe_result(outcome.name, outcome.result)}")
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


def _describe_result(name: str, result: object) -> str:
    match result:
        case CompressionResult():
            accepted = "ACCEPTED" if result.supports_compression else "refused"
            return f"TLS compression:        {accepted} ({result.tested_version.label})"
        case SecureRenegotiationResult():
            supported = _yes_no(result.supports_secure_renegotiation)
            return f"Secure renegotiation:   {supported} ({result.tested_version.label})"
        case ClientRenegotiationResult():
            accepted = "ACCEPTED" if result.accepts_client_renegotiation else "refused"
            count = f"{result.successful_renegotiations} of {result.attempted_renegotiations}"
            return f"Client renegotiation:   {accepted} ({count}, {result.tested_version.label})"
        case ExtendedMasterSecretResult():
            supported = _yes_no(result.supports_extended_master_secret)
            return f"Extended master secret: {supported} ({result.tested_version.label})"
        case FallbackSCSVResult(tested_version=None):
            return "Fallback SCSV:          n/a (no lower version accepted: no downgrade possible)"
        case FallbackSCSVResult(tested_version=TLSVersion() as version):
            return f"Fallback SCSV:          {_yes_no(result.supports_fallback_scsv)} (fallback to {version.label})"
        case HeartbleedResult() | CCSInjectionResult():
            title = "Heartbleed:" if isinstance(result, HeartbleedResult) else "OpenSSL CCS injection:"
            verdict = "VULNERABLE" if result.vulnerable else "not vulnerable"
            return f"{title:<24}{verdict} ({result.tested_version.label}; server: {result.server_reaction})"
        case RobotResult():
            return f"ROBOT:                  {result.verdict.value.replace('_', ' ')} ({result.tested_version.label})"
        case ALPNResult():
            protocols = ", ".join(result.accepted_protocols) or "none"
            return f"ALPN:                   {protocols} ({result.tested_version.label})"
        case SignatureAlgorithmsResult():
            parts = [
                f"{at.version.label}: {', '.join(scheme.name for scheme in at.accepted) or 'none'}"
                for at in (result.tls1_3, result.tls1_2)
                if at is not None
            ]
            return f"Signature schemes:      {'; '.join(parts) or 'n/a'}"
        case SessionResumptionResult():
            ways = (
                ("ID", result.session_id_resumption),
                ("ticket", result.ticket_resumption),
                ("TLS 1.3", result.tls1_3_resumption),
            )
            parts = [f"{label} {way.succeeded}/{way.attempted}" for label, way in ways if way is not None]
            return f"Session resumption:     {', '.join(parts) or 'n/a'}"
        case EarlyDataResult():
            accepted = "ACCEPTED" if result.accepts_early_data else "refused"
            return f"TLS 1.3 early data:     {accepted} (ticket allows {result.max_early_data} bytes)"
        case HTTPHeadersResult():
            return f"HTTP headers:           {_describe_hsts(result.strict_transport_security)}"
    return f"{name}: completed"


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
