"""The terminal report. Presentation lives here, never on a check or a result.

What a server said (a name, an alert, an ALPN protocol, an error quoting its bytes) is escaped where it is used, and
every line again where the report is finished (``_text.finish``): no server string reaches a terminal raw.

Each check's result type has its renderer in ``RENDERERS``, keyed by the type; ``tests/test_registration.py``
fails for a registered check whose result type has none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from tlsprobe._cli._concerns import FailureGate
from tlsprobe._cli._escape import escape
from tlsprobe._cli._render_certificate import render_certificate
from tlsprobe._cli._render_simulation import render_client_simulation
from tlsprobe._cli._render_verdict import render_verdict
from tlsprobe._cli._text import Line, finish
from tlsprobe._model._assessment import Severity
from tlsprobe._model._results import (
    CheckCompleted,
    CheckFailed,
    CheckOutcome,
    CheckSkipped,
    ClientAuthRequirement,
    ConnectivityFailed,
    ErrorKind,
    ServerScanResult,
)
from tlsprobe.checks.alpn import ALPNResult
from tlsprobe.checks.ccs_injection import CCSInjectionResult
from tlsprobe.checks.certificate import CertificateResult
from tlsprobe.checks.cipher_suites import AcceptedCipherSuite, CipherSuitesResult
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
from tlsprobe.policy._dh_groups import evidence
from tlsprobe.policy._findings import suite_weakness
from tlsprobe.wire import EphemeralKey, EphemeralKeyKind
from tlsprobe.wire._http import StrictTransportSecurity
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import KeyExchange, named_group_by_code

_CLIENT_AUTH = {
    ClientAuthRequirement.NOT_REQUESTED: "not requested",
    ClientAuthRequirement.OPTIONAL: "requested (optional)",
    ClientAuthRequirement.REQUIRED: "required",
    ClientAuthRequirement.UNKNOWN: "unknown",
}
_CHECK_LABELS: Final = {
    **{f"{version.value}_cipher_suites": version.label for version in TLSVersion},
    "certificate": "Certificate",
    "tls_compression": "TLS compression",
    "secure_renegotiation": "Secure renegotiation",
    "client_renegotiation": "Client renegotiation",
    "extended_master_secret": "Extended master secret",
    "fallback_scsv": "Fallback SCSV",
    "supported_groups": "Groups",
    "signature_algorithms": "Signature schemes",
    "heartbleed": "Heartbleed",
    "openssl_ccs_injection": "OpenSSL CCS injection",
    "robot": "ROBOT",
    "session_resumption": "Session resumption",
    "early_data": "TLS 1.3 early data",
    "alpn": "ALPN",
    "http_headers": "HTTP headers",
}
"""How the report names each check, where a result line would stand (a check outside the list: its name)."""
_ERROR_WORDS: Final = {ErrorKind.DNS: "name not resolved", ErrorKind.INTERNAL: "internal error in tlsprobe"}


def error_words(kind: ErrorKind) -> str:
    """An error kind in plain words: ``connection rejected``, ``client certificate required``."""
    return _ERROR_WORDS.get(kind) or kind.value.replace("_", " ")


def _check_label(outcome: CheckOutcome) -> str:
    """The start of a check's line, as wide as the result lines: ``  TLS 1.2 `` for a version's suites, else
    ``  Heartbleed:`` padded to the value column."""
    label = _CHECK_LABELS.get(outcome.name, outcome.name.replace("_", " ").capitalize())
    if outcome.name.endswith("_cipher_suites"):
        return f"  {label:<8} "
    return f"  {label + ':':<24}"


def _render_not_completed(outcome: CheckFailed | CheckSkipped) -> Line:
    if isinstance(outcome, CheckFailed):
        text = f"not completed ({error_words(outcome.error.kind)}): {escape(outcome.error.message)}"
    else:
        text = f"not applicable: {escape(outcome.reason)}"
    return Line(lead=((_check_label(outcome), None),), text=text)


def report_lines(
    result: ServerScanResult,
    label: str | None = None,
    *,
    failures: Sequence[str] = (),
    gate: FailureGate | None = None,
    min_severity: Severity | None = None,
) -> list[Line | str]:
    """The report for one server, as lines: the verdict, grade, policy and findings, then the details.
    ``failures`` are ``gate.failures_of(result, ...)``: why it fails the gate."""
    gate = FailureGate() if gate is None else gate
    title = f"{result.target}" + (f"  ({label})" if label else "")
    lines: list[Line | str] = [title, "=" * len(title)]
    if isinstance(result.connectivity, ConnectivityFailed):
        error = result.connectivity.error
        lines.append(f"  NOT SCANNED ({error_words(error.kind)}): {escape(error.message)}")
        return lines
    lines += render_verdict(
        findings=result.findings,
        grade=result.grade,
        compliance=result.compliance,
        failures=failures,
        gate=gate,
        min_severity=min_severity,
    )
    lines.append("")
    profile = result.connectivity.profile
    client_auth = _CLIENT_AUTH[profile.client_auth]
    if profile.client_auth_note:
        client_auth += f" ({escape(profile.client_auth_note)})"
    lines += [
        f"  Address:             {profile.ip_address} port {profile.port}, SNI {profile.server_name or '(none)'}",
        f"  Highest version:     {profile.highest_version.label} ({profile.cipher_suite.name})",
        f"  Client certificate:  {client_auth}",
        "",
    ]
    for outcome in result.checks:
        if isinstance(outcome, CheckCompleted):
            lines += _render_completed(outcome)
        else:
            lines.append(_render_not_completed(outcome))
    lines += _render_dh_groups(result)
    lines += render_client_simulation(result)
    lines.append("")
    lines.append(
        f"  Cost: {result.connections} connections, "
        f"{sum(o.cost.retries for o in result.checks)} retries, "
        f"{result.duration_s:.2f} s"
    )
    return lines


def render_server(
    result: ServerScanResult,
    label: str | None = None,
    *,
    colour: bool = False,
    width: int | None = None,
    failures: Sequence[str] = (),
    gate: FailureGate | None = None,
    min_severity: Severity | None = None,
) -> str:
    """The report for one server as text: escaped, fitted to ``width``, coloured when ``colour``."""
    lines = report_lines(result, label, failures=failures, gate=gate, min_severity=min_severity)
    return finish(lines, colour=colour, width=width)


def _render_dh_groups(result: ServerScanResult) -> list[Line | str]:
    """The finite-field DH groups the server used, each judged (prime, safe prime, generator, known or shared)."""
    if not result.dh_groups:
        return []
    return [
        "",
        "  DH groups (judged from the answers above):",
        *(f"    {evidence(group)}" for group in result.dh_groups),
    ]


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
        return f"{title:<24}{verdict} ({result.tested_version.label}; server: {escape(result.server_reaction)})"

    return describe


def _robot(result: RobotResult) -> str:
    return f"ROBOT:                  {result.verdict.value.replace('_', ' ')} ({result.tested_version.label})"


def _alpn(result: ALPNResult) -> str:
    protocols = escape(", ".join(result.accepted_protocols)) or "none"
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
        return f"invalid Strict-Transport-Security: {escape(repr(hsts.raw))}"
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
    count = len(result.accepted_cipher_suites)
    lines = [f"{label} {count} {'suite' if count == 1 else 'suites'} accepted ({order})"]
    for entry in result.accepted_cipher_suites:
        weakness = suite_weakness(entry.cipher_suite)
        flag = f"  <- {weakness}" if weakness else ""
        lines.append(f"      {entry.cipher_suite.name:<50} {_describe_key_exchange(entry)}{flag}".rstrip())
    return lines


_STATIC: Final = {
    KeyExchange.RSA: "RSA key exchange (no forward secrecy)",
    KeyExchange.DH: "static DH (no forward secrecy)",
    KeyExchange.ECDH: "static ECDH (no forward secrecy)",
    KeyExchange.PSK: "pre-shared key (no forward secrecy)",
    KeyExchange.RSA_PSK: "RSA and pre-shared key (no forward secrecy)",
}


def _describe_key_exchange(entry: AcceptedCipherSuite) -> str:
    key = entry.ephemeral_key
    if key is None:
        return _STATIC.get(entry.cipher_suite.key_exchange, "")
    return _describe_key(key)


def _describe_key(key: EphemeralKey) -> str:
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
