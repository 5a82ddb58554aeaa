"""``tlsprobe monitor`` as the README runs it, twice, on SQLite and on a real PostgreSQL: between the two runs the
test changes real servers (a suite added, a certificate replaced by one expiring in 5 days, TLS 1.0 enabled, one
server stopped, one left alone); the second run reports exactly those changes, exits 1, posts them to a real
webhook receiver, and writes metrics that prometheus-client's parser reads back. Then ``diff`` and ``history``
read the same store."""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from prometheus_client.parser import text_string_to_metric_families

from tests.monitoring.receiver import Receiver, running
from tests.store.conftest import new_location
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = pytest.mark.slow

_BASE_CIPHERS = "ECDHE+AESGCM"
_WIDER_CIPHERS = "ECDHE+AESGCM:ECDHE+AES256+SHA"  # adds CBC suites: not AEAD, so worse
_LEGACY_CIPHERS = "ECDHE+AESGCM:ECDHE+AES+SHA:@SECLEVEL=0"  # the same string on both runs of the TLS 1.0 server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _leaf_expiring_in(days: int, pki: TestPKI, directory: Path) -> tuple[Path, Path]:
    """A server certificate from the test CA that expires in ``days`` days, and its key."""
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    chain, key_file = directory / "short.chain.pem", directory / "short.key"
    chain.write_bytes(certificate.public_bytes(serialization.Encoding.PEM) + pki.ca_cert.read_bytes())
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return chain, key_file


class _Fleet:
    """Five real servers on fixed ports, configured for the first night or the second."""

    def __init__(self, pki: TestPKI, directory: Path) -> None:
        self.pki = pki
        self.directory = directory
        self.ports = {name: _free_port() for name in ("suite", "certificate", "tls1_0", "stopped", "untouched")}
        self.running: list[LocalTLSServer] = []

    def target(self, name: str) -> str:
        return f"127.0.0.1:{self.ports[name]}"

    def _start(self, name: str, **options: Any) -> None:
        options.setdefault("certfile", self.pki.rsa_chain)
        options.setdefault("keyfile", self.pki.rsa_key)
        options.setdefault("minimum_version", ssl.TLSVersion.TLSv1_2)
        server = LocalTLSServer(port=self.ports[name], http_response=False, **options)
        self.running.append(server.start())

    def first_night(self) -> None:
        self._start("suite", ciphers=_BASE_CIPHERS)
        self._start("certificate", ciphers=_BASE_CIPHERS)
        self._start("tls1_0", ciphers=_LEGACY_CIPHERS)
        self._start("stopped", ciphers=_BASE_CIPHERS)
        self._start("untouched", ciphers=_BASE_CIPHERS)

    def second_night(self) -> None:
        self.stop()
        chain, key = _leaf_expiring_in(5, self.pki, self.directory)
        self._start("suite", ciphers=_WIDER_CIPHERS)
        self._start("certificate", ciphers=_BASE_CIPHERS, certfile=chain, keyfile=key)
        self._start("tls1_0", ciphers=_LEGACY_CIPHERS, minimum_version=ssl.TLSVersion.TLSv1)
        self._start("untouched", ciphers=_BASE_CIPHERS)

    def stop(self) -> None:
        for server in self.running:
            server.stop()
        self.running.clear()


@pytest.fixture
def fleet(test_pki: TestPKI, tmp_path: Path) -> Iterator[_Fleet]:
    servers = _Fleet(test_pki, tmp_path)
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql")])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_location(request, request.param, tmp_path)


def _tlsprobe(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlsprobe", *arguments], capture_output=True, text=True, timeout=300, check=False
    )


def _kinds(diff: dict[str, Any], target: str) -> set[tuple[str, str | None]]:
    """(kind, subject) of every change of ``target``."""
    for entry in diff["targets"]:
        if entry["target"] == target:
            return {(change["kind"], change["subject"]) for change in entry["changes"]}
    return set()


