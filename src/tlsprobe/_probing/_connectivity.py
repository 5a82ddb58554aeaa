"""The connectivity phase: resolve, connect, find the highest version and a usable suite, and client-auth needs.

Connections: one native hello for a server with TLS 1.0 or later (two more for SSL 3.0-only servers, SSL 2.0
last). A server that refuses the first hello's suites (an alert other than protocol_version, or a hang-up), and
takes no common suite at SSL 3.0 either, is offered every other suite of the catalogue before it is called
unreachable: up to TLS 1.2 in hellos of at most 128 suites, then up to TLS 1.0, one hello after the other until one
is accepted (at most three more hellos): so a server with only NULL, anonymous, PSK, export... suites is scanned.
A server that speaks TLS normally never pays for them, nor one that hangs up on TLS hellos and speaks SSL 2.0
(asked first then). Under TLS 1.3 a certificate request is encrypted: the first hello's flight is decrypted to see
it, and only when that fails (a HelloRetryRequest, a key share this process cannot decrypt) does one nassl handshake
look instead. One more handshake tells a required certificate from an optional one whenever a request was seen.
As soon as the first hello has a connection, the scanner sends the same hello once more beside it, half-closed, to
learn whether later hellos may be (``NativeProber.learn_half_close``): one more connection, counted here. Also
counted here: the broad hellos below TLS 1.3 that the checks will ask for (the cipher-suite enumerations'
openings), which the scanner sends beside the first hello too, half-closed before the learning has decided
(``_engine._scanner._send_early_hellos``). Until the server's first byte, only three of those go (the others wait
for it): a server that accepts and never answers costs four connections, none retried (``_net/_retries``), and the
phase fails after one read timeout. The phase ends when the first hello is answered, its close still under way.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence

import anyio
import attrs

from tlsprobe._exceptions import ConnectivityError, DNSResolutionError, HandshakeError, ServerResponseError
from tlsprobe._model._config import IPAddress, ScanConfig, ServerTarget
from tlsprobe._model._results import ClientAuthRequirement, ServerProfile
from tlsprobe._net import ProbeMeter, ServerConnector
from tlsprobe._net._address_budgets import canonical_address
from tlsprobe._probing._hello_specs import (
    MAX_HELLO_SUITES,
    common_suite_codes,
    offered_schemes,
    remaining_suite_bundles,
    tls_hello,
)
from tlsprobe._probing._prober import NativeProber
from tlsprobe._tls import observe_client_auth
from tlsprobe.wire import AlertDescription
from tlsprobe.wire._answers import HelloAccepted, HelloRejected, SSL2Outcome, Tls13Flight
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import SSL2_CIPHER_SUITES, cipher_suite_by_code


def known_address(target: ServerTarget, config: ScanConfig) -> str | None:
    """The address a target names without a lookup, as ``resolve`` gives it: the pin, the literal, or through an
    HTTPS proxy the name (which the proxy resolves); None when the name must be looked up."""
    if target.ip is not None:
        return canonical_address(str(target.ip))
    if target.host_is_ip:
        return canonical_address(target.host)
    if config.https_tunnel is not None:
        return target.host
    return None


async def resolve(target: ServerTarget, config: ScanConfig) -> str:
    """The address to connect to: the pinned one, the literal, or the first one DNS returns, in one spelling per
    address (an IPv4-mapped IPv6 address is its IPv4 address). Through a proxy, a name is left for the proxy to
    resolve."""
    known = known_address(target, config)
    if known is not None:
        return known
    return canonical_address(str((await resolve_all(target, config))[0]))


async def resolve_all(target: ServerTarget, config: ScanConfig) -> tuple[IPAddress, ...]:
    """Every address ``target``'s name resolves to (IPv4 and IPv6), in the resolver's order, without repeats."""
    try:
        with anyio.fail_after(config.timeouts.connect_s):
            infos = await anyio.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise DNSResolutionError(f"resolving {target.host!r} timed out after {config.timeouts.connect_s:g} s") from None
    except OSError as error:
        raise DNSResolutionError(f"could not resolve {target.host!r}: {error.strerror or error}") from None
    # The scope of a link-local IPv6 address ("fe80::1%eth0") is dropped: a target can only pin the address.
    addresses = tuple(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))
    if not addresses:
        raise DNSResolutionError(f"{target.host!r} resolves to no address")
    return addresses


async def probe_server(
    target: ServerTarget, ip_address: str, connector: ServerConnector, prober: NativeProber, meter: ProbeMeter
) -> ServerProfile:
    """Learn the server's highest version, one accepted suite and its client-certificate needs. Every connection
    is set up by ``connector`` (proxy tunnel, STARTTLS) before its first TLS byte."""
    accepted, flight, version, suite_code = await _first_accepted_hello(target, prober, meter)
    suite = cipher_suite_by_code(suite_code)
    if suite is None:
        raise ServerResponseError(f"server chose unknown cipher suite 0x{suite_code:04x}")
    client_auth, note = await _client_auth(target, connector, meter, version, accepted, flight)
    identity = connector.handshake.identity
    certificate_accepted: bool | None = None
    if identity is not None and client_auth in (ClientAuthRequirement.OPTIONAL, ClientAuthRequirement.REQUIRED):
        certificate_accepted = await _certificate_accepted(target, connector, meter, version)
    return ServerProfile(
        ip_address=ip_address,
        port=target.port,
        server_name=target.server_name,
        highest_version=version,
        cipher_suite=suite,
        client_auth=client_auth,
        client_auth_note=note,
        client_certificate=identity.subject if identity is not None else None,
        client_certificate_accepted=certificate_accepted,
        starttls=connector.setup.starttls,
        via_proxy=str(connector.setup.proxy) if connector.setup.proxy is not None else None,
    )


async def _first_accepted_hello(
    target: ServerTarget, prober: NativeProber, meter: ProbeMeter
) -> tuple[HelloAccepted | None, Tls13Flight | None, TLSVersion, int]:
    # Every TLS 1.3 suite and the most common older ones, within the size some servers can take.
    tls13 = common_suite_codes(TLSVersion.TLS1_3)
    first_bundle = tls13 + common_suite_codes(TLSVersion.TLS1_2, MAX_HELLO_SUITES - len(tls13))
    first_hello = tls_hello(TLSVersion.TLS1_3, first_bundle, target.server_name, min_version=TLSVersion.TLS1_0)
    # With OCSP stapling and SCTs asked for, a decrypted TLS 1.3 flight is also the certificate check's chain;
    # with every signature scheme in the enumeration's order, its CertificateVerify is that enumeration's first.
    first_hello = attrs.evolve(
        first_hello,
        status_request=True,
        signed_certificate_timestamp=True,
        signature_algorithms=tuple(offered_schemes()),
    )
    modern, flight = await prober.first_contact(meter, first_hello)
    if isinstance(modern, HelloAccepted):
        return modern, flight, modern.version, modern.cipher_suite
    ssl3_suites = common_suite_codes(TLSVersion.SSL3)
    ssl3 = await prober.hello(meter, tls_hello(TLSVersion.SSL3, ssl3_suites, target.server_name))
    if isinstance(ssl3, HelloAccepted) and ssl3.cipher_suite in first_bundle:
        # The first hello offered this suite too: its versions were refused, not its suites.
        return ssl3, None, ssl3.version, ssl3.cipher_suite
    ssl2: SSL2Outcome | None = None
    if modern.alert is None and isinstance(ssl3, HelloRejected) and ssl3.alert is None:
        # Hung up on both without a word, as an SSL 2.0-only server does: SSL 2.0 before the other suites.
        ssl2 = await _sslv2_hello(prober, meter)
        if not isinstance(ssl2, HelloRejected) and ssl2.cipher_kinds:
            return None, None, TLSVersion.SSL2, ssl2.cipher_kinds[0]
    other, other_reason = await _other_suites(target, prober, meter, first_bundle, modern)
    if other is not None:
        return other, None, other.version, other.cipher_suite
    if isinstance(ssl3, HelloAccepted):
        return ssl3, None, ssl3.version, ssl3.cipher_suite
    if ssl2 is None:
        ssl2 = await _sslv2_hello(prober, meter)
    if not isinstance(ssl2, HelloRejected) and ssl2.cipher_kinds:
        return None, None, TLSVersion.SSL2, ssl2.cipher_kinds[0]
    raise HandshakeError(
        "the server refused every protocol version offered: "
        f"TLS 1.3 to 1.0 ({modern.reason}); every other suite tlsprobe knows ({other_reason}); "
        f"SSL 3.0 ({ssl3.reason}); "
        f"SSL 2.0 ({ssl2.reason if isinstance(ssl2, HelloRejected) else 'no common cipher kind'})"
    )


async def _sslv2_hello(prober: NativeProber, meter: ProbeMeter) -> SSL2Outcome:
    return await prober.sslv2_hello(meter, tuple(suite.code for suite in SSL2_CIPHER_SUITES))


async def _other_suites(
    target: ServerTarget, prober: NativeProber, meter: ProbeMeter, offered: Sequence[int], refusal: HelloRejected
) -> tuple[HelloAccepted | None, str]:
    """For a server that refused the first hello: every other suite of the catalogue, in bundles as the
    enumeration sizes them, until one is accepted (a server with only NULL, anonymous, PSK, export... suites).
    Up to TLS 1.2 first, then up to TLS 1.0 (a suite some servers refuse at later versions, say an export one).
    None, and why, when all were refused; nothing is sent when the first hello's versions were refused."""
    if refusal.alert is not None and refusal.alert.description == AlertDescription.protocol_version:
        return None, "not offered: the versions themselves were refused"
    reasons: list[str] = []
    for version in (TLSVersion.TLS1_2, TLSVersion.TLS1_0):
        for bundle in remaining_suite_bundles(version, offered):
            outcome = await prober.hello(meter, tls_hello(version, bundle, target.server_name))
            if isinstance(outcome, HelloAccepted):
                return outcome, ""
            reasons.append(outcome.reason)
    hellos = len(reasons)
    return None, f"{hellos} more hellos: " + "; ".join(dict.fromkeys(reasons))


