"""How tlsprobe reaches a server: the SNI sent, pacing, every address of a name, an HTTP CONNECT proxy (tinyproxy)
and client certificates, each on real servers on loopback; and the command-line flags that set them."""

from __future__ import annotations

import itertools
import json
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.servers.daemons import Daemon, start_tinyproxy, tinyproxy_daemon
from tests.servers.processes import REPO_ROOT, start_nassl_server
from tlsprobe import (
    CheckCompleted,
    CheckFailed,
    ClientAuthRequirement,
    ConfigurationError,
    ConnectivityCompleted,
    ConnectivityFailed,
    ErrorKind,
    Limits,
    ScanConfig,
    Scanner,
    ServerScanResult,
    ServerTarget,
    TLSVersion,
    scan_server,
)
from tlsprobe._cli import main
from tlsprobe._cli._options import build_parser, scan_config, target_options
from tlsprobe._model._config import ClientCredentials, HttpProxy, StartTLS
from tlsprobe._net._identity import load_client_identity
from tlsprobe.checks import Check, CipherSuitesCheck, ClientRenegotiationCheck
from tlsprobe.testing import CountingProxy, LocalTLSServer, TestPKI, generate_test_pki

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]

__all__ = ["tinyproxy_daemon"]  # a fixture, used by name below

# One native probe check and one nassl check: both connection paths.
_CHECKS: list[Check[Any]] = [CipherSuitesCheck(version=TLSVersion.TLS1_2), ClientRenegotiationCheck()]


def _profile(result: ServerScanResult) -> Any:
    assert isinstance(result.connectivity, ConnectivityCompleted), result.connectivity
    return result.connectivity.profile


def _all_completed(result: ServerScanResult) -> None:
    failed = [outcome for outcome in result.checks if not isinstance(outcome, CheckCompleted)]
    assert not failed, failed


@attrs.define
class RecordingServer:
    """A TLS server that writes down the SNI name (or None) of every ClientHello, and when it came."""

    server: LocalTLSServer
    names: list[str | None] = attrs.field(factory=list)
    times: list[float] = attrs.field(factory=list)

    @property
    def port(self) -> int:
        return self.server.port


@pytest.fixture
def recording_server(test_pki: TestPKI) -> Iterator[RecordingServer]:
    server = LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, http_response=False)
    recording = RecordingServer(server=server)

    def record(_connection: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        recording.names.append(name)
        recording.times.append(time.monotonic())

    server.context.sni_callback = record
    with server:
        yield recording


@pytest.mark.parametrize(
    ("target", "sent"),
    [
        (ServerTarget(host="localhost"), "localhost"),
        (ServerTarget(host="localhost", sni="other.test"), "other.test"),
        (ServerTarget(host="localhost", send_sni=False), None),
        (ServerTarget(host="127.0.0.1"), None),
        (ServerTarget(host="127.0.0.1", sni="other.test"), "other.test"),
    ],
    ids=["name", "override", "none", "ip-default", "ip-override"],
)
async def test_the_sni_sent_by_every_connection(
    recording_server: RecordingServer, target: ServerTarget, sent: str | None
) -> None:
    result = await scan_server(attrs.evolve(target, port=recording_server.port), _CHECKS)
    _all_completed(result)
    assert _profile(result).server_name == sent
    assert len(recording_server.names) == result.connections
    assert set(recording_server.names) == {sent}


async def test_connections_to_a_server_are_spaced_by_the_delay(recording_server: RecordingServer) -> None:
    interval = 0.15
    config = ScanConfig(limits=Limits(min_connection_interval_s=interval))
    result = await scan_server(f"127.0.0.1:{recording_server.port}", _CHECKS, config=config)
    _all_completed(result)
    times = recording_server.times
    assert len(times) == result.connections >= 3
    # Each hello reaches the server as soon as its connection opens; allow for the server's own scheduling.
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) > interval * 0.6, gaps