def test_two_nights_report_exactly_what_changed(fleet: _Fleet, store: str, test_pki: TestPKI, tmp_path: Path) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_text("".join(f"{fleet.target(name)}\n" for name in fleet.ports))
    metrics = tmp_path / "metrics" / "tlsprobe.prom"
    metrics.parent.mkdir()
    common = ["--targets-in", str(targets), "--store", store, "--ca-file", str(test_pki.ca_cert)]

    fleet.first_night()
    first = _tlsprobe("monitor", *common)
    assert first.returncode == 0, first.stderr
    assert "First scan of this list recorded" in first.stdout

    fleet.second_night()
    with running(Receiver()) as receiver:
        second = _tlsprobe(
            "monitor", *common, "--diff-json", "--webhook", receiver.url(), "--metrics-out", str(metrics)
        )
    assert second.returncode == 1, second.stderr
    diff = json.loads(second.stdout)
    assert diff["worse"]
    assert set(diff["targets_worse"]) == {fleet.target(n) for n in ("suite", "certificate", "tls1_0", "stopped")}

    suite = _kinds(diff, fleet.target("suite"))
    assert ("cipher_suite_added", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA") in suite
    assert not {kind for kind, _ in suite} & {"version_enabled", "certificate_replaced", "unreachable"}

    certificate = {kind for kind, _ in _kinds(diff, fleet.target("certificate"))}
    assert {"certificate_replaced", "certificate_expiring"} <= certificate
    assert not certificate & {"cipher_suite_added", "cipher_suite_removed", "version_enabled", "unreachable"}

    legacy = _kinds(diff, fleet.target("tls1_0"))
    assert ("version_enabled", "tls1_0") in legacy
    assert "certificate_replaced" not in {kind for kind, _ in legacy}

    assert {kind for kind, _ in _kinds(diff, fleet.target("stopped"))} == {"unreachable"}
    assert _kinds(diff, fleet.target("untouched")) == set()

    # The webhook got the same changes, once.
    assert len(receiver.received) == 1
    posted = json.loads(receiver.received[0].body)
    assert posted["event"] == "tlsprobe.monitor.worse"
    assert posted["changes"]["targets_worse"] == diff["targets_worse"]

    # The metrics file reads back with the second night's facts.
    samples = {
        (sample.name, sample.labels.get("target"), sample.labels.get("severity")): sample.value
        for family in text_string_to_metric_families(metrics.read_text())
        for sample in family.samples
    }
    assert samples[("tlsprobe_reachable", fleet.target("stopped"), None)] == 0
    assert samples[("tlsprobe_reachable", fleet.target("untouched"), None)] == 1
    expiry = samples[("tlsprobe_certificate_expiry_timestamp_seconds", fleet.target("certificate"), None)]
    days_left = (expiry - datetime.datetime.now(datetime.UTC).timestamp()) / 86400
    assert 3 < days_left <= 5

    # diff and history read the same store.
    again = _tlsprobe("diff", "previous", "latest", "--store", store, "--json")
    assert again.returncode == 1, again.stderr
    assert json.loads(again.stdout)["targets_worse"] == diff["targets_worse"]
    history = _tlsprobe("history", fleet.target("tls1_0"), "--store", store, "--json")
    assert history.returncode == 0, history.stderr
    scans = json.loads(history.stdout)["scans"]
    assert [scan["versions"] for scan in scans] == [["tls1_0", "tls1_1", "tls1_2", "tls1_3"], ["tls1_2", "tls1_3"]]


def test_a_third_night_without_change_exits_0_and_posts_nothing(
    fleet: _Fleet, tmp_path: Path, test_pki: TestPKI
) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_text(f"{fleet.target('untouched')}\n")
    store = str(tmp_path / "history.sqlite")
    fleet.first_night()
    with running(Receiver()) as receiver:
        for _ in range(2):
            run = _tlsprobe(
                "monitor", "--targets-in", str(targets), "--store", store, "--ca-file", str(test_pki.ca_cert),
                "--webhook", receiver.url(), "--quiet",
            )  # fmt: skip
            assert run.returncode == 0, run.stderr
            assert run.stdout == ""  # --quiet: silence unless something got worse (cron mails the output)
    assert receiver.received == []
