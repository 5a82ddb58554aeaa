"""Gathering every certificate chain a server serves: one per key type, per protocol generation, with and without SNI.

Below TLS 1.3 the server picks its certificate by the key exchange of the suite it chooses, so a hello that offers
only RSA-authenticated suites gets its RSA certificate and one offering only ECDSA suites its EC certificate. The
shared TLS <= 1.2 baseline hello (which asks for OCSP stapling and SCTs) already brings the chain of the server's
preferred key type; one more hello per other key type completes the set. Under TLS 1.3 the choice follows the
client's signature_algorithms: a flight decrypted with the probe's own key share gives the preferred chain (the
connectivity phase's first flight, which asked for the same, when it could be decrypted), and
one more flight offering only the schemes of a key type already seen below TLS 1.3 (or, on a TLS 1.3-only server,
of every key type) finds the others.

Without SNI: a target reached by name gets one more hello without server_name, at the highest version. A leaf
already found means the server's default deployment is the same one; a new leaf is a deployment of its own, and
its other key type is asked for too.

Connections, for a named target with RSA and ECDSA certificates and TLS 1.2 and 1.3: the baseline (shared with
other checks), the other key type below TLS 1.3 (1), TLS 1.3 (2, or 1 when the connectivity phase decrypted its
first flight), without SNI (1): 4 (or 3), plus the baseline.
References: RFC 5246 §7.4.2, RFC 8446 §4.4.2.2, RFC 6066 §3 and §8, RFC 6962 §3.3.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterable
from typing import Final, final

import attrs
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tlsprobe._exceptions import CheckNotApplicable
from tlsprobe._probing._context import ServerContext
from tlsprobe._probing._hello_specs import MAX_HELLO_SUITES, common_suite_codes, offered_schemes, tls_hello
from tlsprobe.checks._tls12_baseline import tls12_baseline
from tlsprobe.wire import ClientHelloSpec
from tlsprobe.wire._answers import HelloAccepted, HelloRejected, Tls13Flight
from tlsprobe.wire._constants import ExtensionType
from tlsprobe.wire._sigalgs import SIGNATURE_SCHEMES
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import KeyExchange, suites_for_version


class OfferedKeyType(enum.Enum):
    """Which certificates a hello allowed the server to choose from."""

    ANY = "any"
    """Every key type: the server chose by its own preference."""
    RSA = "rsa"
    """Only RSA-authenticated suites (below TLS 1.3) or RSA-PSS signature schemes (TLS 1.3)."""
    ECDSA = "ecdsa"
    """Only ECDSA-authenticated suites (below TLS 1.3) or ECDSA signature schemes (TLS 1.3)."""


_SPECIFIC_KEY_TYPES: Final = (OfferedKeyType.RSA, OfferedKeyType.ECDSA)

# (key exchange, authentication) pairs whose suites need a certificate of each key type. Static ECDH_RSA needs
# an EC key (signed by an RSA CA), so it counts as EC; static DH and DSS certificates are left out (extinct).
_SUITE_KINDS: Final = {
    OfferedKeyType.RSA: frozenset({(KeyExchange.RSA, "RSA"), (KeyExchange.DHE, "RSA"), (KeyExchange.ECDHE, "RSA")}),
    OfferedKeyType.ECDSA: frozenset(
        {(KeyExchange.ECDHE, "ECDSA"), (KeyExchange.ECDH, "ECDSA"), (KeyExchange.ECDH, "RSA")}
    ),
}
_TLS13_SCHEME_PREFIXES: Final = {
    OfferedKeyType.RSA: ("rsa_pss_",),
    OfferedKeyType.ECDSA: ("ecdsa_secp", "ecdsa_brainpool"),
}


@final
@attrs.frozen(kw_only=True)
class CertificateRetrieval:
    """One hello that brought a chain."""

    version: TLSVersion
    """The negotiated protocol version."""
    server_name: str | None
    """The SNI name sent; None when the hello carried none."""
    offered_key_type: OfferedKeyType
    """Which certificates the hello allowed."""


@attrs.frozen(kw_only=True)
class RetrievedChain:
    """A chain as one hello received it, with what came along: stapled OCSP and the SCT extension."""

    certificates: tuple[bytes, ...]
    """DER, leaf first, in the order sent."""
    ocsp_response: bytes | None
    """The stapled DER OCSP response, if any."""
    sct_list: bytes | None
    """A SignedCertificateTimestampList from the TLS extension (RFC 6962 §3.3), if any."""
    retrieval: CertificateRetrieval
    """How it was obtained."""


class WithoutSNI(enum.Enum):
    """What a hello without SNI brought, for a target reached by name."""

    NOT_TESTED = "not_tested"
    """The target is an IP address: no SNI is ever sent to it, so every chain is already the default one."""
    SAME_CERTIFICATE = "same_certificate"
    """A leaf that the hellos with SNI also got."""
    DIFFERENT_CERTIFICATE = "different_certificate"
    """Another leaf: the server's default deployment differs from the one for this name."""
    REFUSED = "refused"
    """The server refused the hello without SNI."""