def _hosts_namespace_available() -> str | None:
    if shutil.which("unshare") is None:
        return "unshare is not available"
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True, check=False)
    return None if probe.returncode == 0 else f"cannot create a mount namespace: {probe.stderr.strip()}"


def test_all_ips_scans_every_address_of_a_name(test_pki: TestPKI, tmp_path: Path) -> None:
    reason = _hosts_namespace_available()
    if reason:
        pytest.skip(reason)
    # A name with an IPv6 and an IPv4 address, in a hosts file of a private mount namespace, and a server on each
    # address at the same port.
    hosts = tmp_path / "hosts"
    hosts.write_text("::1 dual.tlsprobe.test\n127.0.0.1 dual.tlsprobe.test\n")
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, host="::1") as ipv6:
        ipv4 = LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, port=ipv6.port)
        with ipv4:
            command = [sys.executable, "-m", "tlsprobe", "--all-ips", "--tls1_3_cipher_suites", "--jsonl"]
            command.append(f"dual.tlsprobe.test:{ipv6.port}")
            script = f"mount --bind {hosts} /etc/hosts && exec {' '.join(command)}"
            completed = subprocess.run(
                ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT
            )
    assert completed.returncode in (0, 1), completed.stderr
    results = [json.loads(line) for line in completed.stdout.splitlines()]
    assert sorted(result["target"]["ip"] for result in results) == ["127.0.0.1", "::1"]
    for result in results:
        assert result["target"]["host"] == "dual.tlsprobe.test"
        profile = result["connectivity"]["profile"]
        assert profile["ip_address"] == result["target"]["ip"]
        assert profile["server_name"] == "dual.tlsprobe.test"
        assert profile["highest_version"] == "tls1_3"
        (outcome,) = result["checks"]
        assert outcome["status"] == "completed"
        assert "TLS_AES_256_GCM_SHA384" in {
            entry["cipher_suite"]["name"] for entry in outcome["result"]["accepted_cipher_suites"]
        }
    # Each address was scanned on its own: each server saw exactly the connections of its own result.
    connections = {
        result["target"]["ip"]: result["connectivity"]["cost"]["connections"]
        + sum(outcome["cost"]["connections"] for outcome in result["checks"])
        for result in results
    }
    assert connections == {"127.0.0.1": ipv4.accepted_connections, "::1": ipv6.accepted_connections}


async def test_all_ips_keeps_a_pinned_address_and_reports_a_name_that_does_not_resolve() -> None:
    scanner = Scanner(ScanConfig(all_ips=True, limits=Limits(max_retries=0)))
    targets = ["localhost:1{127.0.0.1}", "no-such-host.invalid:443"]
    async with scanner.scan(targets, []) as results:
        received = {str(result.target): result async for result in results}
    assert set(received) == {"localhost:1{127.0.0.1}", "no-such-host.invalid:443"}
    pinned, unknown = received["localhost:1{127.0.0.1}"], received["no-such-host.invalid:443"]
    assert isinstance(pinned.connectivity, ConnectivityFailed)
    assert pinned.connectivity.error.kind is ErrorKind.CONNECTION_REJECTED
    assert isinstance(unknown.connectivity, ConnectivityFailed)
    assert unknown.connectivity.error.kind is ErrorKind.DNS


