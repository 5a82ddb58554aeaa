"""Client simulation: what each real client of the table would negotiate with the server, computed from the scan's
results, with no connection of its own.

The model, step by step (one ClientHello per client, as a real client sends it):
- Version: the highest one both accept. A client does not fall back to a lower version when the handshake then fails.
- Below TLS 1.3 the server walks the suites in its own order when it enforces one, else in the client's, and takes
  the first it can serve this client (RFC 5246 §7.4.1.2; RFC 8422 §5.1): an ECDHE suite needs a curve in common, an
  ECDSA suite a certificate whose curve the client offers, a signed suite under TLS 1.2 a signature scheme in common
  for the certificate's key (RFC 5246 §7.4.1.4.1), a DHE suite an RFC 7919 group in common when the server
  negotiates them (RFC 7919 §4). The curve is chosen in the server's order or the client's, as the server does.
- TLS 1.3 (RFC 8446 §4.2.7-4.2.8): the suite by the server's order or the client's; the group is the one both
  prefer, with a HelloRetryRequest when the client sent no key share for it. Servers differ only when the server
  enforces its order and the client's first usable key share is not its favourite (OpenSSL takes the share, GnuTLS
  asks for its favourite): then the group is unknown, the handshake completing either way. The certificate follows
  the signature schemes in common (the server signs with a scheme of its certificate's key).
- Then the client judges what it got: the DH prime's size, the certificate key's size, a SHA-1 signature.
Where a fact the outcome depends on was not gathered (a check not run, failed, or an order not determined), the
outcome is unknown with the reason, never a guess. Certificate trust is not simulated.

References: RFC 8446, RFC 5246, RFC 8422, RFC 7919, RFC 7301, RFC 6066 §3.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Final, TypeVar, cast

import attrs

from tlsprobe._model._results import ClientAuthRequirement, ConnectivityCompleted, ServerScanResult
from tlsprobe._model._simulation import SimulatedHandshake, SimulationOutcome
from tlsprobe._probing._hello_specs import offered_schemes
from tlsprobe.checks._certificate_retrieval import WithoutSNI
from tlsprobe.checks.alpn import ALPNResult
from tlsprobe.checks.certificate import CertificateResult
from tlsprobe.checks.cipher_suites import AcceptedCipherSuite, CipherSuitesResult
from tlsprobe.checks.groups import GroupsAtVersion, SupportedGroupsResult
from tlsprobe.checks.signature_algorithms import SignatureAlgorithmsAtVersion, SignatureAlgorithmsResult
from tlsprobe.policy._client_profiles import ClientProfile, client_profiles, scheme_name
from tlsprobe.policy._observed import NotObserved, Observations
from tlsprobe.trust._facts import CertificateFacts, KeyType
from tlsprobe.wire import EphemeralKeyKind
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import (
    CipherSuite,
    GroupKind,
    KeyExchange,
    NamedGroup,
    named_group_by_code,
    named_group_by_name,
)

T = TypeVar("T")

_AUTH_KEY_TYPES: Final = {"RSA": KeyType.RSA, "ECDSA": KeyType.EC, "DSS": KeyType.DSA}
_SIGNED: Final = frozenset({KeyExchange.ECDHE, KeyExchange.DHE})
_NOT_SHA2: Final = frozenset({"md2", "md4", "md5", "sha1"})
_NEWEST_FIRST: Final = [version for version in reversed(TLSVersion) if version is not TLSVersion.SSL2]


@functools.cache
def _enumeration_offer() -> tuple[int, ...]:
    """The order the signature-scheme enumeration offers schemes in (its picks follow it, or the server's)."""
    return tuple(offered_schemes())


class _Unknown(Exception):  # noqa: N818 - a condition of the computation, not an error
    """A fact the outcome depends on was not gathered."""


class _Fails(Exception):  # noqa: N818 - a condition of the computation, not an error
    """The handshake fails; ``version`` is the one the server chose, when it got that far."""

    def __init__(self, reason: str, version: TLSVersion | None = None) -> None:
        super().__init__(reason)
        self.version = version


def _scheme_key_type(code: int) -> KeyType | None:
    """The certificate key a TLS 1.3 signature scheme signs with."""
    name = scheme_name(code)
    if name.startswith("ecdsa_"):
        return KeyType.EC
    if name.startswith("rsa_"):
        return KeyType.RSA
    return {"ed25519": KeyType.ED25519, "ed448": KeyType.ED448}.get(name)


def _tls12_scheme_fits(code: int, key_type: KeyType) -> bool:
    """Whether a TLS 1.2 scheme signs with this key (the hash is free under TLS 1.2, the curve too)."""
    name = scheme_name(code)
    if key_type is KeyType.RSA:
        return name.startswith(("rsa_pkcs1_", "rsa_pss_rsae_"))
    if key_type is KeyType.EC:
        return name.startswith("ecdsa_") and "brainpool" not in name
    return key_type is KeyType.DSA and name.startswith("dsa_")


def _in_order(candidates: Iterable[int], order: Sequence[int]) -> list[int]:
    """``candidates`` sorted by their place in ``order`` (those not in it dropped)."""
    present = set(candidates)
    return [code for code in order if code in present]


def _names(codes: Iterable[int]) -> str:
    named = [group.name if (group := named_group_by_code(code)) else f"0x{code:04x}" for code in codes]
    return ", ".join(named) or "none"


@attrs.frozen
class _Served:
    """How the server would serve one suite to the client."""

    suite: CipherSuite
    group: NamedGroup | None
    dh_bits: int | None
    key_type: KeyType | None


@attrs.frozen
class _Refused:
    """Why the server cannot serve one suite to the client."""

    reason: str


class _Server:
    """The scan's facts about one server, read on demand and once for all clients: a missing one raises
    ``_Unknown`` naming the check."""

    def __init__(self, result: ServerScanResult, connectivity: ConnectivityCompleted) -> None:
        self._observed = Observations(result)
        self._read: dict[str, object] = {}
        self.profile = connectivity.profile
        self.target_is_ip = result.target.host_is_ip

    def _get(self, key: str, read: Callable[[Observations], T]) -> T:
        if key not in self._read:
            try:
                self._read[key] = read(self._observed)
            except NotObserved as missing:
                self._read[key] = _Unknown(str(missing))
        found = self._read[key]
        if isinstance(found, _Unknown):
            raise _Unknown(str(found))  # a fresh one: a stored exception would gather every traceback
        return cast("T", found)  # stored by ``read`` under this key

    def suites(self, version: TLSVersion) -> CipherSuitesResult | None:
        """The suites at ``version``; None when the server does not accept it."""
        if version > self.profile.highest_version:
            return None  # the connectivity phase offered it and got an older version
        name = f"{version.value}_cipher_suites"
        found = self._get(name, lambda observed: observed.get(name, CipherSuitesResult))
        return found if found.is_supported else None

    def groups(self, pick: Callable[[SupportedGroupsResult], GroupsAtVersion | None], what: str) -> GroupsAtVersion:
        found = pick(self._get("supported_groups", lambda observed: observed.groups()))
        if found is None:
            raise _Unknown(f"the supported_groups check found no {what}")
        return found

    def signature_schemes(self, version: TLSVersion) -> SignatureAlgorithmsAtVersion:
        name = "signature_algorithms"
        found = self._get(name, lambda observed: observed.get(name, SignatureAlgorithmsResult))
        at = found.tls1_3 if version is TLSVersion.TLS1_3 else found.tls1_2
        if at is None:
            raise _Unknown(f"the signature_algorithms check found no signed handshake at {version.label}")
        return at

    def certificates(self) -> CertificateResult:
        return self._get("certificate", lambda observed: observed.get("certificate", CertificateResult))

    def leaf(self, key_type: KeyType) -> CertificateFacts:
        """The leaf of ``key_type`` served to the name scanned (with SNI when the scan sent it)."""
        for deployment in self.certificates().deployments:
            scanned = any(retrieval.server_name == self.profile.server_name for retrieval in deployment.retrievals)
            if scanned and deployment.leaf.key_type is key_type:
                return deployment.leaf
        raise _Unknown(f"the certificate check retrieved no {key_type.value.upper()} certificate")

    def alpn(self) -> ALPNResult | None:
        return self._get("alpn", lambda observed: observed.optional("alpn", ALPNResult))


@attrs.frozen
class _Negotiated:
    """What the server and the client agree on, before the client judges it."""

    version: TLSVersion
    served: _Served
    hello_retry_request: bool | None = None
    group_note: str | None = None
    other_key_type: KeyType | None = None
    """TLS 1.3: the other certificate the server may choose, when the scan did not show which it prefers."""


# --- version --------------------------------------------------------------------------------------------------------


def _version(client: ClientProfile, server: _Server) -> TLSVersion:
    for version in _NEWEST_FIRST:
        if version in client.versions and server.suites(version) is not None:
            return version
    raise _Fails(
        f"no protocol version in common (client: {client.describe_versions()}; server: {_server_versions(server)})"
    )


def _server_versions(server: _Server) -> str:
    """The versions the server is known to accept, for a message."""
    accepted = []
    for version in TLSVersion:
        try:
            if version is not TLSVersion.SSL2 and server.suites(version) is not None:
                accepted.append(version.label)
        except _Unknown:
            continue
    return ", ".join(accepted) or "none known"


# --- below TLS 1.3 --------------------------------------------------------------------------------------------------


def _curve(client: ClientProfile, server: _Server) -> NamedGroup | None:
    curves = server.groups(lambda groups: groups.ecdhe_below_tls1_3, "ECDHE curve")
    return _pick_group(client, curves)


def _pick_group(client: ClientProfile, at: GroupsAtVersion) -> NamedGroup | None:
    """The group the server chooses among those in common, by its order or the client's; None when none is."""
    server_codes = [group.code for group in at.accepted_groups]
    common = [code for code in client.groups if code in server_codes]
    if at.server_order_enforced:
        common = _in_order(common, server_codes)
    return named_group_by_code(common[0]) if common else None


def _dh(client: ClientProfile, server: _Server, entry: AcceptedCipherSuite) -> _Served | _Refused:
    """The DH prime for a DHE suite. A server that negotiates RFC 7919 groups (two or more found) uses the group in
    common, refuses DHE when there is none, and its own prime, not seen by the scan, for a client that offers none.
    One group found is either that (with one group) or a fixed prime that is that group (OpenSSL 3): the same for
    a client that offers it or none, unknown for one that offers only others. None found: a fixed prime."""
    suite = entry.cipher_suite
    ffdhe = server.groups(lambda groups: groups.ffdhe_below_tls1_3, "DHE group")
    offered = [code for code in client.groups if (group := named_group_by_code(code)) and group.kind is GroupKind.FFDHE]
    found = [group.code for group in ffdhe.accepted_groups]
    if offered and found:
        chosen = _pick_group(client, ffdhe)
        if chosen is not None:
            return _Served(suite=suite, group=chosen, dh_bits=chosen.size, key_type=None)
        if len(found) > 1:
            return _Refused(f"no RFC 7919 group in common for DHE (client: {_names(offered)})")
        raise _Unknown(
            f"whether the server uses {_names(found)} for DHE with a client that offers only {_names(offered)}, or "
            "refuses DHE, was not observed"
        )
    if len(found) > 1:
        raise _Unknown(
            "the server negotiates RFC 7919 groups; the prime it uses for a client offering none was not seen"
        )
    key = entry.ephemeral_key
    if key is None or key.kind is not EphemeralKeyKind.DH:
        raise _Unknown(f"no DH key was recorded for {suite.name}")
    group = named_group_by_code(key.group) if key.group is not None else None
    return _Served(suite=suite, group=group, dh_bits=key.size, key_type=None)


def _certificate_curve_offered(client: ClientProfile, server: _Server) -> str | None:
    """Why an ECDSA certificate cannot serve the client below TLS 1.3 (RFC 8422 §5.1), or None when it can."""
    leaf = server.leaf(KeyType.EC)
    curve = named_group_by_name(leaf.ec_curve) if leaf.ec_curve is not None else None
    if client.groups and (curve is None or curve.code not in client.groups):
        return f"the ECDSA certificate's curve {leaf.ec_curve or '(unnamed)'} is not among the client's groups"
    return None


def _serve(
    client: ClientProfile, server: _Server, version: TLSVersion, entry: AcceptedCipherSuite
) -> _Served | _Refused:
    """Whether and how the server can serve ``entry``'s suite to the client at ``version`` (below TLS 1.3)."""
    suite = entry.cipher_suite
    key_type = None if suite.is_anonymous else _AUTH_KEY_TYPES.get(suite.authentication)
    exchange = suite.key_exchange
    simulated = exchange in (KeyExchange.RSA, KeyExchange.ECDHE, KeyExchange.DHE, KeyExchange.ECDH)
    if not simulated or (exchange is KeyExchange.ECDH and suite.is_anonymous):
        raise _Unknown(f"tlsprobe does not simulate {suite.name}")
    if exchange is KeyExchange.ECDH:
        key_type = KeyType.EC  # static ECDH: the certificate holds an EC key whatever signed it
    elif not suite.is_anonymous and key_type is None:
        raise _Unknown(f"tlsprobe does not simulate {suite.authentication} authentication ({suite.name})")
    if key_type is KeyType.EC and (why := _certificate_curve_offered(client, server)) is not None:
        return _Refused(why)
    if version is TLSVersion.TLS1_2 and exchange in _SIGNED and key_type is not None:
        signed = server.signature_schemes(version)
        usable = [code for code in client.signature_algorithms if code in {s.code for s in signed.accepted}]
        if signed.chosen_outside_offer is not None:
            usable = [code for code in client.signature_algorithms if code == signed.chosen_outside_offer.code]
        if not any(_tls12_scheme_fits(code, key_type) for code in usable):
            return _Refused(f"no {key_type.value.upper()} signature scheme in common under TLS 1.2")
    if exchange is KeyExchange.ECDHE:
        curve = _curve(client, server)
        if curve is None:
            return _Refused("no ECDHE curve in common")
        return _Served(suite=suite, group=curve, dh_bits=None, key_type=key_type)
    if exchange is KeyExchange.DHE:
        served = _dh(client, server, entry)
        return served if isinstance(served, _Refused) else attrs.evolve(served, key_type=key_type)
    if exchange is KeyExchange.ECDH:
        leaf = server.leaf(KeyType.EC)
        group = named_group_by_name(leaf.ec_curve) if leaf.ec_curve else None
        return _Served(suite=suite, group=group, dh_bits=None, key_type=key_type)
    return _Served(suite=suite, group=None, dh_bits=None, key_type=key_type)


def _choose_suite(
    client: ClientProfile,
    accepted: CipherSuitesResult,
    version: TLSVersion,
    serve: Callable[[AcceptedCipherSuite], _Served | _Refused],
) -> _Served:
    """Walk the suites in common in the order the server uses; the first it can serve wins. A suite whose
    feasibility is unknown makes the outcome unknown only when it comes before the first one served."""
    by_code = {entry.cipher_suite.code: entry for entry in accepted.accepted_cipher_suites}
    common = [code for code in client.cipher_suites if code in by_code]
    if not common:
        raise _Fails(f"no cipher suite in common at {version.label}", version)
    server_order = [entry.cipher_suite.code for entry in accepted.accepted_cipher_suites]
    enforced = accepted.server_order_enforced
    order = _in_order(common, server_order) if enforced else common
    refusals: list[str] = []
    served: list[_Served] = []
    unknown: str | None = None
    for code in order:
        try:
            outcome = serve(by_code[code])
        except _Unknown as missing:
            if enforced is None:
                unknown = unknown or str(missing)
                continue
            raise
        if isinstance(outcome, _Refused):
            refusals.append(outcome.reason)
            continue
        served.append(outcome)
        if enforced is not None:
            break
    if enforced is None and len(served) + (unknown is not None) > 1:
        raise _Unknown(f"the server's suite order at {version.label} was not determined")
    if unknown is not None:
        raise _Unknown(unknown)
    if not served:
        raise _Fails(
            f"the suites in common at {version.label} cannot be used: {'; '.join(dict.fromkeys(refusals))}", version
        )
    return served[0]


def _below_tls13(client: ClientProfile, server: _Server, version: TLSVersion) -> _Negotiated:
    accepted = server.suites(version)
    assert accepted is not None  # the version was chosen among the accepted ones
    return _Negotiated(
        version=version,
        served=_choose_suite(client, accepted, version, lambda entry: _serve(client, server, version, entry)),
    )


# --- TLS 1.3 --------------------------------------------------------------------------------------------------------


def _tls13_group(client: ClientProfile, server: _Server) -> tuple[NamedGroup | None, bool | None, str | None]:
    """(group, HelloRetryRequest needed, why the group is unknown)."""
    at = server.groups(lambda groups: groups.tls1_3, "TLS 1.3 group")
    server_codes = [group.code for group in at.accepted_groups]
    common = [code for code in client.groups if code in server_codes]
    if not common:
        raise _Fails(
            f"no group in common under TLS 1.3 (client: {_names(client.groups)}; server: {_names(server_codes)})",
            TLSVersion.TLS1_3,
        )
    preferred = _in_order(common, server_codes)[0] if at.server_order_enforced else common[0]
    shares = [code for code in client.key_shares if code in server_codes]
    if not shares:
        return named_group_by_code(preferred), True, None
    if shares[0] == preferred:
        return named_group_by_code(preferred), False, None
    return (
        None,
        None,
        f"group unknown: the server prefers {_names([preferred])}, the client sent a key share for "
        f"{_names([shares[0]])}; servers differ on taking the share or asking for their preference",
    )


def _tls13_key_types(client: ClientProfile, server: _Server) -> tuple[KeyType, KeyType | None]:
    """The key type of the certificate the server signs with under TLS 1.3, and the other one it may choose
    instead when that depends on an order the scan did not show (None when it does not)."""
    signed = server.signature_schemes(TLSVersion.TLS1_3)
    if signed.chosen_outside_offer is not None:
        outside = signed.chosen_outside_offer
        if outside.code not in client.signature_algorithms:
            raise _Fails(
                f"the server signs with {outside.name} whatever is offered, which the client does not",
                TLSVersion.TLS1_3,
            )
        picks = [outside.code]
    else:
        picks = [scheme.code for scheme in signed.accepted]
    usable = [code for code in picks if code in client.signature_algorithms]
    if not usable:
        raise _Fails(
            f"no signature scheme in common under TLS 1.3 (the server signs with {', '.join(map(scheme_name, picks))})",
            TLSVersion.TLS1_3,
        )
    by_server = _scheme_key_type(usable[0])
    by_client = _scheme_key_type(next(code for code in client.signature_algorithms if code in usable))
    if by_server is None or by_client is None:
        raise _Unknown(f"tlsprobe does not simulate {scheme_name(usable[0])} certificates")
    # The picks follow the enumeration's offer, unless the server chose by its own preference: then the server
    # chooses the same way for this client. Otherwise it may follow this client's order instead.
    offered = [code for code in _enumeration_offer() if code in picks]
    return by_server, (by_client if by_client is not by_server and offered == picks else None)


def _tls13(client: ClientProfile, server: _Server) -> _Negotiated:
    accepted = server.suites(TLSVersion.TLS1_3)
    assert accepted is not None
    suite = _choose_suite(client, accepted, TLSVersion.TLS1_3, _any_key).suite
    group, retry, note = _tls13_group(client, server)
    dh_bits = group.size if group is not None and group.kind is GroupKind.FFDHE else None
    key_type, other = _tls13_key_types(client, server)
    served = _Served(suite=suite, group=group, dh_bits=dh_bits, key_type=key_type)
    return _Negotiated(
        version=TLSVersion.TLS1_3, served=served, hello_retry_request=retry, group_note=note, other_key_type=other
    )


def _any_key(entry: AcceptedCipherSuite) -> _Served:
    """A TLS 1.3 suite names no key exchange nor authentication: any of them can be served."""
    return _Served(suite=entry.cipher_suite, group=None, dh_bits=None, key_type=None)


# --- what the client judges ------------------------------------------------------------------------------------------


def _judge(client: ClientProfile, served: _Served, leaf: CertificateFacts | None, version: TLSVersion) -> None:
    """Raise ``_Fails`` when the client refuses what the server sent."""
    bits = served.dh_bits
    if bits is not None and client.min_dh_bits is not None and bits < client.min_dh_bits:
        raise _Fails(f"DH prime of {bits} bits, below the client's minimum of {client.min_dh_bits}", version)
    if bits is not None and client.max_dh_bits is not None and bits > client.max_dh_bits:
        raise _Fails(f"DH prime of {bits} bits, above the client's maximum of {client.max_dh_bits}", version)
    if leaf is None or leaf.key_size is None:
        return
    size = leaf.key_size
    if leaf.key_type is KeyType.RSA:
        if client.min_rsa_bits is not None and size < client.min_rsa_bits:
            raise _Fails(f"RSA key of {size} bits, below the client's minimum of {client.min_rsa_bits}", version)
        if client.max_rsa_bits is not None and size > client.max_rsa_bits:
            raise _Fails(f"RSA key of {size} bits, above the client's maximum of {client.max_rsa_bits}", version)
    if leaf.key_type is KeyType.EC and client.min_ecdsa_bits is not None and size < client.min_ecdsa_bits:
        raise _Fails(f"EC key of {size} bits, below the client's minimum of {client.min_ecdsa_bits}", version)
    if client.requires_sha2 and leaf.signature_hash in _NOT_SHA2:
        raise _Fails(f"certificate signed over {leaf.signature_hash.upper()}; the client requires SHA-2", version)


def _certificate(
    client: ClientProfile, server: _Server, negotiated: _Negotiated
) -> tuple[CertificateFacts | None, str | None]:
    """The leaf the client gets, judged (``_Fails`` when it refuses it, or the DH key), and why it is unknown.
    When the server may choose either of two certificates, the outcome stands if the client takes both alike."""
    served, version = negotiated.served, negotiated.version
    key_types = [served.key_type] if served.key_type is not None else []
    if negotiated.other_key_type is not None:
        key_types.append(negotiated.other_key_type)
    leaves: list[CertificateFacts | None] = [server.leaf(key_type) for key_type in key_types] or [None]
    failures: list[str] = []
    for leaf in leaves:
        try:
            _judge(client, served, leaf, version)
        except _Fails as failure:
            failures.append(str(failure))
    if len(leaves) == 1:
        if failures:
            raise _Fails(failures[0], version)
        return leaves[0], None
    chosen = " or ".join(key_type.value.upper() for key_type in key_types)
    if len(failures) == len(leaves):
        raise _Fails(failures[0], version)
    if failures:
        raise _Unknown(f"the server may present its {chosen} certificate, and the client refuses one: {failures[0]}")
    return None, f"certificate unknown: the server may present its {chosen} certificate, its order was not shown"


def _alpn(client: ClientProfile, server: _Server) -> tuple[str | None, str | None]:
    """(protocol agreed, why it is unknown)."""
    if not client.alpn:
        return None, None
    try:
        found = server.alpn()
    except _Unknown as missing:
        return None, f"ALPN unknown: {missing}"
    if found is None:
        return None, None
    common = [protocol for protocol in client.alpn if protocol in found.accepted_protocols]
    if found.server_order_enforced:
        common = [protocol for protocol in found.accepted_protocols if protocol in common]
    elif found.server_order_enforced is None and len(common) > 1:
        return None, "ALPN unknown: the server's order was not determined"
    return (common[0] if common else None), None


# --- one client -----------------------------------------------------------------------------------------------------


def _sni_reason(client: ClientProfile, server: _Server) -> None:
    """Raise when the scan did not see what the server serves this client because of SNI."""
    scanned_name = server.profile.server_name
    if client.sends_sni and scanned_name is None and not server.target_is_ip:
        raise _Unknown("the scan sent no SNI, this client sends one")
    if client.sends_sni or scanned_name is None:
        return
    without = server.certificates().without_sni
    if without is WithoutSNI.REFUSED:
        raise _Fails("the client sends no SNI, and the server refuses hellos without it")
    if without is WithoutSNI.DIFFERENT_CERTIFICATE:
        raise _Unknown("the client sends no SNI, and without it the server serves another host, not scanned")


def simulate_client(client: ClientProfile, result: ServerScanResult) -> SimulatedHandshake:
    """What ``client`` would negotiate with the server of ``result`` (see the module docstring)."""
    if not isinstance(result.connectivity, ConnectivityCompleted):
        return attrs.evolve(_record(client), note="the server could not be scanned")
    return _simulate(client, _Server(result, result.connectivity))


def simulate_handshakes(
    result: ServerScanResult, clients: Sequence[ClientProfile] | None = None
) -> tuple[SimulatedHandshake, ...]:
    """Each client's handshake with the server of ``result``, computed from its check results (no connection);
    ``clients`` defaults to the built-in table (``client_profiles()``). Empty when connectivity failed."""
    if not isinstance(result.connectivity, ConnectivityCompleted):
        return ()
    server = _Server(result, result.connectivity)
    return tuple(_simulate(client, server) for client in (client_profiles() if clients is None else clients))


def _record(client: ClientProfile) -> SimulatedHandshake:
    """An unknown outcome for ``client``, to be filled in."""
    return SimulatedHandshake(
        client=client.id,
        client_name=client.name,
        outcome=SimulationOutcome.UNKNOWN,
        version=None,
        cipher_suite=None,
        group=None,
        dh_bits=None,
        hello_retry_request=None,
        certificate_key_type=None,
        certificate_key_size=None,
        alpn=None,
        note=None,
    )


def _simulate(client: ClientProfile, server: _Server) -> SimulatedHandshake:
    record = _record(client)
    try:
        _sni_reason(client, server)
        version = _version(client, server)
        negotiated = _tls13(client, server) if version is TLSVersion.TLS1_3 else _below_tls13(client, server, version)
        served = negotiated.served
        leaf, certificate_note = _certificate(client, server, negotiated)
    except _Fails as failure:
        return attrs.evolve(record, outcome=SimulationOutcome.FAILS, version=failure.version, note=str(failure))
    except _Unknown as missing:
        return attrs.evolve(record, note=str(missing))
    alpn, alpn_note = _alpn(client, server)
    notes = [negotiated.group_note, certificate_note, alpn_note]
    if server.profile.client_auth is ClientAuthRequirement.REQUIRED:
        notes.append("the server requires a client certificate")
    return attrs.evolve(
        record,
        outcome=SimulationOutcome.CONNECTS,
        version=version,
        cipher_suite=served.suite.name,
        group=served.group.name if served.group is not None else None,
        dh_bits=served.dh_bits,
        hello_retry_request=negotiated.hello_retry_request,
        certificate_key_type=leaf.key_type if leaf is not None else None,
        certificate_key_size=leaf.key_size if leaf is not None else None,
        alpn=alpn,
        note="; ".join(note for note in notes if note) or None,
    )