@attrs.frozen(kw_only=True)
class RetrievedChains:
    """Every chain gathered from one server."""

    chains: tuple[RetrievedChain, ...]
    """In the order received."""
    without_sni: WithoutSNI
    """What the hello without SNI showed."""
    without_sni_reason: str | None
    """The server's refusal of that hello, when it refused."""


def leaf_key_type(certificates: tuple[bytes, ...]) -> OfferedKeyType | None:
    """RSA or ECDSA for a leaf with such a key; None for any other key, or a leaf that cannot be parsed."""
    try:
        key = x509.load_der_x509_certificate(certificates[0]).public_key()
    except (ValueError, IndexError):
        return None
    if isinstance(key, rsa.RSAPublicKey):
        return OfferedKeyType.RSA
    if isinstance(key, ec.EllipticCurvePublicKey):
        return OfferedKeyType.ECDSA
    return None


def suites_for_key_type(key_type: OfferedKeyType, version: TLSVersion) -> list[int]:
    """The most common suites of ``version`` that need a certificate of ``key_type`` (below TLS 1.3)."""
    kinds = _SUITE_KINDS[key_type]
    suites = suites_for_version(version)
    return [suite.code for suite in suites if (suite.key_exchange, suite.authentication) in kinds][:MAX_HELLO_SUITES]


def tls13_schemes_for_key_type(key_type: OfferedKeyType) -> tuple[int, ...]:
    """The TLS 1.3 signature schemes of ``key_type``: offering only these makes the server use that certificate."""
    prefixes = _TLS13_SCHEME_PREFIXES[key_type]
    return tuple(scheme.code for scheme in SIGNATURE_SCHEMES if scheme.name.startswith(prefixes))


def encode_sct_list(serialized_scts: Iterable[bytes]) -> bytes:
    """A SignedCertificateTimestampList of the SCTs of a TLS 1.3 CertificateEntry (the TLS extension's form)."""
    body = b"".join(struct.pack(">H", len(sct)) + sct for sct in serialized_scts)
    return struct.pack(">H", len(body)) + body


def _stapling(spec: ClientHelloSpec) -> ClientHelloSpec:
    return attrs.evolve(spec, status_request=True, signed_certificate_timestamp=True)


def _tls13_hello(server_name: str | None) -> ClientHelloSpec:
    """The TLS 1.3 hello that lets the server choose among all its certificates (every signature scheme, as the
    first contact offers them), asking for what comes along."""
    spec = tls_hello(TLSVersion.TLS1_3, common_suite_codes(TLSVersion.TLS1_3), server_name)
    return _stapling(attrs.evolve(spec, signature_algorithms=tuple(offered_schemes())))


def _from_hello(outcome: HelloAccepted, server_name: str | None, offered: OfferedKeyType) -> RetrievedChain:
    hello = outcome.server_hello
    sct_list = hello.extension(ExtensionType.signed_certificate_timestamp) if hello is not None else None
    return RetrievedChain(
        certificates=outcome.certificates,
        ocsp_response=outcome.ocsp_response,
        sct_list=sct_list,
        # SSL 3.0 hellos carry no extensions, hence no SNI.
        retrieval=CertificateRetrieval(
            version=outcome.version,
            server_name=server_name if outcome.version > TLSVersion.SSL3 else None,
            offered_key_type=offered,
        ),
    )


def _from_flight(flight: Tls13Flight, server_name: str | None, offered: OfferedKeyType) -> RetrievedChain | None:
    if flight.certificate is None or not flight.certificate.entries:
        return None
    leaf = flight.certificate.entries[0]
    return RetrievedChain(
        certificates=flight.certificate.certificates,
        ocsp_response=leaf.ocsp_response,
        sct_list=encode_sct_list(leaf.signed_certificate_timestamps) if leaf.signed_certificate_timestamps else None,
        retrieval=CertificateRetrieval(version=TLSVersion.TLS1_3, server_name=server_name, offered_key_type=offered),
    )


async def _below_tls13_hello(
    server: ServerContext, version: TLSVersion, server_name: str | None, offered: OfferedKeyType
) -> RetrievedChain | HelloRejected:
    suites = common_suite_codes(version) if offered is OfferedKeyType.ANY else suites_for_key_type(offered, version)
    if not suites:
        return HelloRejected(alert=None, reason=f"no {offered.value} suite exists for {version.label}")
    outcome = await server.hello(_stapling(tls_hello(version, suites, server_name)))
    if isinstance(outcome, HelloRejected):
        return outcome
    if outcome.version is not version or not outcome.certificates:
        return HelloRejected(alert=None, reason=f"no certificate at {version.label}")
    return _from_hello(outcome, server_name, offered)