async def test_through_an_http_connect_proxy_the_limit_is_the_target_servers(
    tinyproxy_daemon: Daemon, test_pki: TestPKI
) -> None:
    proxy = HttpProxy(host="127.0.0.1", port=tinyproxy_daemon.port)
    config = ScanConfig(https_tunnel=proxy, limits=Limits(max_connections_per_server=2))
    with (
        LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as server,
        CountingProxy("127.0.0.1", server.port) as first,
        CountingProxy("127.0.0.1", server.port) as second,
    ):
        scanner = Scanner(config)
        checks = [*_CHECKS, CipherSuitesCheck(version=TLSVersion.TLS1_3)]
        async with scanner.scan([f"localhost:{first.port}", f"localhost:{second.port}"], checks) as results:
            received = [result async for result in results]
    assert len(received) == 2
    by_port = {result.target.port: result for result in received}
    for counted in (first, second):
        result = by_port[counted.port]
        _all_completed(result)
        profile = _profile(result)
        assert profile.via_proxy == f"http://127.0.0.1:{tinyproxy_daemon.port}"
        assert profile.ip_address == "localhost"  # the proxy resolved the name
        assert profile.server_name == "localhost"
        # Each server saw exactly the connections its result says it paid for, and never many more open than
        # the limit: tlsprobe holds at most 2 tunnels to it, but the proxy closes its upstream side after ours, so
        # for a moment the server may still hold the previous connection (seen once in a fresh-clone CI run).
        assert counted.max_concurrent_connections <= 2 + 1
        assert counted.total_connections == result.connections


async def test_proxy_errors_say_what_went_wrong(test_pki: TestPKI, tinyproxy_daemon: Daemon) -> None:
    closed_port = _closed_port()
    authenticated = start_tinyproxy(test_pki, credentials=("alice", "s3cret"))
    try:
        with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as server:
            target = f"127.0.0.1:{server.port}"
            scans = {
                "no credentials": f"http://127.0.0.1:{authenticated.port}",
                "wrong credentials": f"http://alice:wrong@127.0.0.1:{authenticated.port}",
                "right credentials": f"http://alice:s3cret@127.0.0.1:{authenticated.port}",
                "unreachable": f"http://127.0.0.1:{closed_port}",
            }
            results = {
                name: await scan_server(target, [], config=ScanConfig(https_tunnel=HttpProxy.parse(url)))
                for name, url in scans.items()
            }
            open_proxy = ScanConfig(https_tunnel=HttpProxy(host="127.0.0.1", port=tinyproxy_daemon.port))
            results["refused"] = await scan_server(f"127.0.0.1:{closed_port}", [], config=open_proxy)
    finally:
        authenticated.stop()
    assert _profile(results.pop("right credentials")).via_proxy == f"http://alice@127.0.0.1:{authenticated.port}"
    messages = {}
    for name, result in results.items():
        assert isinstance(result.connectivity, ConnectivityFailed), name
        messages[name] = result.connectivity.error.message
    proxy = f"HTTP proxy 127.0.0.1:{authenticated.port}"
    assert messages["no credentials"] == (
        f"{proxy} requires credentials (http://user:password@host:port): 'HTTP/1.0 407 Proxy Authentication Required'"
    )
    assert messages["wrong credentials"] == (
        f"{proxy} rejected the credentials given (http://user:password@host:port): 'HTTP/1.0 401 Unauthorized'"
    )
    assert messages["unreachable"] == f"HTTP proxy 127.0.0.1:{closed_port} unreachable: Connection refused"
    assert messages["refused"] == (
        f"HTTP proxy 127.0.0.1:{tinyproxy_daemon.port} refused the tunnel to 127.0.0.1:{closed_port}: "
        "'HTTP/1.1 500 Unable to connect'"
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- client certificates ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client_files(test_pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ClientCredentials]:
    """The test PKI's client certificate in every form tlsprobe reads, and one from a CA the servers ignore."""
    directory = tmp_path_factory.mktemp("client")
    certificate = x509.load_pem_x509_certificate(test_pki.client_cert.read_bytes())
    key = serialization.load_pem_private_key(test_pki.client_key.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    (directory / "client.der").write_bytes(certificate.public_bytes(serialization.Encoding.DER))
    (directory / "client.key.der").write_bytes(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"der-secret"),
        )
    )
    (directory / "combined.pem").write_bytes(test_pki.client_chain.read_bytes() + test_pki.client_key.read_bytes())
    (directory / "client.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"client", key, certificate, None, serialization.BestAvailableEncryption(b"p12-secret")
        )
    )
    stranger = generate_test_pki(directory / "other-pki")
    return {
        "pem": ClientCredentials(certificate=test_pki.client_chain, key=test_pki.client_key),
        "der, encrypted key": ClientCredentials(
            certificate=directory / "client.der", key=directory / "client.key.der", password="der-secret"
        ),
        "pem with the key inside": ClientCredentials(certificate=directory / "combined.pem"),
        "pkcs12": ClientCredentials(certificate=directory / "client.p12", password="p12-secret"),
        "untrusted": ClientCredentials(certificate=stranger.client_chain, key=stranger.client_key),
    }


