"""STARTTLS against real daemons on loopback: postfix, dovecot (IMAP, POP3), vsftpd, prosody (both XMPP modes),
slapd, PostgreSQL and xrdp. Each is scanned through its upgrade, native probes and nassl handshakes alike, and the
results are checked against what the daemon really serves; refusals quote the daemon."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.servers.daemons import (
    Daemon,
    dovecot_daemon,
    postfix_daemon,
    postgres_daemon,
    prosody_daemon,
    slapd_daemon,
    start_slapd,
    start_vsftpd,
    vsftpd_daemon,
    xrdp_daemon,
)
from tlsprobe import (
    CheckCompleted,
    ConnectivityCompleted,
    ConnectivityFailed,
    ErrorKind,
    ScanConfig,
    ServerScanResult,
    ServerTarget,
    TLSVersion,
    scan_server,
)
from tlsprobe._cli import main
from tlsprobe._model._config import StartTLS
from tlsprobe.checks import (
    CertificateCheck,
    CertificateResult,
    Check,
    CipherSuitesCheck,
    ClientRenegotiationCheck,
    ClientRenegotiationResult,
)
from tlsprobe.testing import TestPKI

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]

__all__ = [  # the daemons' fixtures, used by name below
    "dovecot_daemon",
    "postfix_daemon",
    "postgres_daemon",
    "prosody_daemon",
    "slapd_daemon",
    "vsftpd_daemon",
    "xrdp_daemon",
]

# Small: what every daemon shows about its versions, suites and certificate, plus one nassl handshake of a check
# (the connectivity phase makes others) so that both connection paths go through the upgrade.
_CHECKS: list[Check[Any]] = [
    CipherSuitesCheck(version=TLSVersion.TLS1_2),
    CipherSuitesCheck(version=TLSVersion.TLS1_3),
    CertificateCheck(),
    ClientRenegotiationCheck(),
]
_TLS13_SUITES = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}


def _completed(result: ServerScanResult, name: str) -> Any:
    outcome = result.outcome(name)
    assert isinstance(outcome, CheckCompleted), outcome
    return outcome.result


def _accepted(result: ServerScanResult, version: TLSVersion) -> set[str]:
    suites = _completed(result, f"{version.value}_cipher_suites").accepted_cipher_suites
    return {entry.cipher_suite.name for entry in suites}


def _assert_scanned_through(result: ServerScanResult, protocol: StartTLS, daemon: Daemon) -> None:
    """Connectivity, TLS 1.2 and 1.3 suites, the test PKI's certificate and a nassl handshake, all through
    ``protocol``."""
    assert isinstance(result.connectivity, ConnectivityCompleted), (result.connectivity, daemon.output())
    profile = result.connectivity.profile
    assert profile.starttls is protocol
    assert profile.highest_version is TLSVersion.TLS1_3
    assert _accepted(result, TLSVersion.TLS1_3) >= {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"}
    assert _accepted(result, TLSVersion.TLS1_3) <= _TLS13_SUITES | {"TLS_AES_128_CCM_SHA256"}
    assert "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" in _accepted(result, TLSVersion.TLS1_2)
    certificate: CertificateResult = _completed(result, "certificate")
    (deployment,) = certificate.deployments
    assert deployment.leaf.subject == "CN=localhost,O=tlsprobe test PKI"
    assert deployment.hostname.matched  # 127.0.0.1 and localhost are both in the test certificate
    renegotiation: ClientRenegotiationResult = _completed(result, "client_renegotiation")
    assert renegotiation is not None
    cost = result.outcome("client_renegotiation")
    assert isinstance(cost, CheckCompleted) and cost.cost.connections >= 1


async def test_smtp_with_postfix(postfix_daemon: Daemon) -> None:
    result = await scan_server(f"smtp://127.0.0.1:{postfix_daemon.ports['smtp']}", _CHECKS)
    _assert_scanned_through(result, StartTLS.SMTP, postfix_daemon)


async def test_smtp_ehlo_name_is_configurable_and_a_refusal_is_quoted(postfix_daemon: Daemon) -> None:
    # This postfix refuses EHLO names that are not fully qualified, at once.
    target = f"smtp://127.0.0.1:{postfix_daemon.ports['smtp']}"
    refused = await scan_server(target, [], config=ScanConfig(smtp_ehlo_name="scanner"))
    assert isinstance(refused.connectivity, ConnectivityFailed)
    assert refused.connectivity.error.kind is ErrorKind.CONNECTION_REJECTED
    assert refused.connectivity.error.message == (
        "SMTP: the server refused EHLO scanner: "
        "'504 5.5.2 <scanner>: Helo command rejected: need fully-qualified hostname'"
    )
    accepted = await scan_server(target, [], config=ScanConfig(smtp_ehlo_name="scanner.example.net"))
    assert isinstance(accepted.connectivity, ConnectivityCompleted)


async def test_imap_and_pop3_with_dovecot(dovecot_daemon: Daemon) -> None:
    imap = await scan_server(f"imap://127.0.0.1:{dovecot_daemon.ports['imap']}", _CHECKS)
    _assert_scanned_through(imap, StartTLS.IMAP, dovecot_daemon)
    pop3 = await scan_server(f"pop3://127.0.0.1:{dovecot_daemon.ports['pop3']}", _CHECKS)
    _assert_scanned_through(pop3, StartTLS.POP3, dovecot_daemon)


async def test_full_default_scan_through_imap(dovecot_daemon: Daemon) -> None:
    result = await scan_server(f"imap://localhost:{dovecot_daemon.ports['imap']}")
    assert isinstance(result.connectivity, ConnectivityCompleted)
    failed = {outcome.name: outcome.error.message for outcome in result.checks if outcome.status == "failed"}
    # Every check went through STARTTLS; only the HTTP check meets an IMAP server where it expects HTTP.
    assert set(failed) <= {"http_headers"}, failed
    assert _accepted(result, TLSVersion.TLS1_3) >= {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"}
    assert not _accepted(result, TLSVersion.SSL3) and not _accepted(result, TLSVersion.TLS1_0)
    certificate: CertificateResult = _completed(result, "certificate")
    assert certificate.hostname == "localhost"
    assert all(deployment.hostname.matched for deployment in certificate.deployments)
    assert _completed(result, "heartbleed").vulnerable is False
    resumption = _completed(result, "session_resumption")
    assert resumption is not None


async def test_ftp_with_vsftpd(vsftpd_daemon: Daemon) -> None:
    result = await scan_server(f"ftp://127.0.0.1:{vsftpd_daemon.ports['ftp']}", _CHECKS)
    _assert_scanned_through(result, StartTLS.FTP, vsftpd_daemon)


async def test_xmpp_both_modes_with_prosody(prosody_daemon: Daemon) -> None:
    client = await scan_server(f"xmpp://localhost:{prosody_daemon.ports['c2s']}", _CHECKS)
    _assert_scanned_through(client, StartTLS.XMPP, prosody_daemon)
    server = await scan_server(f"xmpp_server://localhost:{prosody_daemon.ports['s2s']}", _CHECKS)
    _assert_scanned_through(server, StartTLS.XMPP_SERVER, prosody_daemon)


async def test_xmpp_to_names_the_domain_when_the_target_is_an_address(prosody_daemon: Daemon) -> None:
    target = f"xmpp://127.0.0.1:{prosody_daemon.ports['c2s']}"
    unknown = await scan_server(target, [])
    assert isinstance(unknown.connectivity, ConnectivityFailed)
    assert unknown.connectivity.error.message == (
        "XMPP: the server closed the stream with an error: "
        "'<error> host-unknown, text: This server does not serve 127.0.0.1'"
    )
    named = await scan_server(target, [], config=ScanConfig(xmpp_to="localhost"))
    assert isinstance(named.connectivity, ConnectivityCompleted)


async def test_ldap_with_slapd(slapd_daemon: Daemon) -> None:
    result = await scan_server(f"ldap://127.0.0.1:{slapd_daemon.ports['ldap']}", _CHECKS)
    _assert_scanned_through(result, StartTLS.LDAP, slapd_daemon)
    # GnuTLS inside: CCM suites that OpenSSL servers leave out by default.
    assert "TLS_AES_128_CCM_SHA256" in _accepted(result, TLSVersion.TLS1_3)


async def test_postgres(postgres_daemon: Daemon) -> None:
    result = await scan_server(f"postgres://127.0.0.1:{postgres_daemon.ports['postgres']}", _CHECKS)
    _assert_scanned_through(result, StartTLS.POSTGRES, postgres_daemon)


async def test_rdp_with_xrdp(xrdp_daemon: Daemon) -> None:
    result = await scan_server(f"rdp://127.0.0.1:{xrdp_daemon.ports['rdp']}", _CHECKS)
    _assert_scanned_through(result, StartTLS.RDP, xrdp_daemon)


async def test_the_scan_default_applies_to_targets_that_do_not_say(dovecot_daemon: Daemon) -> None:
    config = ScanConfig(starttls=StartTLS.POP3)
    by_default = await scan_server(f"127.0.0.1:{dovecot_daemon.ports['pop3']}", [], config=config)
    assert isinstance(by_default.connectivity, ConnectivityCompleted)
    assert by_default.connectivity.profile.starttls is StartTLS.POP3
    # The target's own protocol wins: POP3 spoken to the IMAP port is refused, quoting dovecot's IMAP greeting.
    wrong = await scan_server(f"pop3://127.0.0.1:{dovecot_daemon.ports['imap']}", [], config=config)
    assert isinstance(wrong.connectivity, ConnectivityFailed)
    assert wrong.connectivity.error.message.startswith("POP3: the server's reply is not a POP3 reply: '* OK [")


async def test_auto_picks_the_protocol_from_the_port(dovecot_daemon: Daemon) -> None:
    if "imap_standard" not in dovecot_daemon.ports:
        pytest.skip("ports 143 and 110 were taken on this machine when dovecot started")
    config = ScanConfig(starttls=StartTLS.AUTO)
    for port, protocol in ((143, StartTLS.IMAP), (110, StartTLS.POP3)):
        result = await scan_server(ServerTarget(host="127.0.0.1", port=port), [], config=config)
        assert isinstance(result.connectivity, ConnectivityCompleted), result.connectivity
        assert result.connectivity.profile.starttls is protocol


async def test_refusals_quote_the_daemon(test_pki: TestPKI) -> None:
    ftp = start_vsftpd(test_pki, tls=False)
    ldap = start_slapd(test_pki, tls=False)
    try:
        ftp_result = await scan_server(f"ftp://127.0.0.1:{ftp.port}", [])
        ldap_result = await scan_server(f"ldap://127.0.0.1:{ldap.port}", [])
    finally:
        ftp.stop()
        ldap.stop()
    assert isinstance(ftp_result.connectivity, ConnectivityFailed)
    assert ftp_result.connectivity.error.message == (
        "FTP: the server refused AUTH TLS: '530 Please login with USER and PASS.'"
    )
    assert isinstance(ldap_result.connectivity, ConnectivityFailed)
    assert ldap_result.connectivity.error.message.startswith("LDAP: the server refused StartTLS: ")


def test_the_command_line_scans_through_starttls(dovecot_daemon: Daemon, capsys: pytest.CaptureFixture[str]) -> None:
    port = dovecot_daemon.ports["pop3"]
    code = main(["--starttls=pop3", "--tls1_3_cipher_suites", "--jsonl", f"127.0.0.1:{port}"])
    (line,) = capsys.readouterr().out.splitlines()
    result = json.loads(line)
    assert code == 0, result
    assert result["connectivity"]["profile"]["starttls"] == "pop3"
    assert result["checks"][0]["status"] == "completed"
