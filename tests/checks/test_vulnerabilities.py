"""Heartbleed, CCS injection and ROBOT, each on a server that really has the flaw (tlslite-ng with the flaw added
on the wire, tests/servers/tlslite_flaws.py) and on servers that do not (the same server without the flag,
OpenSSL 1.0.2 from nassl, Python's ssl)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers.processes import RunningServer, start_nassl_server, start_tlslite_server
from tlsprobe import (
    CheckCompleted,
    ConnectivityCompleted,
    ScanConfig,
    ServerScanResult,
    Timeouts,
    TLSVersion,
    scan_server,
)
from tlsprobe.checks import (
    CCSInjectionCheck,
    CCSInjectionResult,
    Check,
    HeartbleedCheck,
    HeartbleedResult,
    PaddingVariant,
    RobotCheck,
    RobotResult,
    RobotVerdict,
)
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]

_CHECKS: list[Check[Any]] = [HeartbleedCheck(), CCSInjectionCheck(), RobotCheck()]


def _completed(result: ServerScanResult, name: str) -> Any:
    outcome = result.outcome(name)
    assert isinstance(outcome, CheckCompleted), outcome
    return outcome.result


def _connections(result: ServerScanResult, name: str) -> int:
    return result.outcome(name).cost.connections  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def clean_tlslite(test_pki: TestPKI) -> Iterator[RunningServer]:
    with start_tlslite_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, max_version="tls1.3") as server:
        yield server


@pytest.fixture(scope="module")
def flawed_tlslite(test_pki: TestPKI) -> Iterator[RunningServer]:
    """All three flaws, and TLS 1.3 too: the checks must still test below it."""
    with start_tlslite_server(
        cert=test_pki.rsa_chain,
        key=test_pki.rsa_key,
        max_version="tls1.3",
        extra_args=["--heartbleed", "--ccs-injection", "--robot", "strong"],
    ) as server:
        yield server


async def test_flawed_server_is_found_vulnerable_below_its_tls13(flawed_tlslite: RunningServer) -> None:
    result = await scan_server(f"127.0.0.1:{flawed_tlslite.port}", _CHECKS)
    assert isinstance(result.connectivity, ConnectivityCompleted)
    assert result.connectivity.profile.highest_version is TLSVersion.TLS1_3
    heartbleed = _completed(result, "heartbleed")
    assert isinstance(heartbleed, HeartbleedResult)
    assert heartbleed.vulnerable and heartbleed.tested_version is TLSVersion.TLS1_2
    assert heartbleed.leaked_bytes == 0x4000 - 16
    ccs = _completed(result, "openssl_ccs_injection")
    assert ccs == CCSInjectionResult(
        vulnerable=True, tested_version=TLSVersion.TLS1_2, server_reaction="alert bad_record_mac, fatal_alert"
    )
    robot = _completed(result, "robot")
    assert isinstance(robot, RobotResult)
    assert robot.verdict is RobotVerdict.strong_oracle
    assert robot.cipher_suite is not None and robot.cipher_suite.name.startswith("TLS_RSA_WITH_")
    reactions = {response.variant: response.reaction for response in robot.responses}
    assert reactions[PaddingVariant.wrong_first_bytes] == "alert handshake_failure, fatal_alert"
    assert reactions[PaddingVariant.separator_misplaced] == "alert decrypt_error, fatal_alert"
    assert all(response.confirmation == response.reaction for response in robot.responses)
    # One baseline hello shared by the three, one conversation each, and ROBOT's five variants twice.
    assert _connections(result, "heartbleed") + _connections(result, "openssl_ccs_injection") == 3
    assert _connections(result, "robot") == 10


async def test_same_server_without_the_flaws_is_clean(clean_tlslite: RunningServer) -> None:
    result = await scan_server(f"127.0.0.1:{clean_tlslite.port}", _CHECKS)
    heartbleed = _completed(result, "heartbleed")
    assert (heartbleed.vulnerable, heartbleed.leaked_bytes) == (False, 0)
    assert heartbleed.server_reaction == "alert unexpected_message, fatal_alert"  # an answer, not a timeout
    ccs = _completed(result, "openssl_ccs_injection")
    assert ccs.vulnerable is False and ccs.server_reaction == "alert unexpected_message, fatal_alert"
    robot = _completed(result, "robot")
    assert robot.verdict is RobotVerdict.no_oracle
    assert {response.reaction for response in robot.responses} == {"alert bad_record_mac, fatal_alert"}
    assert _connections(result, "robot") == 5


async def test_weak_oracle(test_pki: TestPKI) -> None:
    with start_tlslite_server(
        cert=test_pki.rsa_chain, key=test_pki.rsa_key, max_version="tls1.2", extra_args=["--robot", "weak"]
    ) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [RobotCheck()])
    robot = _completed(result, "robot")
    assert robot.verdict is RobotVerdict.weak_oracle
    reactions = {response.variant: response.reaction for response in robot.responses}
    assert reactions[PaddingVariant.valid] == "alert bad_record_mac, fatal_alert"
    assert reactions[PaddingVariant.no_separator] == "closed"


async def test_key_exchange_only_round_runs_when_the_full_round_shows_nothing(
    clean_tlslite: RunningServer,
) -> None:
    # The clean server answers the lone key exchange of every variant alike (it waits, then closes).
    result = await scan_server(
        f"127.0.0.1:{clean_tlslite.port}", [RobotCheck(cke_only_round=True)], config=_short_read_timeout()
    )
    robot = _completed(result, "robot")
    if robot.verdict is RobotVerdict.inconsistent_results:
        # A machine loaded enough to make the server miss the read timeout: differing answers, repeated, are
        # reported as inconsistent and never as an oracle.
        return
    assert robot.verdict is RobotVerdict.no_oracle and robot.key_exchange_only
    # The server waits for the rest of the flight: silence within the read timeout for every padding.
    assert {response.reaction for response in robot.responses} == {"silent"}
    assert _connections(result, "robot") == 1 + 10  # the baseline hello (run alone here), then two rounds


def _short_read_timeout() -> ScanConfig:
    return ScanConfig(timeouts=Timeouts(read_s=1.5))


async def test_openssl_102_and_python_ssl_are_not_vulnerable(test_pki: TestPKI) -> None:
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, ciphers="ALL") as server:
        legacy = await scan_server(f"127.0.0.1:{server.port}", _CHECKS)
    # OpenSSL 1.0.2e has heartbeats (discarding the oversized request) and the CCS fix.
    assert _completed(legacy, "heartbleed").vulnerable is False
    assert _completed(legacy, "openssl_ccs_injection").vulnerable is False
    assert _completed(legacy, "robot").verdict is RobotVerdict.no_oracle
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as modern:
        result = await scan_server(f"127.0.0.1:{modern.port}", _CHECKS)
    assert _completed(result, "heartbleed").vulnerable is False
    assert _completed(result, "openssl_ccs_injection").vulnerable is False
    # OpenSSL 3's default suites have no RSA key exchange: one refused hello settles it.
    robot = _completed(result, "robot")
    assert robot.verdict is RobotVerdict.rsa_key_exchange_not_supported and robot.responses == ()
    assert _connections(result, "robot") == 1


async def test_tls13_only_server_is_skipped_with_the_reason(test_pki: TestPKI) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, minimum_version=ssl.TLSVersion.TLSv1_3
    ) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", _CHECKS)
    for check in _CHECKS:
        outcome = result.outcome(check.name)
        assert outcome is not None and outcome.status == "skipped", outcome
        assert "TLS 1.2" in outcome.reason  # type: ignore[union-attr]
