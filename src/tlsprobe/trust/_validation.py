"""Path validation against one trust store, and host name matching: two separate verdicts.

Path validation uses ``cryptography.x509.verification`` (the CA/Browser Forum Web PKI profile). Its server
verifier must be given a name and fails when the name does not match, which would mix the two verdicts. So the
path is validated with a *client* verifier, which checks no name, under extension policies that restore the
server profile: an end-entity extendedKeyUsage, when present, must allow serverAuth, and a CA's must allow
serverAuth or anyExtendedKeyUsage (the client verifier would demand clientAuth instead). The leaf's
subjectAltName may be absent for the path verdict (a leaf without one simply matches no name); when present it
must be critical exactly when the subject is empty, as the server profile requires. Everything else (signature
algorithms, key sizes of issuers, basic constraints, key usage, name constraints, validity at the given time,
chain depth) is cryptography's Web PKI policy unchanged.

Host name matching follows RFC 6125 and the CA/Browser Forum rules, against the subjectAltName only: the
subject's common name is never used as a fallback (browsers dropped it; RFC 6125 §6.4.4 allows only a client
that has no SAN-aware rules to use it).
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import threading
from collections.abc import Sequence
from typing import Final, final

import attrs
import idna
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from tlsprobe.trust._facts import (
    CertificateFacts,
    has_broken_signature_hash,
    has_sha1_signature,
    is_self_signed,
    signature_algorithm_name,
    signed_by,
    top_of_received,
)
from tlsprobe.trust._stores import TrustStore, TrustStoreName

__all__ = ["HostnameValidation", "PathValidation", "match_hostname", "validate_chain"]

_LABEL: Final = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
# cryptography's words when a signature's algorithm is outside the Web PKI's list (its text then goes on with a
# debug dump of the AlgorithmIdentifier, which names no certificate).
_FORBIDDEN_ALGORITHM: Final = "Forbidden signature algorithm"


@final
@attrs.frozen(kw_only=True)
class PathValidation:
    """The outcome of validating the received chain against one trust store."""

    store_name: TrustStoreName
    """The trust store used."""
    store_version: str | None
    """Its version (for the Mozilla store, the date of Mozilla's data)."""
    verified_chain: tuple[x509.Certificate, ...] | None
    """The chain that was built, leaf first and the store's root last; None when validation failed."""
    error: str | None
    """Why validation failed: cryptography's own text (with plainer sentences before it when no path reaches the
    store, or when it refused the MD5 or SHA-1 signature of a received certificate); None when it succeeded."""

    @property
    def trusted(self) -> bool:
        """A chain to one of the store's roots was verified."""
        return self.verified_chain is not None

    def verified_chain_facts(self, *, now: datetime.datetime) -> tuple[CertificateFacts, ...] | None:
        """The verified chain as facts (with PEM), for JSON and reports; None when validation failed."""
        if self.verified_chain is None:
            return None
        return tuple(CertificateFacts.from_certificate(cert, now=now) for cert in self.verified_chain)


@final
@attrs.frozen(kw_only=True)
class HostnameValidation:
    """Whether the leaf certificate is valid for a host name or IP address."""

    name: str
    """The name checked, as given (the server name sent in SNI, or the IP address connected to)."""
    compared_as: str | None
    """The name as compared: lowercase, IDNA A-labels, no trailing dot, or the IP address in canonical form;
    None when the name is not a valid host name."""
    matched: bool
    """A subjectAltName entry matches the name."""
    matched_entry: str | None
    """The subjectAltName entry that matched (``*.example.com``, ``192.0.2.1``); None when none did."""
    mismatch_reason: str | None
    """Why no entry matched; None when one did."""


def _extended_key_usage_allows(ekus: x509.ExtendedKeyUsage | None, *, ca: bool) -> None:
    if ekus is None or ExtendedKeyUsageOID.SERVER_AUTH in ekus:
        return
    if ca and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in ekus:
        return
    raise ValueError("extendedKeyUsage does not allow serverAuth")


def _leaf_eku(_policy: Policy, _cert: x509.Certificate, ekus: x509.ExtendedKeyUsage | None) -> None:
    _extended_key_usage_allows(ekus, ca=False)


def _ca_eku(_policy: Policy, _cert: x509.Certificate, ekus: x509.ExtendedKeyUsage | None) -> None:
    _extended_key_usage_allows(ekus, ca=True)


def _leaf_san(_policy: Policy, cert: x509.Certificate, san: x509.SubjectAlternativeName | None) -> None:
    if san is None:
        return
    critical = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).critical
    if critical != (len(cert.subject) == 0):
        raise ValueError("subjectAltName must be critical exactly when the subject is empty")


_VERIFIER_STORES: dict[int, tuple[TrustStore, Store]] = {}
_KEPT_STORES: Final = 8
_VERIFIER_STORES_LOCK = threading.Lock()


def _verifier_store(store: TrustStore) -> Store:
    """cryptography's ``Store`` of ``store``'s roots, made once per trust store (about 0.4 ms for Mozilla's 120
    roots, for every chain validated otherwise). Looked up by identity: hashing a store hashes every root. A
    process sees a few stores (Mozilla's, the system's, a CA file), so the oldest is dropped beyond a few."""
    with _VERIFIER_STORES_LOCK:  # validations run in worker threads
        kept = _VERIFIER_STORES.get(id(store))
        if kept is not None and kept[0] is store:
            return kept[1]
        made = Store(list(store.certificates))
        if len(_VERIFIER_STORES) >= _KEPT_STORES:
            del _VERIFIER_STORES[next(iter(_VERIFIER_STORES))]
        _VERIFIER_STORES[id(store)] = (store, made)
        return made


