"""The certificate part of the terminal report.

Names, reasons and errors here come from the server's certificates: each is escaped where it is used (``escape``
is idempotent, and the report escapes every line again in ``_text.finish``), so these lines are safe wherever they
are printed.
"""

from __future__ import annotations

from tlsprobe._cli._escape import escape
from tlsprobe.checks.certificate import CertificateDeployment, CertificateResult, WithoutSNI
from tlsprobe.trust import CertificateFacts, KeyType, OCSPStapling


def _key(facts: CertificateFacts) -> str:
    if facts.key_type is KeyType.EC:
        return f"EC {facts.ec_curve or '?'}"
    size = f" {facts.key_size}" if facts.key_size is not None else ""
    return f"{facts.key_type.value.upper()}{size}"


def _validity(facts: CertificateFacts) -> str:
    until = facts.not_after.date().isoformat()
    if facts.expired:
        return f"EXPIRED on {until}"
    if facts.not_yet_valid:
        return f"NOT YET VALID (from {facts.not_before.date().isoformat()})"
    return f"valid until {until} ({facts.days_left} days left)"


def _seen_with(deployment: CertificateDeployment) -> str:
    versions = sorted({retrieval.version for retrieval in deployment.retrievals})
    names = {retrieval.server_name for retrieval in deployment.retrievals}
    sni = ", ".join(sorted(f"SNI {name}" for name in names if name is not None))
    if None in names:
        sni = f"{sni}, and without SNI" if sni else "no SNI"
    return f"{' + '.join(version.label for version in versions)}; {sni}"


def _trust(deployment: CertificateDeployment) -> list[str]:
    lines = []
    for verdict in deployment.trust:
        label = verdict.store.value + (f" {verdict.store_version}" if verdict.store_version else "")
        # The JSON keeps cryptography's own words; the report gives the plain reason that comes first.
        reason = escape(str(verdict.error).split("; cryptography: ")[0])
        outcome = "trusted" if verdict.trusted else f"NOT TRUSTED: {reason}"
        lines.append(f"      {label + ':':<22} {outcome}")
    return lines


def _chain(deployment: CertificateDeployment) -> str:
    chain = deployment.chain
    parts = [f"{len(chain.received_chain)} sent", "in order" if chain.received_in_valid_order else "OUT OF ORDER"]
    if chain.contains_anchor:
        parts.append("includes its anchor")
    if chain.incomplete:
        parts.append(f"INCOMPLETE (issuer {escape(repr(chain.missing_issuer))} not sent)")
    if chain.sha1_signed:
        parts.append(f"SHA-1 signed: {escape(', '.join(chain.sha1_signed))}")
    if chain.weak_keys:
        parts.append(f"WEAK KEYS: {escape(', '.join(chain.weak_keys))}")
    return ", ".join(parts)


def _ocsp(stapling: OCSPStapling) -> str:
    must = "must-staple, " if stapling.must_staple else ""
    response = stapling.response
    if response is None:
        return f"{must}nothing stapled" + (" (MUST-STAPLE VIOLATED)" if stapling.must_staple_violated else "")
    if response.cert_status is None:
        return f"{must}stapled response unusable: {escape(response.error or response.response_status.value)}"
    trusted = "trusted" if response.trusted else f"NOT TRUSTED ({escape(str(response.trust_error))})"
    expired = ", EXPIRED" if response.expired else ""
    return f"{must}{response.cert_status.value.upper()} ({trusted}{expired})"


def render_certificate(result: CertificateResult) -> list[str]:
    """Report lines for the certificate check."""
    lines: list[str] = []
    count = len(result.deployments)
    for number, deployment in enumerate(result.deployments, start=1):
        leaf = deployment.leaf
        hostname = deployment.hostname
        matched = (
            f"matches ({escape(str(hostname.matched_entry))})"
            if hostname.matched
            else f"MISMATCH: {escape(str(hostname.mismatch_reason))}"
        )
        counts = deployment.sct_counts
        lines += [
            f"  Certificate {number} of {count}:    {escape(leaf.subject)} ({_key(leaf)}), {_validity(leaf)}",
            f"      Seen with:             {_seen_with(deployment)}",
            f"      Issuer:                {escape(leaf.issuer)}",
            f"      SHA-256:               {leaf.sha256_fingerprint}",
            *_trust(deployment),
            f"      Host name {escape(result.hostname)}: {matched}",
            f"      Chain:                 {_chain(deployment)}",
            f"      OCSP stapling:         {_ocsp(deployment.ocsp_stapling)}",
            f"      SCTs:                  {counts.total} (embedded {counts.embedded}, TLS {counts.tls_extension}, "
            f"OCSP {counts.ocsp_response})",
            f"      EV:                    {'yes' if deployment.ev.is_ev else 'no'}",
        ]
    if result.without_sni is WithoutSNI.DIFFERENT_CERTIFICATE:
        lines.append("  Without SNI the server sends a different certificate (listed above).")
    elif result.without_sni is WithoutSNI.REFUSED:
        lines.append(f"  Without SNI the server refuses the handshake: {escape(str(result.without_sni_reason))}")
    return lines