@pytest.fixture(scope="module")
def requiring_server(test_pki: TestPKI) -> Iterator[LocalTLSServer]:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, client_auth="required", ca_file=test_pki.ca_cert
    ) as server:
        yield server


async def test_a_required_certificate_without_one_is_reported_precisely(requiring_server: LocalTLSServer) -> None:
    result = await scan_server(f"127.0.0.1:{requiring_server.port}", _CHECKS)
    profile = _profile(result)
    assert profile.client_auth is ClientAuthRequirement.REQUIRED
    assert profile.client_certificate is None and profile.client_certificate_accepted is None
    # Native probes need no handshake to the end; the nassl check does, and says why it cannot.
    assert isinstance(result.outcome("tls1_2_cipher_suites"), CheckCompleted)
    renegotiation = result.outcome("client_renegotiation")
    assert isinstance(renegotiation, CheckFailed)
    assert renegotiation.error.kind is ErrorKind.CLIENT_CERTIFICATE_REQUIRED
    assert renegotiation.error.message.startswith(
        "the server requires a client certificate and none was given (--cert and --key)"
    )


@pytest.mark.parametrize("form", ["pem", "der, encrypted key", "pem with the key inside", "pkcs12"])
async def test_every_form_of_client_certificate_is_presented(
    requiring_server: LocalTLSServer, client_files: dict[str, ClientCredentials], form: str
) -> None:
    config = ScanConfig(client_credentials=client_files[form])
    result = await scan_server(f"127.0.0.1:{requiring_server.port}", _CHECKS, config=config)
    _all_completed(result)
    profile = _profile(result)
    assert profile.client_auth is ClientAuthRequirement.REQUIRED
    assert profile.client_certificate == "CN=tlsprobe test client,O=tlsprobe test PKI"
    assert profile.client_certificate_accepted is True


async def test_a_certificate_the_server_does_not_trust_is_reported(
    requiring_server: LocalTLSServer, client_files: dict[str, ClientCredentials]
) -> None:
    config = ScanConfig(client_credentials=client_files["untrusted"])
    result = await scan_server(f"127.0.0.1:{requiring_server.port}", [], config=config)
    assert _profile(result).client_certificate_accepted is False


async def test_legacy_openssl_takes_the_certificate_too(
    test_pki: TestPKI, client_files: dict[str, ClientCredentials]
) -> None:
    # nassl's OpenSSL 1.0.2 client (renegotiation) loads the key re-encrypted by tlsprobe; the server is
    # OpenSSL 1.0.2 as well, requiring a certificate.
    server = start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, verify="required", ca=test_pki.ca_cert)
    try:
        without = await scan_server(f"127.0.0.1:{server.port}", [ClientRenegotiationCheck()])
        config = ScanConfig(client_credentials=client_files["der, encrypted key"])
        with_certificate = await scan_server(f"127.0.0.1:{server.port}", [ClientRenegotiationCheck()], config=config)
    finally:
        server.stop()
    assert _profile(without).client_auth is ClientAuthRequirement.REQUIRED
    (failed,) = without.checks
    assert isinstance(failed, CheckFailed) and failed.error.kind is ErrorKind.CLIENT_CERTIFICATE_REQUIRED
    (completed,) = with_certificate.checks
    assert isinstance(completed, CheckCompleted), completed
    assert completed.result.accepts_client_renegotiation  # OpenSSL 1.0.2 servers do, by default


