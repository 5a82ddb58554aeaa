"""Heartbleed, CCS injection and ROBOT on real servers that answer the records sent right behind the hello out
of order, before or inside their flight (tests/servers/hostile.py's ``EarlyAnswerHeartbeatServer``,
tests/servers/early_answer.py's ``EarlyAnswerServer``): each check completes with the verdict the server earns
once the records go after its flight, at one more connection per probe that had to go again. The scripted cases
are in test_early_answers_unit.py."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from tests.servers.early_answer import EarlyAnswerServer, rsa_key_exchange_context
from tests.servers.hostile import EarlyAnswerHeartbeatServer
from tlsprobe import CheckCompleted, Scanner, ServerScanResult, TLSVersion
from tlsprobe.checks import (
    CCSInjectionCheck,
    CCSInjectionResult,
    Check,
    HeartbleedCheck,
    HeartbleedResult,
    RobotCheck,
    RobotResult,
    RobotVerdict,
)

pytestmark = [pytest.mark.anyio, pytest.mark.realserver]

_CHECKS: list[Check[Any]] = [HeartbleedCheck(), CCSInjectionCheck(), RobotCheck()]
_NAMES = ("heartbleed", "openssl_ccs_injection", "robot")
# With every record in order: the shared baseline hello, one conversation each for Heartbleed and CCS injection,
# and ROBOT's round of five.
_IN_ORDER_CONNECTIONS = 1 + 1 + 1 + 5


def _completed(result: ServerScanResult, name: str) -> Any:
    outcome = result.outcome(name)
    assert isinstance(outcome, CheckCompleted), outcome
    return outcome.result


def _connections(result: ServerScanResult) -> int:
    # Summed: the baseline hello counts against whichever check asked for it first.
    return sum(result.outcome(name).cost.connections for name in _NAMES)


def _assert_clean_for_ccs_and_robot(result: ServerScanResult) -> None:
    assert _completed(result, "openssl_ccs_injection") == CCSInjectionResult(
        vulnerable=False, tested_version=TLSVersion.TLS1_2, server_reaction="alert unexpected_message, fatal_alert"
    )
    robot = _completed(result, "robot")
    assert isinstance(robot, RobotResult)
    assert robot.verdict is RobotVerdict.no_oracle and not robot.key_exchange_only
    assert robot.cipher_suite is not None and robot.cipher_suite.openssl_name == "AES128-GCM-SHA256"


async def test_a_heartbeat_answered_before_the_flight_is_sent_again_after_it_and_its_over_read_found() -> None:
    # The server over-reads like OpenSSL 1.0.1f: once the heartbeat comes after its flight, that shows.
    with EarlyAnswerHeartbeatServer(answer="heartbeat", context=rsa_key_exchange_context()) as server:
        result = await Scanner().scan_server(f"127.0.0.1:{server.port}", _CHECKS)
        early_answers = server.early_answers
    heartbleed = _completed(result, "heartbleed")
    assert heartbleed == HeartbleedResult(
        vulnerable=True, leaked_bytes=0x4000 - 16, tested_version=TLSVersion.TLS1_2, server_reaction="heartbeat, enough"
    )
    _assert_clean_for_ccs_and_robot(result)
    assert early_answers == 1  # only to Heartbleed's records sent ahead: it answers nothing else early
    assert _connections(result) == _IN_ORDER_CONNECTIONS + 1


async def test_a_heartbeat_refused_before_the_flight_is_sent_again_after_it() -> None:
    with EarlyAnswerHeartbeatServer(answer="alert", context=rsa_key_exchange_context()) as server:
        result = await Scanner().scan_server(f"127.0.0.1:{server.port}", _CHECKS)
        early_answers = server.early_answers
    assert _completed(result, "heartbleed") == HeartbleedResult(
        vulnerable=False,
        leaked_bytes=0,
        tested_version=TLSVersion.TLS1_2,
        server_reaction="alert unexpected_message, fatal_alert",
    )
    _assert_clean_for_ccs_and_robot(result)
    assert early_answers == 1
    assert _connections(result) == _IN_ORDER_CONNECTIONS + 1


@pytest.mark.parametrize("placement", ["before", "inside"])
async def test_every_probe_answered_out_of_order_goes_again_after_the_flight(
    placement: Literal["before", "inside"],
) -> None:
    with EarlyAnswerServer(placement=placement) as server:
        result = await Scanner().scan_server(f"127.0.0.1:{server.port}", _CHECKS)
        early_answers = server.early_answers
    assert _completed(result, "heartbleed") == HeartbleedResult(
        vulnerable=False,
        leaked_bytes=0,
        tested_version=TLSVersion.TLS1_2,
        server_reaction="alert unexpected_message, fatal_alert",
    )
    _assert_clean_for_ccs_and_robot(result)
    # Heartbleed, CCS injection and ROBOT's valid block each met an early answer; ROBOT then made its whole
    # round after the flight.
    assert early_answers == 3
    assert _connections(result) == _IN_ORDER_CONNECTIONS + 3