def _policy_builder(store: TrustStore, at: datetime.datetime) -> PolicyBuilder:
    leaf_policy = (
        ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, _leaf_eku)
        .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, _leaf_san)
    )
    ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(
        x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, _ca_eku
    )
    return (
        PolicyBuilder()
        .store(_verifier_store(store))
        .time(at)
        .extension_policies(ca_policy=ca_policy, ee_policy=leaf_policy)
    )


def _unreached_store(received: Sequence[x509.Certificate], store: TrustStore) -> str | None:
    """Why ``received`` cannot reach ``store`` (its top is neither a root of the store nor issued by one); None
    when it does reach it, so that a failure has another cause."""
    top = top_of_received(received)
    if top in store.certificates or any(signed_by(top, root) for root in store.certificates):
        return None
    ending = (
        f"the self-signed {top.subject.rfc4514_string()!r}"
        if is_self_signed(top)
        else f"{top.subject.rfc4514_string()!r}, issued by {top.issuer.rfc4514_string()!r}"
    )
    return (
        f"no path from the leaf to a root of the {store.name.value} store: the chain received ends at {ending}, "
        "which is not one of its roots (an unknown root, or a missing intermediate)"
    )


def _forbidden_signatures(received: Sequence[x509.Certificate], error: str) -> str | None:
    """The received certificates signed over MD5, SHA-1 or another broken hash, when ``error`` says cryptography
    refused a signature algorithm; None otherwise. A self-signed certificate's own signature is never checked."""
    if _FORBIDDEN_ALGORITHM not in error:
        return None
    weak = [
        f"{cert.subject.rfc4514_string()!r} is signed with {signature_algorithm_name(cert)}"
        for cert in received
        if (has_broken_signature_hash(cert) or has_sha1_signature(cert)) and not is_self_signed(cert)
    ]
    return f"a signature algorithm the Web PKI forbids: {', '.join(weak)}" if weak else None


def validate_chain(received: Sequence[x509.Certificate], store: TrustStore, *, at: datetime.datetime) -> PathValidation:
    """Validate ``received`` (leaf first, then intermediates in any order) against ``store`` at time ``at``.

    The host name is not checked here: see ``match_hostname``. A naive ``at`` is taken as UTC.
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=datetime.UTC)

    def failed(error: str) -> PathValidation:
        return PathValidation(store_name=store.name, store_version=store.version, verified_chain=None, error=error)

    if not received:
        return failed("no certificate was received")
    verifier = _policy_builder(store, at).build_client_verifier()
    try:
        verified = verifier.verify(received[0], list(received[1:]))
    except VerificationError as exc:
        # cryptography's text for a chain that never reaches the store varies with what the chain holds (a
        # self-signed CA sent along gives "path length constraint violated"): the plain reasons go first.
        plain = [
            reason
            for reason in (_unreached_store(received, store), _forbidden_signatures(received, str(exc)))
            if reason is not None
        ]
        return failed("; ".join([*plain, f"cryptography: {exc}"]) if plain else str(exc))
    return PathValidation(
        store_name=store.name, store_version=store.version, verified_chain=tuple(verified.chain), error=None
    )


def _normalized_dns_name(name: str) -> str | None:
    """Lowercase A-label form without a trailing dot, or None when ``name`` is no valid host name."""
    name = name.removesuffix(".")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError:
            return None
    name = name.lower()
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return name


def _dns_entry_matches(entry: str, name: str) -> bool:
    """RFC 6125 §6.4: exact (case-insensitive) match, or a wildcard that is the whole left-most label.

    ``*.example.com`` matches ``www.example.com`` only: not ``example.com``, not ``a.b.example.com``. Partial
    wildcards (``w*.example.com``) and wildcards over a single label (``*.com``) never match. There is no public
    suffix list: ``*.co.uk`` would match ``a.co.uk``.
    """
    pattern = entry.lower().removesuffix(".")
    if "*" not in pattern:
        return pattern == name
    if not pattern.startswith("*."):
        return False
    suffix = pattern[2:]
    if "*" in suffix or "." not in suffix:
        return False
    first, dot, rest = name.partition(".")
    return bool(first) and bool(dot) and rest == suffix


def _ip_literal(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def match_hostname(leaf: x509.Certificate, name: str) -> HostnameValidation:
    """Whether ``leaf`` is valid for ``name``, a DNS name or an IP address (optionally in brackets).

    DNS names are compared case-insensitively, in IDNA A-label form (UTS #46), ignoring a trailing dot, with
    ``_dns_entry_matches``'s wildcard rules, against dNSName entries only. IP addresses are compared with
    iPAddress entries only (never with a dNSName that spells an address). The common name is never used.
    """

    def result(compared_as: str | None, entry: str | None, reason: str | None) -> HostnameValidation:
        return HostnameValidation(
            name=name, compared_as=compared_as, matched=entry is not None, matched_entry=entry, mismatch_reason=reason
        )

    address = _ip_literal(name)
    compared_as = str(address) if address is not None else _normalized_dns_name(name)
    if compared_as is None:
        return result(None, None, f"{name!r} is neither a valid DNS name nor an IP address")
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return result(compared_as, None, "the certificate has no subjectAltName extension")
    except (x509.DuplicateExtension, ValueError) as exc:
        return result(compared_as, None, f"the certificate's extensions cannot be parsed: {exc}")

    if address is not None:
        for ip_entry in san.get_values_for_type(x509.IPAddress):
            if ip_entry == address:
                return result(compared_as, str(ip_entry), None)
        return result(compared_as, None, "no iPAddress entry of the subjectAltName is this address")
    for dns_entry in san.get_values_for_type(x509.DNSName):
        if _dns_entry_matches(dns_entry, compared_as):
            return result(compared_as, dns_entry, None)
    return result(compared_as, None, "no dNSName entry of the subjectAltName matches this name")
