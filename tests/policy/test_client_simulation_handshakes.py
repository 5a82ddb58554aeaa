"""Client simulation proven on real handshakes: what tlsprobe computes from a scan equals what real clients get.

Each simulated client is a real one: ``openssl s_client`` set up to send a table client's hello as far as OpenSSL
can (its suites, groups, signature schemes, versions and ALPN, in its order), and ``gnutls-cli`` with priority
strings. The hello each one really sends is captured once on a listening socket and read back into a
``ClientProfile``: the simulation computes from exactly what the client offers (its one key share included).
Then, for each server of every order type (OpenSSL with and without ``-serverpref``, TLS 1.2-only with DHE,
TLS 1.3-only, an RSA+ECDSA dual-certificate server, GnuTLS with and without %SERVER_PRECEDENCE and with RFC 7919
groups), tlsprobe scans the server, and each client connects for real: the version, suite, group, DH size,
HelloRetryRequest, certificate key type and ALPN it negotiated are compared with the computed ones.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import attrs
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests.servers.processes import OPENSSL, RunningServer, start_gnutls_serv, start_openssl_s_server

from tlsprobe import ServerScanResult, TLSVersion, scan_server
from tlsprobe.checks import DEFAULT_CHECKS
from tlsprobe.policy import ClientProfile, SimulatedHandshake, SimulationOutcome, client_profiles
from tlsprobe.policy._client_simulation import simulate_client
from tlsprobe.testing import TestPKI
from tlsprobe.trust import KeyType
from tlsprobe.wire import signature_scheme_by_code
from tlsprobe.wire.catalogue import CIPHER_SUITES, cipher_suite_by_code, cipher_suite_by_name, named_group_by_code

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]

_NEEDED: Final = frozenset(
    {
        *(f"{version.value}_cipher_suites" for version in TLSVersion),
        "supported_groups",
        "signature_algorithms",
        "certificate",
        "alpn",
    }
)
_CLIENT_TIMEOUT_S: Final = 30.0  # a guard against a hung client, never a measurement
_WIRE_VERSIONS: Final = {version.wire_code: version for version in TLSVersion}
_OPENSSL_VERSIONS: Final = {
    TLSVersion.TLS1_0: "TLSv1",
    TLSVersion.TLS1_1: "TLSv1.1",
    TLSVersion.TLS1_2: "TLSv1.2",
    TLSVersion.TLS1_3: "TLSv1.3",
}
# Groups as OpenSSL 3.0 names them; others (post-quantum, binary curves) are left out of s_client's offer.
_OPENSSL_GROUPS: Final = {
    "x25519": "X25519",
    "x448": "X448",
    "secp256r1": "P-256",
    "secp384r1": "P-384",
    "secp521r1": "P-521",
    **{f"ffdhe{bits}": f"ffdhe{bits}" for bits in (2048, 3072, 4096, 6144, 8192)},
}
_LEGACY_SCHEMES: Final = {
    "ecdsa_sha1": "ECDSA+SHA1",
    "ecdsa_sha224": "ECDSA+SHA224",
    "dsa_sha1": "DSA+SHA1",
    "dsa_sha224": "DSA+SHA224",
    "dsa_sha256": "DSA+SHA256",
    "dsa_sha384": "DSA+SHA384",
    "dsa_sha512": "DSA+SHA512",
}
_TLS13_SUITES: Final = (
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
)
_BY_OPENSSL_NAME: Final = {suite.openssl_name: suite for suite in CIPHER_SUITES if suite.openssl_name}
_S_CLIENT_GROUPS: Final = {
    "X25519": "x25519",
    "X448": "x448",
    "prime256v1": "secp256r1",
    "secp384r1": "secp384r1",
    "secp521r1": "secp521r1",
}


# --- what a real client negotiated ----------------------------------------------------------------------------------


@attrs.frozen
class Observed:
    """What a real client negotiated (None where its output does not say)."""

    connected: bool
    version: TLSVersion | None = None
    suite: str | None = None
    key_exchange: str | None = None
    """A group name, ``DH <bits>``, or None (RSA key exchange)."""
    hello_retry_request: bool | None = None
    key_type: KeyType | None = None
    alpn: str | None = None


def _key_type(pem: str) -> KeyType:
    key = x509.load_pem_x509_certificate(pem.encode()).public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return KeyType.RSA
    assert isinstance(key, ec.EllipticCurvePublicKey), key
    return KeyType.EC


def parse_s_client(output: str) -> Observed:
    cipher = re.search(r"^New, (\S+), Cipher is (\S+)$", output, re.MULTILINE)
    if cipher is None or cipher.group(2) == "(NONE)":
        return Observed(connected=False)
    if cipher.group(1) == "TLSv1.3":
        version = TLSVersion.TLS1_3
        suite = cipher.group(2)
    else:
        protocol = re.search(r"^\s+Protocol\s+: (\S+)$", output, re.MULTILINE)
        assert protocol is not None, output
        version = {name: version for version, name in _OPENSSL_VERSIONS.items()}[protocol.group(1)]
        suite = _BY_OPENSSL_NAME[cipher.group(2)].name
    temp = re.search(r"^Server Temp Key: (.+)$", output, re.MULTILINE)
    key_exchange = None
    if temp is not None:
        parts = [part.strip() for part in temp.group(1).split(",")]
        if parts[0] == "DH":
            key_exchange = f"DH {parts[1].split()[0]}"
        else:
            key_exchange = _S_CLIENT_GROUPS[parts[1] if parts[0] == "ECDH" else parts[0]]
    certificate = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", output, re.DOTALL)
    alpn = re.search(r"^ALPN protocol: (\S+)$", output, re.MULTILINE)
    server_hellos = len(
        re.findall(r"^<<< TLS 1\.\d, Handshake \[length [0-9a-f]+\], ServerHello$", output, re.MULTILINE)
    )
    return Observed(
        connected=True,
        version=version,
        suite=suite,
        key_exchange=key_exchange,
        hello_retry_request=server_hellos == 2 if version is TLSVersion.TLS1_3 else None,
        key_type=_key_type(certificate.group()) if certificate else None,
        alpn=alpn.group(1) if alpn else None,
    )


_GNUTLS_CIPHERS: Final = {
    "AES-128-GCM": ("AES_128_GCM", "SHA256"),
    "AES-256-GCM": ("AES_256_GCM", "SHA384"),
    "CHACHA20-POLY1305": ("CHACHA20_POLY1305", "SHA256"),
    "AES-128-CCM": ("AES_128_CCM", ""),
    "AES-256-CCM": ("AES_256_CCM", ""),
    "AES-128-CBC": ("AES_128_CBC", None),
    "AES-256-CBC": ("AES_256_CBC", None),
    "3DES-CBC": ("3DES_EDE_CBC", None),
    "CAMELLIA-128-GCM": ("CAMELLIA_128_GCM", "SHA256"),
    "CAMELLIA-256-GCM": ("CAMELLIA_256_GCM", "SHA384"),
    "CAMELLIA-128-CBC": ("CAMELLIA_128_CBC", None),
    "CAMELLIA-256-CBC": ("CAMELLIA_256_CBC", None),
}
_GNUTLS_MACS: Final = {"SHA1": "SHA", "SHA256": "SHA256", "SHA384": "SHA384"}


def parse_gnutls_cli(output: str) -> Observed:
    """``gnutls-cli -V``: the Description line names version, key exchange, signature, cipher (and MAC)."""
    description = re.search(r"^- Description: \((TLS1\.\d)-X\.509\)-(.+)$", output, re.MULTILINE)
    if description is None or "Handshake was completed" not in output:
        return Observed(connected=False)
    version = {"TLS1.0": TLSVersion.TLS1_0, "TLS1.1": TLSVersion.TLS1_1, "TLS1.2": TLSVersion.TLS1_2,
               "TLS1.3": TLSVersion.TLS1_3}[description.group(1)]  # fmt: skip
    parts = re.findall(r"\(([^)]*)\)", "(" + description.group(2).lstrip("("))
    exchange = parts[0]
    signature = parts[1] if len(parts) > 2 and exchange != "RSA" else None
    cipher, aead_hash = _GNUTLS_CIPHERS[parts[2] if signature is not None else parts[1]]
    if version is TLSVersion.TLS1_3:
        suite = f"TLS_{cipher}_{aead_hash}"
    else:
        mac = aead_hash if aead_hash is not None else _GNUTLS_MACS[parts[-1]]
        kx, _, _ = exchange.partition("-")
        auth = "" if kx == "RSA" else ("_ECDSA" if signature and signature.startswith("ECDSA") else "_RSA")
        suite = f"TLS_{kx}{auth}_WITH_{cipher}" + (f"_{mac}" if mac else "")
    assert cipher_suite_by_name(suite) is not None, (suite, description.group())
    key_exchange = None
    group = exchange.partition("-")[2]
    if group.startswith(("FFDHE", "CUSTOM")):
        key_exchange = f"DH {group.removeprefix('FFDHE').removeprefix('CUSTOM')}"
    elif group:
        key_exchange = group.lower()
    key_type = KeyType.EC if signature and signature.startswith("ECDSA") else KeyType.RSA
    alpn = re.search(r"^- Application protocol: (\S+)$", output, re.MULTILINE)
    return Observed(
        connected=True,
        version=version,
        suite=suite,
        key_exchange=key_exchange,
        key_type=key_type,
        alpn=alpn.group(1) if alpn else None,
    )


# --- simulated clients: real clients, and the hello each really sends ------------------------------------------------


@attrs.frozen
class Mimic:
    """A real client set up to send a given hello."""

    label: str
    command: Callable[[int], list[str]]
    """The command line that connects to 127.0.0.1 on this port."""
    versions: frozenset[TLSVersion]
    """The versions it accepts (a hello below TLS 1.3 does not say its lowest)."""
    parse: Callable[[str], Observed]


def openssl_cipher_names() -> frozenset[str]:
    """The suites this OpenSSL can offer at all (at security level 0)."""
    listed = subprocess.run([OPENSSL, "ciphers", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"], capture_output=True, text=True,
                            check=True, timeout=_CLIENT_TIMEOUT_S)  # fmt: skip
    return frozenset(listed.stdout.strip().split(":"))


def _openssl_mimic(profile: ClientProfile, known: frozenset[str]) -> Mimic | None:
    """``s_client`` offering what OpenSSL 3.0 can of ``profile``'s hello, in its order; None when nothing is left."""
    suites = [suite for code in profile.cipher_suites if (suite := cipher_suite_by_code(code)) is not None]
    tls13 = [suite.name for suite in suites if suite.name in _TLS13_SUITES]
    legacy = [suite.openssl_name for suite in suites if suite.openssl_name in known and suite.name not in _TLS13_SUITES]
    versions = set(profile.versions) & set(_OPENSSL_VERSIONS)
    if not tls13:
        versions.discard(TLSVersion.TLS1_3)
    if not legacy:
        versions -= {TLSVersion.TLS1_0, TLSVersion.TLS1_1, TLSVersion.TLS1_2}
    if not versions:
        return None
    groups = [_OPENSSL_GROUPS[group.name] for code in profile.groups
              if (group := named_group_by_code(code)) is not None and group.name in _OPENSSL_GROUPS]  # fmt: skip
    schemes = []
    for code in profile.signature_algorithms:
        scheme = signature_scheme_by_code(code)
        if scheme is None or "brainpool" in scheme.name or scheme.name.startswith(("gost", "rsa_pkcs1_md5", "mldsa")):
            continue
        schemes.append(_LEGACY_SCHEMES.get(scheme.name, scheme.name))
    schemes = list(dict.fromkeys(schemes))  # a hello may list one twice; s_client refuses that
    ordered = sorted(versions, key=list(TLSVersion).index)
    arguments = ["-min_protocol", _OPENSSL_VERSIONS[ordered[0]], "-max_protocol", _OPENSSL_VERSIONS[ordered[-1]]]
    arguments += ["-cipher", ":".join([*legacy, "@SECLEVEL=0"])]
    if tls13:
        arguments += ["-ciphersuites", ":".join(tls13)]
    if groups:
        arguments += ["-groups", ":".join(groups)]
    if schemes:
        arguments += ["-sigalgs", ":".join(schemes)]
    if profile.alpn:
        arguments += ["-alpn", ",".join(profile.alpn)]

    def command(port: int) -> list[str]:
        return [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-noservername", "-msg", *arguments]

    return Mimic(label=f"s_client as {profile.id}", command=command, versions=frozenset(ordered), parse=parse_s_client)


_GNUTLS_PRIORITIES: Final = {
    "gnutls default, TLS 1.2 and 1.3": ("NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", "tls1_2 tls1_3"),
    "gnutls TLS 1.0 to 1.2": ("NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0", "tls1_0 tls1_1 tls1_2"),
    "gnutls NIST curves and ffdhe2048": (
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-GROUP-ALL:+GROUP-SECP384R1:+GROUP-SECP256R1:+GROUP-FFDHE2048",
        "tls1_2 tls1_3",
    ),
    "gnutls DHE with RFC 7919 groups": (
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:+DHE-RSA:-ECDHE-RSA:-ECDHE-ECDSA:-GROUP-ALL:+GROUP-FFDHE3072:+GROUP-FFDHE2048",
        "tls1_2",
    ),
    "gnutls RSA signatures only": (
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA256:+SIGN-RSA-SHA256",
        "tls1_2 tls1_3",
    ),
    "gnutls TLS 1.3 ChaCha20 only": ("NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305", "tls1_3"),
}


def _gnutls_mimics() -> list[Mimic]:
    executable = shutil.which("gnutls-cli")
    if executable is None:
        return []
    mimics = []
    for label, (priority, versions) in _GNUTLS_PRIORITIES.items():

        def command(port: int, priority: str = priority) -> list[str]:
            return [executable, "--insecure", "-V", "-p", str(port), "127.0.0.1", "--priority", priority,
                    "--alpn", "h2", "--alpn", "http/1.1"]  # fmt: skip

        parsed = frozenset(TLSVersion(name) for name in versions.split())
        mimics.append(Mimic(label=label, command=command, versions=parsed, parse=parse_gnutls_cli))
    return mimics


def _read_client_hello(connection: socket.socket) -> bytes:
    """The ClientHello handshake message, across as many records as it takes."""
    message = b""
    buffer = b""
    while len(message) < 4 or len(message) < 4 + int.from_bytes(message[1:4], "big"):
        while len(buffer) < 5 or len(buffer) < 5 + int.from_bytes(buffer[3:5], "big"):
            chunk = connection.recv(65536)
            assert chunk, "the client closed before its hello was complete"
            buffer += chunk
        length = int.from_bytes(buffer[3:5], "big")
        assert buffer[0] == 0x16, buffer[:5].hex()
        message, buffer = message + buffer[5 : 5 + length], buffer[5 + length :]
    return message[4 : 4 + int.from_bytes(message[1:4], "big")]


def _accept(listener: socket.socket, process: subprocess.Popen[bytes]) -> socket.socket:
    """The client's connection; a client that exits first (a bad option) fails the test with what it said."""
    listener.settimeout(0.2)  # only how often to look whether the client is still there
    for _attempt in range(int(_CLIENT_TIMEOUT_S / 0.2)):
        try:
            return listener.accept()[0]
        except TimeoutError:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else b""
                raise AssertionError(f"{process.args} exited: {output.decode(errors='replace')}") from None
    raise AssertionError(f"{process.args} never connected")


def capture_hello(mimic: Mimic) -> bytes:
    """The ClientHello ``mimic`` really sends, read on a socket that then closes."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        process = subprocess.Popen(
            mimic.command(listener.getsockname()[1]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            with _accept(listener, process) as connection:
                connection.settimeout(_CLIENT_TIMEOUT_S)
                return _read_client_hello(connection)
        finally:
            process.kill()
            process.wait()
            if process.stdout:
                process.stdout.close()


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "big")


def _u16_list(data: bytes, length_bytes: int = 2) -> list[int]:
    length = int.from_bytes(data[:length_bytes], "big")
    return [_u16(data, length_bytes + index) for index in range(0, length, 2)]


def profile_from_hello(hello: bytes, mimic: Mimic) -> ClientProfile:
    """The ``ClientProfile`` of a captured ClientHello (RFC 8446 §4.1.2), with no limits of the client's own."""
    legacy_version = _WIRE_VERSIONS[_u16(hello, 0)]
    at = 2 + 32
    at += 1 + hello[at]
    suites = _u16_list(hello[at:])
    at += 2 + 2 * len(suites)
    at += 1 + hello[at]
    extensions: dict[int, bytes] = {}
    end = at + 2 + _u16(hello, at)
    at += 2
    while at < end:
        kind, length = _u16(hello, at), _u16(hello, at + 2)
        extensions[kind] = hello[at + 4 : at + 4 + length]
        at += 4 + length
    if 43 in extensions:
        blob = extensions[43]
        versions = frozenset(
            _WIRE_VERSIONS[_u16(blob, 1 + i)] for i in range(0, blob[0], 2) if _u16(blob, 1 + i) in _WIRE_VERSIONS
        )
    else:
        assert legacy_version is max(mimic.versions, key=list(TLSVersion).index), (legacy_version, mimic.label)
        versions = mimic.versions
    shares = []
    if 51 in extensions:
        blob, index = extensions[51], 2
        while index < 2 + _u16(blob, 0):
            shares.append(_u16(blob, index))
            index += 4 + _u16(blob, index + 2)
    alpn = []
    if 16 in extensions:
        blob, index = extensions[16], 2
        while index < 2 + _u16(blob, 0):
            alpn.append(blob[index + 1 : index + 1 + blob[index]].decode())
            index += 1 + blob[index]
    return ClientProfile(
        id=mimic.label,
        name=mimic.label,
        source="captured",
        versions=versions,
        cipher_suites=tuple(suites),
        groups=tuple(_u16_list(extensions[10])) if 10 in extensions else (),
        key_shares=tuple(shares),
        signature_algorithms=tuple(_u16_list(extensions[13])) if 13 in extensions else (),
        sends_sni=0 in extensions,
        alpn=tuple(alpn),
        min_dh_bits=None,
        max_dh_bits=None,
        min_rsa_bits=None,
        max_rsa_bits=None,
        min_ecdsa_bits=None,
        requires_sha2=False,
    )


@pytest.fixture(scope="module")
def clients() -> list[tuple[Mimic, ClientProfile]]:
    """Every simulated client with the profile of the hello it really sends (captured once)."""
    known = openssl_cipher_names()
    mimics = [mimic for profile in client_profiles() if (mimic := _openssl_mimic(profile, known)) is not None]
    mimics += _gnutls_mimics()
    return [(mimic, profile_from_hello(capture_hello(mimic), mimic)) for mimic in mimics]


# --- the comparison --------------------------------------------------------------------------------------------------


def _computed_key_exchange(handshake: SimulatedHandshake) -> str | None:
    if handshake.dh_bits is not None:
        return f"DH {handshake.dh_bits}"
    return handshake.group


def differences(computed: SimulatedHandshake, observed: Observed) -> list[str]:
    """How the computed handshake differs from the real one (empty: they agree)."""
    if computed.outcome is SimulationOutcome.FAILS:
        return [] if not observed.connected else [f"computed a failure ({computed.note}), but it connected: {observed}"]
    assert computed.outcome is SimulationOutcome.CONNECTS
    if not observed.connected:
        return [f"computed {computed}, but the handshake failed"]
    found = []
    pairs: list[tuple[str, Any, Any]] = [
        ("version", computed.version, observed.version),
        ("suite", computed.cipher_suite, observed.suite),
        ("alpn", computed.alpn, observed.alpn),
    ]
    if not (computed.note or "").startswith("group unknown"):
        pairs.append(("key exchange", _computed_key_exchange(computed), observed.key_exchange))
    if computed.hello_retry_request is not None and observed.hello_retry_request is not None:
        pairs.append(("HelloRetryRequest", computed.hello_retry_request, observed.hello_retry_request))
    if computed.certificate_key_type is not None:
        pairs.append(("certificate", computed.certificate_key_type, observed.key_type))
    for what, expected, got in pairs:
        if expected != got:
            found.append(f"{what}: computed {expected}, negotiated {got}")
    return found


async def _scan(server: RunningServer) -> ServerScanResult:
    checks = [check for check in DEFAULT_CHECKS if check.name in _NEEDED]
    return await scan_server(f"127.0.0.1:{server.port}", checks)


def _run(mimic: Mimic, port: int) -> Observed:
    completed = subprocess.run(
        mimic.command(port), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=_CLIENT_TIMEOUT_S
    )
    return mimic.parse(completed.stdout + completed.stderr)


async def _check_every_client(server: RunningServer, clients: Sequence[tuple[Mimic, ClientProfile]]) -> dict[str, int]:
    result = await _scan(server)
    mismatches: list[str] = []
    counts = {outcome.value: 0 for outcome in SimulationOutcome}
    for mimic, profile in clients:
        computed = simulate_client(profile, result)
        counts[computed.outcome.value] += 1
        observed = _run(mimic, server.port)
        if computed.outcome is SimulationOutcome.UNKNOWN:
            continue
        mismatches += [f"{mimic.label}: {difference}" for difference in differences(computed, observed)]
    assert mismatches == [], "\n".join(mismatches) + "\n" + server.output()
    return counts


# --- servers of every order type -------------------------------------------------------------------------------------

_LEGACY: Final = ["-min_protocol", "TLSv1"]


@pytest.fixture
def s_server(test_pki: TestPKI) -> Iterator[Callable[..., RunningServer]]:
    started: list[RunningServer] = []

    def start(arguments: Sequence[str], *, ecdsa: bool = False) -> RunningServer:
        cert, key = (test_pki.ecdsa_chain, test_pki.ecdsa_key) if ecdsa else (test_pki.rsa_chain, test_pki.rsa_key)
        server = start_openssl_s_server(arguments, cert, key)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


async def test_openssl_following_the_clients_order(
    s_server: Callable[..., RunningServer], clients: list[tuple[Mimic, ClientProfile]]
) -> None:
    server = s_server([*_LEGACY, "-cipher", "ECDHE:DHE:AES128-SHA:AES256-SHA:@SECLEVEL=0",
                       "-groups", "X25519:P-256:P-384:ffdhe2048", "-alpn", "h2,http/1.1"])  # fmt: skip
    counts = await _check_every_client(server, clients)
    assert counts["connects"] >= len(clients) // 2 and counts["unknown"] <= len(clients) // 4, counts


async def test_openssl_with_its_own_order_and_two_certificates(
    s_server: Callable[..., RunningServer], clients: list[tuple[Mimic, ClientProfile]], test_pki: TestPKI
) -> None:
    ciphers = (
        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA:DHE-RSA-AES128-SHA:AES128-SHA"
    )
    server = s_server([*_LEGACY, "-serverpref", "-cipher", f"{ciphers}:@SECLEVEL=0",
                       "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256",
                       "-groups", "P-384:X25519:P-256", "-alpn", "http/1.1,h2",
                       "-dcert", str(test_pki.ecdsa_chain), "-dkey", str(test_pki.ecdsa_key)])  # fmt: skip
    counts = await _check_every_client(server, clients)
    assert counts["connects"] >= len(clients) // 2, counts


async def test_openssl_tls12_only_with_dhe(
    s_server: Callable[..., RunningServer], clients: list[tuple[Mimic, ClientProfile]]
) -> None:
    server = s_server([*_LEGACY, "-max_protocol", "TLSv1.2", "-serverpref",
                       "-cipher", "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-SHA:AES256-SHA:@SECLEVEL=0"])  # fmt: skip
    counts = await _check_every_client(server, clients)
    assert counts["connects"] >= len(clients) // 2 and counts["unknown"] == 0, counts


async def test_openssl_tls13_only_with_hello_retry_requests(
    s_server: Callable[..., RunningServer], clients: list[tuple[Mimic, ClientProfile]]
) -> None:
    # The server prefers X448, which no client sends a key share for: it asks again for a group it accepts.
    server = s_server(["-min_protocol", "TLSv1.3", "-serverpref", "-groups", "X448:P-256:ffdhe3072",
                       "-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"],
                      ecdsa=True)  # fmt: skip
    counts = await _check_every_client(server, clients)
    assert counts["connects"] >= len(clients) // 3 and counts["fails"] >= 1, counts


@pytest.fixture
def gnutls_serv(test_pki: TestPKI) -> Iterator[Callable[[str], RunningServer]]:
    started: list[RunningServer] = []

    def start(priority: str) -> RunningServer:
        extra = ["--disable-client-cert", "--alpn", "http/1.1", "--alpn", "h2"]
        server = start_gnutls_serv(priority, test_pki.rsa_chain, test_pki.rsa_key, extra_args=extra)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


async def test_gnutls_with_server_precedence(
    gnutls_serv: Callable[[str], RunningServer], clients: list[tuple[Mimic, ClientProfile]]
) -> None:
    # With %SERVER_PRECEDENCE GnuTLS asks for its favourite group even when a key share for another would do.
    server = gnutls_serv("NORMAL:%SERVER_PRECEDENCE:-GROUP-ALL:+GROUP-SECP384R1:+GROUP-X25519:+GROUP-SECP256R1:"
                         "+GROUP-FFDHE3072:+DHE-RSA")  # fmt: skip
    counts = await _check_every_client(server, clients)
    assert counts["connects"] >= len(clients) // 2, counts


async def test_gnutls_following_the_clients_order_with_rfc7919_groups(
    gnutls_serv: Callable[[str], RunningServer], clients: list[tuple[Mimic, ClientProfile]]
) -> None:
    server = gnutls_serv("NORMAL:-VERS-TLS1.3:+DHE-RSA:-ECDHE-RSA:-ECDHE-ECDSA:-GROUP-ALL:+GROUP-FFDHE4096:"
                         "+GROUP-FFDHE3072:+GROUP-SECP256R1")  # fmt: skip
    counts = await _check_every_client(server, clients)
    assert counts["connects"] >= len(clients) // 3, counts