async def test_a_server_that_merely_requests_a_certificate(
    test_pki: TestPKI, client_files: dict[str, ClientCredentials]
) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, client_auth="optional", ca_file=test_pki.ca_cert
    ) as server:
        without = await scan_server(f"127.0.0.1:{server.port}", _CHECKS)
        config = ScanConfig(client_credentials=client_files["pem"])
        with_certificate = await scan_server(f"127.0.0.1:{server.port}", _CHECKS, config=config)
    for result in (without, with_certificate):
        _all_completed(result)
        assert _profile(result).client_auth is ClientAuthRequirement.OPTIONAL
    assert _profile(without).client_certificate_accepted is None
    assert _profile(with_certificate).client_certificate_accepted is True


def test_unusable_credentials_are_configuration_errors(
    test_pki: TestPKI, client_files: dict[str, ClientCredentials], tmp_path: Path
) -> None:
    cases = {
        "wrong password": attrs.evolve(client_files["pkcs12"], password="nope"),
        "no password": attrs.evolve(client_files["der, encrypted key"], password=None),
        "another key": ClientCredentials(certificate=test_pki.client_chain, key=test_pki.rsa_key),
        "no key": ClientCredentials(certificate=test_pki.client_chain),
        "no file": ClientCredentials(certificate=tmp_path / "missing.pem", key=test_pki.client_key),
    }
    messages = {}
    for name, credentials in cases.items():
        with pytest.raises(ConfigurationError) as raised:
            Scanner(ScanConfig(client_credentials=credentials))
        messages[name] = str(raised.value)
    assert "wrong or missing password" in messages["wrong password"]
    assert "--key-password" in messages["no password"]
    assert "does not belong to the certificate" in messages["another key"]
    assert "holds no private key" in messages["no key"]
    assert "cannot read the client certificate file" in messages["no file"]
    identity = load_client_identity(client_files["pem"])
    assert b"ENCRYPTED PRIVATE KEY" in identity.key_pem  # never written to disk in the clear
    assert "client" not in repr(identity.key_password)


# -- command line ----------------------------------------------------------------------------------------


def test_connection_flags_build_the_configuration(test_pki: TestPKI) -> None:
    options = build_parser().parse_args(
        [
            "--starttls=auto",
            "--xmpp-to=example.org",
            "--smtp-ehlo-name=scanner.example",
            "--all-ips",
            "--https-tunnel=http://bob:pw@127.0.0.1:3128",
            f"--cert={test_pki.client_chain}",
            f"--key={test_pki.client_key}",
            "--delay-ms=250",
            "--sni=other.test",
            "example.com",
        ]
    )
    config = scan_config(options)
    assert config.starttls is StartTLS.AUTO
    assert (config.xmpp_to, config.smtp_ehlo_name, config.all_ips) == ("example.org", "scanner.example", True)
    assert config.https_tunnel == HttpProxy(host="127.0.0.1", port=3128, username="bob", password="pw")
    assert config.client_credentials == ClientCredentials(certificate=test_pki.client_chain, key=test_pki.client_key)
    assert config.limits.min_connection_interval_s == 0.25
    adjust = target_options(options)
    assert adjust(ServerTarget.parse("example.com")).server_name == "other.test"
    no_sni = target_options(build_parser().parse_args(["--no-sni", "example.com"]))
    assert no_sni(ServerTarget.parse("example.com")).server_name is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--key=x.pem"], "--key needs --cert"),
        (["--https-tunnel=socks5://127.0.0.1:1080"], "invalid proxy URL"),
        (["--cert=/nonexistent/client.pem"], "cannot read the client certificate file"),
        (["--delay-ms=-5"], "min_connection_interval_s"),
        (["--sni=127.0.0.1"], "SNI carries host names only"),
    ],
)
def test_bad_connection_flags_are_usage_errors(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main([*arguments, "example.com"])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err
