"""Each check's result in the report, read from its JSON form: the facts the terminal report gives, as table rows.

Every value that comes from the JSON goes through ``text``; the functions here return HTML. A check this module
does not know (a newer check, or one of a caller's own) is shown by its scalar fields, never left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from tlsprobe.policy._findings import suite_weakness
from tlsprobe.report._text import text
from tlsprobe.wire.catalogue import TLSVersion, cipher_suite_by_code, cipher_suite_by_name, named_group_by_code

Row = tuple[str, str]
"""A row of a two-column table: its label (plain text of ours) and its value (HTML)."""

CHECK_LABELS: Final = {
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
"""How the report names each check (a check outside the list: its name, spaced)."""

_ERROR_WORDS: Final = {"dns": "name not resolved", "internal": "internal error in tlsprobe"}
_STATIC: Final = {
    "RSA": "RSA key exchange (no forward secrecy)",
    "DH": "static DH (no forward secrecy)",
    "ECDH": "static ECDH (no forward secrecy)",
    "PSK": "pre-shared key (no forward secrecy)",
    "RSA_PSK": "RSA and pre-shared key (no forward secrecy)",
}
_SHOWN_FIELDS: Final = 8


def check_label(name: str) -> str:
    """The name of a check as the report shows it."""
    return CHECK_LABELS.get(name, name.replace("_", " ").capitalize())


def version_label(value: object) -> str:
    """``TLS 1.2`` for ``tls1_2``; an unknown value as given."""
    try:
        return TLSVersion(value).label
    except ValueError:
        return str(value)


def error_words(kind: str) -> str:
    """An error kind in plain words."""
    return _ERROR_WORDS.get(kind) or kind.replace("_", " ")


def not_completed(outcome: Mapping[str, Any]) -> str:
    """Why a check has no result, as HTML."""
    if outcome["status"] == "failed":
        error = outcome.get("error") or {}
        return f"not completed ({text(error_words(str(error.get('kind', 'error'))))}): {text(error.get('message', ''))}"
    return f"not applicable: {text(outcome.get('reason') or '')}"


def _yes_no(value: object) -> str:
    return "yes" if value is True else "NO" if value is False else "n/a"


def order_words(server_order: object, unknown: str) -> str:
    """Whose preference decides: ``server order``, ``client order``, or ``unknown`` when not determined."""
    return "server order" if server_order is True else "client order" if server_order is False else unknown


def _tested(result: Mapping[str, Any]) -> str:
    return version_label(result.get("tested_version"))


def _compression(result: Mapping[str, Any]) -> list[Row]:
    accepted = "ACCEPTED" if result["supports_compression"] else "refused"
    return [("TLS compression", f"{accepted} ({text(_tested(result))})")]


def _secure_renegotiation(result: Mapping[str, Any]) -> list[Row]:
    return [("Secure renegotiation", f"{_yes_no(result['supports_secure_renegotiation'])} ({text(_tested(result))})")]


def _client_renegotiation(result: Mapping[str, Any]) -> list[Row]:
    accepted = "ACCEPTED" if result["accepts_client_renegotiation"] else "refused"
    count = f"{text(result['successful_renegotiations'])} of {text(result['attempted_renegotiations'])}"
    return [("Client renegotiation", f"{accepted} ({count}, {text(_tested(result))})")]


def _extended_master_secret(result: Mapping[str, Any]) -> list[Row]:
    supported = _yes_no(result["supports_extended_master_secret"])
    return [("Extended master secret", f"{supported} ({text(_tested(result))})")]


def _fallback_scsv(result: Mapping[str, Any]) -> list[Row]:
    if result.get("tested_version") is None:
        return [("Fallback SCSV", "n/a (no lower version accepted: no downgrade possible)")]
    supported = _yes_no(result["supports_fallback_scsv"])
    return [("Fallback SCSV", f"{supported} (fallback to {text(_tested(result))})")]


def _vulnerability(label: str) -> Callable[[Mapping[str, Any]], list[Row]]:
    def describe(result: Mapping[str, Any]) -> list[Row]:
        verdict = "VULNERABLE" if result["vulnerable"] else "not vulnerable"
        reaction = text(result.get("server_reaction", ""))
        return [(label, f"{verdict} ({text(_tested(result))}; server: {reaction})")]

    return describe


def _robot(result: Mapping[str, Any]) -> list[Row]:
    return [("ROBOT", f"{text(str(result['verdict']).replace('_', ' '))} ({text(_tested(result))})")]


def _alpn(result: Mapping[str, Any]) -> list[Row]:
    protocols = ", ".join(str(protocol) for protocol in result.get("accepted_protocols") or ()) or "none"
    return [("ALPN", f"{text(protocols)} ({text(_tested(result))})")]


def _signature_algorithms(result: Mapping[str, Any]) -> list[Row]:
    parts = [
        f"{version_label(at['version'])}: {', '.join(str(scheme['name']) for scheme in at['accepted']) or 'none'}"
        for at in (result.get("tls1_3"), result.get("tls1_2"))
        if at is not None
    ]
    return [("Signature schemes", text("; ".join(parts) or "n/a"))]


def _session_resumption(result: Mapping[str, Any]) -> list[Row]:
    ways = (("ID", "session_id_resumption"), ("ticket", "ticket_resumption"), ("TLS 1.3", "tls1_3_resumption"))
    parts = [f"{label} {result[key]['succeeded']}/{result[key]['attempted']}" for label, key in ways if result.get(key)]
    return [("Session resumption", text(", ".join(parts) or "n/a"))]


def _early_data(result: Mapping[str, Any]) -> list[Row]:
    accepted = "ACCEPTED" if result["accepts_early_data"] else "refused"
    return [("TLS 1.3 early data", f"{accepted} (ticket allows {text(result['max_early_data'])} bytes)")]


def _http_headers(result: Mapping[str, Any]) -> list[Row]:
    hsts = result.get("strict_transport_security")
    if hsts is None:
        shown = "no Strict-Transport-Security"
    elif not hsts["valid"]:
        shown = f"invalid Strict-Transport-Security: {hsts['raw']!r}"
    else:
        flags = "; includeSubDomains" if hsts["include_subdomains"] else ""
        flags += "; preload" if hsts["preload"] else ""
        shown = f"Strict-Transport-Security max-age={hsts['max_age']}{flags}"
    return [("HTTP headers", text(shown))]


def _groups(result: Mapping[str, Any]) -> list[Row]:
    def row(label: str, groups: Mapping[str, Any] | None) -> Row:
        if groups is None:
            return label, "n/a"
        order = order_words(groups.get("server_order_enforced"), "")
        order = f" ({order})" if order else ""
        names = ", ".join(str(group["name"]) for group in groups["accepted_groups"]) or "none"
        return label, text(names + order)

    return [
        row("Groups (TLS 1.3)", result.get("tls1_3")),
        row("Curves (below TLS 1.3)", result.get("ecdhe_below_tls1_3")),
        row("FFDHE (below TLS 1.3)", result.get("ffdhe_below_tls1_3")),
    ]


def generic(name: str, result: object) -> list[Row]:
    """A result of a check this report does not know: its first scalar fields."""
    if not isinstance(result, Mapping):
        return [(check_label(name), "completed")]
    facts = [f"{key}={value}" for key, value in result.items() if isinstance(value, str | int | float | bool)]
    return [(check_label(name), "completed: " + text(", ".join(facts[:_SHOWN_FIELDS])))]


ONE_LINE_CHECKS: Final[Mapping[str, Callable[[Mapping[str, Any]], list[Row]]]] = {
    "tls_compression": _compression,
    "secure_renegotiation": _secure_renegotiation,
    "client_renegotiation": _client_renegotiation,
    "extended_master_secret": _extended_master_secret,
    "fallback_scsv": _fallback_scsv,
    "supported_groups": _groups,
    "signature_algorithms": _signature_algorithms,
    "heartbleed": _vulnerability("Heartbleed"),
    "openssl_ccs_injection": _vulnerability("OpenSSL CCS injection"),
    "robot": _robot,
    "session_resumption": _session_resumption,
    "early_data": _early_data,
    "alpn": _alpn,
    "http_headers": _http_headers,
}
"""The rows of the checks shown in the "other checks" table, by check name."""


def key_exchange(entry: Mapping[str, Any]) -> str:
    """How an accepted suite exchanges keys, in words (plain text)."""
    key = entry.get("ephemeral_key")
    if key is None:
        return _STATIC.get(str(entry["cipher_suite"].get("key_exchange")), "")
    group = named_group_by_code(key["group"]) if key.get("group") is not None else None
    if key["kind"] == "DH":
        return f"DH {key['size']} bits" + (f" ({group.name})" if group else "")
    if key["kind"] == "RSA":
        return f"RSA {key['size']} bits (export)"
    return f"ECDH {group.name if group else 'explicit curve'} ({key['size']} bits)"


def weakness(suite: Mapping[str, Any]) -> str | None:
    """Why an accepted suite is unsafe, by the same rule as the findings; None when it is not, or is unknown."""
    known = cipher_suite_by_code(int(suite["code"])) if isinstance(suite.get("code"), int) else None
    if known is None or known.name != suite.get("name"):
        known = cipher_suite_by_name(str(suite.get("name")))
    return None if known is None else suite_weakness(known)


def rows_of(name: str, result: Mapping[str, Any]) -> Sequence[Row]:
    """The rows of one completed check of the "other checks" table."""
    render = ONE_LINE_CHECKS.get(name)
    return generic(name, result) if render is None else render(result)