async def _tls13_flight(
    server: ServerContext, server_name: str | None, offered: OfferedKeyType
) -> RetrievedChain | HelloRejected:
    spec = _tls13_hello(server_name)
    if offered is not OfferedKeyType.ANY:
        spec = attrs.evolve(spec, signature_algorithms=tls13_schemes_for_key_type(offered))
    flight = await server.tls13_flight(spec)
    if isinstance(flight, HelloRejected):
        return flight
    chain = _from_flight(flight, server_name, offered)
    return chain if chain is not None else HelloRejected(alert=None, reason="no certificate in the TLS 1.3 flight")


def _first_contact_chain(server: ServerContext, server_name: str | None) -> RetrievedChain | None:
    """The chain of the connectivity phase's decrypted TLS 1.3 flight, when its hello asked what ``_tls13_flight``
    asks for any key type (the same name, every signature scheme, stapling and SCTs); else None."""
    contact = server.first_contact
    if contact is None or contact.flight is None:
        return None
    spec, asked = contact.spec, _tls13_hello(server_name)
    same_request = (
        spec.server_name == asked.server_name
        and spec.signature_algorithms == asked.signature_algorithms
        and spec.status_request == asked.status_request
        and spec.signed_certificate_timestamp == asked.signed_certificate_timestamp
    )
    return _from_flight(contact.flight, server_name, OfferedKeyType.ANY) if same_request else None


async def _every_key_type(
    server: ServerContext,
    version: TLSVersion,
    server_name: str | None,
    key_types: Iterable[OfferedKeyType],
    first: RetrievedChain | None,
) -> list[RetrievedChain]:
    """``first`` (a chain of the server's choice, if any), then one hello per key type in ``key_types`` that it
    did not already bring."""
    chains = [first] if first is not None else []
    seen = {leaf_key_type(chain.certificates) for chain in chains}
    for key_type in key_types:
        if key_type in seen:
            continue
        if version is TLSVersion.TLS1_3:
            answer = await _tls13_flight(server, server_name, key_type)
        else:
            answer = await _below_tls13_hello(server, version, server_name, key_type)
        if isinstance(answer, RetrievedChain):
            chains.append(answer)
            seen.add(leaf_key_type(answer.certificates))
    return chains


async def _with_sni(server: ServerContext, server_name: str | None) -> tuple[list[RetrievedChain], TLSVersion | None]:
    """The chains of every key type, below TLS 1.3 and under TLS 1.3; and the version below TLS 1.3 (if any)."""
    chains: list[RetrievedChain] = []
    below: TLSVersion | None = None
    try:
        baseline = await tls12_baseline(server)
    except CheckNotApplicable:
        pass
    else:
        below = baseline.version
        first = _from_hello(baseline, server_name, OfferedKeyType.ANY) if baseline.certificates else None
        chains += await _every_key_type(server, below, server_name, _SPECIFIC_KEY_TYPES, first)
    if server.profile.highest_version is TLSVersion.TLS1_3:
        # Key types the server has below TLS 1.3 are looked for under TLS 1.3 too; with nothing below, all of them.
        key_types = {leaf_key_type(chain.certificates) for chain in chains} if below is not None else None
        wanted = [key_type for key_type in _SPECIFIC_KEY_TYPES if key_types is None or key_type in key_types]
        first13 = _first_contact_chain(server, server_name)
        if first13 is None:
            answer = await _tls13_flight(server, server_name, OfferedKeyType.ANY)
            first13 = answer if isinstance(answer, RetrievedChain) else None
        chains += await _every_key_type(server, TLSVersion.TLS1_3, server_name, wanted, first13)
    return chains, below


async def retrieve_chains(server: ServerContext) -> RetrievedChains:
    """Every chain the server serves; ``CheckNotApplicable`` when no hello brought a certificate."""
    server_name = server.profile.server_name
    chains, below = await _with_sni(server, server_name)
    if not chains:
        raise CheckNotApplicable("the server sent no certificate (anonymous or PSK suites only)")
    if server_name is None:
        return RetrievedChains(chains=tuple(chains), without_sni=WithoutSNI.NOT_TESTED, without_sni_reason=None)

    version = server.profile.highest_version if server.profile.highest_version is TLSVersion.TLS1_3 else below
    assert version is not None  # a chain was found, so some version was accepted
    if version is TLSVersion.TLS1_3:
        answer = await _tls13_flight(server, None, OfferedKeyType.ANY)
    else:
        answer = await _below_tls13_hello(server, version, None, OfferedKeyType.ANY)
    if isinstance(answer, HelloRejected):
        return RetrievedChains(chains=tuple(chains), without_sni=WithoutSNI.REFUSED, without_sni_reason=answer.reason)
    known_leaves = {chain.certificates[0] for chain in chains}
    if answer.certificates[0] in known_leaves:
        chains.append(answer)
        return RetrievedChains(chains=tuple(chains), without_sni=WithoutSNI.SAME_CERTIFICATE, without_sni_reason=None)
    chains += await _every_key_type(server, version, None, _SPECIFIC_KEY_TYPES, answer)
    return RetrievedChains(chains=tuple(chains), without_sni=WithoutSNI.DIFFERENT_CERTIFICATE, without_sni_reason=None)
