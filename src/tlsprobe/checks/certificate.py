"""Certificates: every chain the server serves, judged against trust stores, the host name, OCSP, CT and EV.

How: ``_certificate_retrieval`` gathers one chain per key type (RSA, ECDSA), below TLS 1.3 and under TLS 1.3, with
the target's SNI and (for a named target) without it. Chains with the same leaf are one deployment. Each
deployment is validated against the Mozilla root store (certifi), the operating system's store when the machine
has one, and a CA file when one is given; the leaf is matched against the name the server was reached by (the SNI
name, or the IP address of an IP target); the chain as received is judged on its own (order, anchor, missing
issuer, SHA-1 and MD5 signatures, weak keys, validity), its structure from names and keys whatever the signature
algorithms; the stapled OCSP response is parsed and verified; SCTs are read from the certificate, the TLS extension
and the OCSP response; EV is read from the leaf's policies and the verified root.
Connections: see ``_certificate_retrieval`` (4 for a named server with RSA and ECDSA certificates and TLS 1.2 and
1.3, plus the baseline hello shared with other checks).
References: RFC 5280, RFC 6125, RFC 6066 §8, RFC 6960, RFC 6962, RFC 7633, the CA/Browser Forum Baseline
Requirements and EV Guidelines.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, final

import anyio
import attrs
from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from tlsprobe._exceptions import MalformedServerResponseError
from tlsprobe._probing._context import ServerContext
from tlsprobe.checks._certificate_retrieval import (
    CertificateRetrieval,
    OfferedKeyType,
    RetrievedChain,
    WithoutSNI,
    retrieve_chains,
)
from tlsprobe.trust import (
    CertificateFacts,
    ChainFacts,
    EVStatus,
    HostnameValidation,
    OCSPStapling,
    PathValidation,
    SCTCounts,
    SCTSource,
    SignedCertificateTimestamp,
    TrustStore,
    TrustStoreName,
    embedded_scts,
    ev_status,
    interpret_ocsp_stapling,
    load_ca_file,
    match_hostname,
    mozilla_store,
    parse_sct_list,
    sct_counts,
    system_store,
    validate_chain,
)
from tlsprobe.trust._facts import signed_by

__all__ = [
    "CertificateCheck",
    "CertificateDeployment",
    "CertificateResult",
    "CertificateRetrieval",
    "OfferedKeyType",
    "TrustStoreVerdict",
    "WithoutSNI",
]


@final
@attrs.frozen(kw_only=True)
class TrustStoreVerdict:
    """Path validation of one deployment against one trust store."""

    store: TrustStoreName
    """The trust store."""
    store_version: str | None
    """Its version (certifi's, for the Mozilla store)."""
    store_date: datetime.date | None
    """The date of its data (Mozilla's release; the system bundle's last change); None for a CA file."""
    trusted: bool
    """A chain from the leaf to one of the store's roots was verified."""
    verified_chain: tuple[CertificateFacts, ...] | None
    """The verified chain, leaf first and the store's root last; None when validation failed."""
    error: str | None
    """Why validation failed; None when it succeeded."""


@final
@attrs.frozen(kw_only=True)
class CertificateDeployment:
    """One leaf certificate the server serves, with its chain and everything judged about it."""

    retrievals: tuple[CertificateRetrieval, ...]
    """Every hello that brought this leaf (protocol version, SNI sent, key types offered)."""
    chain: ChainFacts
    """The chain as received (``chain.received_chain[0]`` is the leaf), judged on its own."""
    trust: tuple[TrustStoreVerdict, ...]
    """Path validation against each trust store: Mozilla, then the system's, then the CA file."""
    hostname: HostnameValidation
    """Whether the leaf is valid for the name the server was reached by."""
    ocsp_stapling: OCSPStapling
    """Must-staple and the stapled OCSP response."""
    scts: tuple[SignedCertificateTimestamp, ...]
    """Signed certificate timestamps from every source: embedded, TLS extension, OCSP response."""
    sct_counts: SCTCounts
    """How many SCTs each source carried."""
    sct_errors: tuple[str, ...]
    """SCT lists that could not be parsed, and why (their SCTs are not counted)."""
    ev: EVStatus
    """Whether the leaf is an Extended Validation certificate."""

    @property
    def leaf(self) -> CertificateFacts:
        """The leaf certificate."""
        return self.chain.received_chain[0]

    @property
    def trusted(self) -> bool:
        """Some trust store verified the chain."""
        return any(verdict.trusted for verdict in self.trust)


@final
@attrs.frozen(kw_only=True)
class CertificateResult:
    """The server's certificate deployments."""

    hostname: str
    """The name each leaf was matched against: the target's host (a name, or an IP literal), whatever SNI was
    sent."""
    deployments: tuple[CertificateDeployment, ...]
    """One per distinct leaf, in the order found (the server's preferred one first)."""
    without_sni: WithoutSNI
    """What a hello without SNI brought, for a target reached by name."""
    without_sni_reason: str | None
    """The server's refusal of the hello without SNI, when it refused."""


def _certificates(chain: RetrievedChain) -> tuple[x509.Certificate, ...]:
    parsed: list[x509.Certificate] = []
    for index, der in enumerate(chain.certificates):
        try:
            # cryptography warns on oddities it still accepts (a negative serial); the facts report what matters.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                parsed.append(x509.load_der_x509_certificate(der))
        except ValueError as error:
            raise MalformedServerResponseError(
                f"certificate {index + 1} of the chain sent at {chain.retrieval.version.label} cannot be parsed: "
                f"{error}"
            ) from None
    return tuple(parsed)


def _verdict(validation: PathValidation, store: TrustStore, now: datetime.datetime) -> TrustStoreVerdict:
    return TrustStoreVerdict(
        store=store.name,
        store_version=store.version,
        store_date=store.date,
        trusted=validation.trusted,
        verified_chain=validation.verified_chain_facts(now=now),
        error=validation.error,
    )


def _issuer(
    received: Sequence[x509.Certificate], verified: Sequence[x509.Certificate] | None
) -> x509.Certificate | None:
    """The leaf's issuer: from a verified chain, else a received certificate that signed the leaf."""
    if verified is not None and len(verified) > 1:
        return verified[1]
    return next((cert for cert in received[1:] if signed_by(received[0], cert)), None)


def _scts(
    leaf: x509.Certificate, sct_list: bytes | None, ocsp: OCSPStapling
) -> tuple[list[SignedCertificateTimestamp], list[str]]:
    scts: list[SignedCertificateTimestamp] = []
    errors: list[str] = []
    try:
        scts += embedded_scts(leaf)
    except ValueError as error:
        errors.append(f"embedded: {error}")
    if sct_list is not None:
        try:
            scts += parse_sct_list(sct_list, source=SCTSource.TLS_EXTENSION)
        except ValueError as error:
            errors.append(f"TLS extension: {error}")
    if ocsp.response is not None:
        scts += ocsp.response.scts
        if ocsp.response.sct_error is not None:
            errors.append(f"OCSP response: {ocsp.response.sct_error}")
    return scts, errors


def analyse_deployment(
    chains: Sequence[RetrievedChain], hostname: str, stores: Sequence[TrustStore], *, now: datetime.datetime
) -> CertificateDeployment:
    """Judge the chains that share one leaf (the first one's chain is the one judged)."""
    received = _certificates(chains[0])
    leaf = received[0]
    validations = [validate_chain(received, store, at=now) for store in stores]
    verified = next((validation.verified_chain for validation in validations if validation.trusted), None)
    anchors = [cert for store in stores for cert in store.certificates]
    stapled = next((chain.ocsp_response for chain in chains if chain.ocsp_response is not None), None)
    sct_list = next((chain.sct_list for chain in chains if chain.sct_list is not None), None)
    ocsp = interpret_ocsp_stapling(leaf, _issuer(received, verified), stapled, now=now)
    scts, sct_errors = _scts(leaf, sct_list, ocsp)
    mozilla = next((validation for validation in validations if validation.store_name is TrustStoreName.MOZILLA), None)
    mozilla_root = mozilla.verified_chain[-1] if mozilla is not None and mozilla.verified_chain else None
    return CertificateDeployment(
        retrievals=tuple(chain.retrieval for chain in chains),
        chain=ChainFacts.from_chains(received, verified, now=now, anchors=anchors),
        trust=tuple(_verdict(validation, store, now) for validation, store in zip(validations, stores, strict=True)),
        hostname=match_hostname(leaf, hostname),
        ocsp_stapling=ocsp,
        scts=tuple(scts),
        sct_counts=sct_counts(scts),
        sct_errors=tuple(sct_errors),
        ev=ev_status(leaf, mozilla_root, trusted_by_mozilla=mozilla_root is not None),
    )


def group_by_leaf(chains: Sequence[RetrievedChain]) -> list[list[RetrievedChain]]:
    """Chains with the same leaf together, in the order their leaves were first seen."""
    groups: dict[bytes, list[RetrievedChain]] = {}
    for chain in chains:
        groups.setdefault(chain.certificates[0], []).append(chain)
    return list(groups.values())


def trust_stores(ca_store: TrustStore | None) -> list[TrustStore]:
    """The stores every deployment is validated against: Mozilla, the system's (when present), the CA file."""
    stores = [mozilla_store()]
    system = system_store()
    if system is not None:
        stores.append(system)
    if ca_store is not None:
        stores.append(ca_store)
    return stores


@final
@attrs.frozen(kw_only=True)
class CertificateCheck:
    """Certificate chains, trust, host name, OCSP stapling, SCTs and EV."""

    result_type: ClassVar[type] = CertificateResult

    ca_file: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    """A PEM (or single DER) file of CAs to trust besides the Mozilla and system stores; read when the check is
    made, so that a bad file is a ``ConfigurationError`` before any server is scanned."""
    _ca_store: TrustStore | None = attrs.field(init=False, default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.ca_file is not None:
            object.__setattr__(self, "_ca_store", load_ca_file(self.ca_file))

    @property
    def name(self) -> str:
        """``certificate``."""
        return "certificate"

    async def run(self, server: ServerContext) -> CertificateResult:
        """Gather the chains, then judge them (in a worker thread: path validation is CPU work)."""
        gathered = await retrieve_chains(server)
        hostname = server.target.host  # what users reach it by, whatever SNI was sent (--sni, --no-sni)
        now = datetime.datetime.now(datetime.UTC)

        def analyse() -> tuple[CertificateDeployment, ...]:
            stores = trust_stores(self._ca_store)
            return tuple(
                analyse_deployment(group, hostname, stores, now=now) for group in group_by_leaf(gathered.chains)
            )

        deployments = await anyio.to_thread.run_sync(analyse)
        return CertificateResult(
            hostname=hostname,
            deployments=deployments,
            without_sni=gathered.without_sni,
            without_sni_reason=gathered.without_sni_reason,
        )