async def _client_auth(
    target: ServerTarget,
    connector: ServerConnector,
    meter: ProbeMeter,
    version: TLSVersion,
    accepted: HelloAccepted | None,
    flight: Tls13Flight | None,
) -> tuple[ClientAuthRequirement, str | None]:
    if version is TLSVersion.SSL2 or accepted is None:
        return ClientAuthRequirement.UNKNOWN, "not determined for SSL 2.0"
    try:
        if version is not TLSVersion.TLS1_3:
            requested = accepted.certificate_requested  # the request was in the clear in the probe's flight
        elif flight is not None:
            requested = flight.certificate_request is not None  # in the first hello's flight, decrypted
        else:
            detected = await connector.run_blocking(meter, observe_client_auth, version, target.server_name, False)
            requested = detected.requested
        if not requested:
            return ClientAuthRequirement.NOT_REQUESTED, None
        attempt = await connector.run_blocking(meter, observe_client_auth, version, target.server_name, True)
    except (HandshakeError, ServerResponseError, ConnectivityError) as error:
        return ClientAuthRequirement.UNKNOWN, str(error)
    return (ClientAuthRequirement.OPTIONAL if attempt.completed else ClientAuthRequirement.REQUIRED), None


async def _certificate_accepted(
    target: ServerTarget, connector: ServerConnector, meter: ProbeMeter, version: TLSVersion
) -> bool | None:
    """One handshake presenting the user's client certificate: does the server take it? None when unknown."""
    try:
        attempt = await connector.run_blocking(meter, observe_client_auth, version, target.server_name, True, True)
    except (HandshakeError, ServerResponseError, ConnectivityError):
        return None
    return attempt.completed
