"""The certificate part of a server's section: one table per certificate deployment, from the JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tlsprobe.report._checks import version_label
from tlsprobe.report._text import text


def _key(leaf: Mapping[str, Any]) -> str:
    if leaf["key_type"] == "ec":
        return f"EC {leaf.get('ec_curve') or '?'}"
    size = f" {leaf['key_size']}" if leaf.get("key_size") is not None else ""
    return f"{str(leaf['key_type']).upper()}{size}"


def _validity(leaf: Mapping[str, Any]) -> str:
    until = str(leaf["not_after"])[:10]
    if leaf["expired"]:
        return f"EXPIRED on {until}"
    if leaf["not_yet_valid"]:
        return f"NOT YET VALID (from {str(leaf['not_before'])[:10]})"
    return f"valid until {until} ({leaf['days_left']} days left)"


def _seen_with(deployment: Mapping[str, Any]) -> str:
    retrievals = deployment.get("retrievals") or ()
    versions = sorted({str(retrieval["version"]) for retrieval in retrievals})
    names = {retrieval.get("server_name") for retrieval in retrievals}
    sni = ", ".join(sorted(f"SNI {name}" for name in names if name is not None))
    if None in names:
        sni = f"{sni}, and without SNI" if sni else "no SNI"
    return f"{' + '.join(version_label(version) for version in versions)}; {sni}"


def _trust(deployment: Mapping[str, Any]) -> str:
    verdicts = []
    for verdict in deployment.get("trust") or ():
        label = str(verdict["store"]) + (f" {verdict['store_version']}" if verdict.get("store_version") else "")
        reason = str(verdict.get("error")).split("; cryptography: ")[0]
        outcome = "trusted" if verdict["trusted"] else f"NOT TRUSTED: {reason}"
        verdicts.append(f"<li>{text(label)}: {text(outcome)}</li>")
    return f"<ul>{''.join(verdicts)}</ul>" if verdicts else "no trust store checked"


def _chain(chain: Mapping[str, Any]) -> str:
    parts = [
        f"{len(chain['received_chain'])} sent",
        "in order" if chain["received_in_valid_order"] else "OUT OF ORDER",
    ]
    if chain.get("contains_anchor"):
        parts.append("includes its anchor")
    if chain.get("incomplete"):
        parts.append(f"INCOMPLETE (issuer {chain.get('missing_issuer')!r} not sent)")
    if chain.get("sha1_signed"):
        parts.append(f"SHA-1 signed: {', '.join(chain['sha1_signed'])}")
    if chain.get("weak_keys"):
        parts.append(f"WEAK KEYS: {', '.join(chain['weak_keys'])}")
    return ", ".join(parts)


def _ocsp(stapling: Mapping[str, Any]) -> str:
    must = "must-staple, " if stapling.get("must_staple") else ""
    response = stapling.get("response")
    if response is None:
        return f"{must}nothing stapled" + (" (MUST-STAPLE VIOLATED)" if stapling.get("must_staple_violated") else "")
    if response.get("cert_status") is None:
        return f"{must}stapled response unusable: {response.get('error') or response.get('response_status')}"
    trusted = "trusted" if response.get("trusted") else f"NOT TRUSTED ({response.get('trust_error')})"
    expired = ", EXPIRED" if response.get("expired") else ""
    return f"{must}{str(response['cert_status']).upper()} ({trusted}{expired})"


def _host_name(result: Mapping[str, Any], deployment: Mapping[str, Any]) -> str:
    hostname = deployment.get("hostname") or {}
    if hostname.get("matched"):
        return f"{result.get('hostname')}: matches ({hostname.get('matched_entry')})"
    return f"{result.get('hostname')}: MISMATCH: {hostname.get('mismatch_reason')}"


def certificate_tables(anchor: str, result: Mapping[str, Any]) -> str:
    """One table per deployment, then what the server does without SNI."""
    deployments = result.get("deployments") or ()
    parts = []
    for number, deployment in enumerate(deployments, start=1):
        chain = deployment["chain"]
        received = chain["received_chain"]
        if not received:
            continue
        leaf = received[0]
        counts = deployment.get("sct_counts") or {}
        total = sum(int(counts.get(key, 0)) for key in ("embedded", "tls_extension", "ocsp_response"))
        rows = [
            ("Subject", text(leaf["subject"])),
            ("Key", text(_key(leaf))),
            ("Validity", text(_validity(leaf))),
            ("Seen with", text(_seen_with(deployment))),
            ("Issuer", text(leaf["issuer"])),
            ("Names", text(", ".join([*leaf.get("san_dns_names", ()), *leaf.get("san_ip_addresses", ())]) or "none")),
            ("SHA-256", f"<code>{text(leaf['sha256_fingerprint'])}</code>"),
            ("Trust", _trust(deployment)),
            ("Host name", text(_host_name(result, deployment))),
            ("Chain", text(_chain(chain))),
            ("OCSP stapling", text(_ocsp(deployment.get("ocsp_stapling") or {}))),
            (
                "SCTs",
                text(
                    f"{total} (embedded {counts.get('embedded', 0)}, TLS {counts.get('tls_extension', 0)}, "
                    f"OCSP {counts.get('ocsp_response', 0)})"
                ),
            ),
            ("EV", "yes" if (deployment.get("ev") or {}).get("is_ev") else "no"),
        ]
        body = "".join(f'<tr><th scope="row">{label}</th><td>{value}</td></tr>' for label, value in rows)
        parts.append(
            f'<table class="facts certificate" id="{anchor}-certificate-{number}">'
            f"<caption>Certificate {number} of {len(deployments)}</caption><tbody>{body}</tbody></table>"
        )
    without_sni = result.get("without_sni")
    if without_sni == "different_certificate":
        parts.append("<p>Without SNI the server sends a different certificate (listed above).</p>")
    elif without_sni == "refused":
        parts.append(f"<p>Without SNI the server refuses the handshake: {text(result.get('without_sni_reason'))}</p>")
    return "".join(parts) or "<p>No certificate received.</p>"
