"""The byte-level probes (Heartbleed, CCS injection, ROBOT) against scripted servers that answer the records sent
right behind the hello out of order: the prober, reading the flight, meets the answer before or inside it and
raises ``MalformedServerResponseError``, or the server refuses the hello with unexpected_message. The probe then
goes again the usual way (hello, whole flight, records), one more connection; ROBOT makes its whole round that
way. The real servers are in test_early_answers.py."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Collection

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from tlsprobe import TLSVersion
from tlsprobe._exceptions import MalformedServerResponseError
from tlsprobe._probing._conversation import Conversation
from tlsprobe.checks import (
    CCSInjectionCheck,
    CCSInjectionResult,
    HeartbleedCheck,
    PaddingVariant,
    RobotCheck,
    RobotVerdict,
)
from tlsprobe.checks._tls12_baseline import converse_ahead
from tlsprobe.testing import Exchange, ScriptedConnection, ScriptedServer, alert_record, rejected, tls_server
from tlsprobe.testing._scripted import HelloScript
from tlsprobe.wire import AlertDescription, ClientHelloSpec, ContentType, Record, encode_record
from tlsprobe.wire._answers import HelloOutcome, HelloRejected
from tlsprobe.wire._heartbeat import HeartbeatMessageType, parse_heartbeat
from tlsprobe.wire._reactions import ReactionEnd, ServerReaction

pytestmark = pytest.mark.anyio

TLS12 = frozenset({TLSVersion.TLS1_2})
ECDHE_RSA_AES128_GCM = 0xC02F
RSA_AES128_GCM = 0x009C
UNEXPECTED = alert_record(AlertDescription.unexpected_message)
BAD_RECORD_MAC = alert_record(AlertDescription.bad_record_mac)
OUT_OF_ORDER = "server sent a heartbeat message before completing its handshake flight"


def probe_hello(spec: ClientHelloSpec) -> bool:
    """A probe's own hello, not the shared baseline's (which asks for OCSP stapling)."""
    return not spec.status_request


def out_of_order(plain: HelloScript, breaks: Collection[int], refusal: HelloRejected | None = None) -> HelloScript:
    """``plain``, except for the probe hellos numbered ``breaks`` (from 1): the server answers the records behind
    them out of order, which the prober reports as ``MalformedServerResponseError``, or as ``refusal``."""
    count = 0

    def answer(spec: ClientHelloSpec) -> HelloOutcome:
        nonlocal count
        if probe_hello(spec):
            count += 1
            if count in breaks:
                if refusal is not None:
                    return refusal
                raise MalformedServerResponseError(OUT_OF_ORDER)
        return plain(spec)

    return answer


def fatal(alert: Record) -> ServerReaction:
    return ServerReaction(records=(alert,), end=ReactionEnd.fatal_alert)


def conversations(connections: tuple[ScriptedConnection, ...]) -> list[ScriptedConnection]:
    return [connection for connection in connections if connection.kind == "converse"]


# ------------------------------------------------------------------------------------ Heartbleed, CCS injection


def bleeding(exchange: Exchange) -> ServerReaction:
    """OpenSSL 1.0.1f, once its flight is out: a response as long as the request declares, then an alert."""
    records: list[Record] = []
    for record in exchange.received:
        if record.content_type == ContentType.heartbeat:
            declared = parse_heartbeat(record.payload).declared_length
            payload = bytes((HeartbeatMessageType.heartbeat_response,)) + declared.to_bytes(2, "big")
            records.append(
                Record(content_type=ContentType.heartbeat, version=0x0303, payload=payload + bytes(declared))
            )
        else:
            records.append(UNEXPECTED)
    return ServerReaction(records=tuple(records), end=ReactionEnd.closed)


async def test_heartbleed_sends_its_records_again_after_the_flight_when_answered_out_of_order() -> None:
    server = ScriptedServer(hello=out_of_order(tls_server(TLS12, heartbeat=True), breaks={1}), react=bleeding)
    context = server.context()
    result = await HeartbleedCheck().run(context)
    assert result.vulnerable and result.leaked_bytes == 0x4000 - 16
    assert [connection.kind for connection in context.connections] == ["hello", "converse", "converse"]
    ahead, again = conversations(context.connections)
    assert ahead.reactions == []  # its flight never came through
    assert again.reactions != [] and len(again.sent) == 1
    assert [record.content_type for record in again.records_sent] == [ContentType.heartbeat, ContentType.handshake]


async def test_ccs_injection_sends_its_records_again_after_the_flight_when_answered_out_of_order() -> None:
    server = ScriptedServer(hello=out_of_order(tls_server(TLS12), breaks={1}), react=lambda _: fatal(BAD_RECORD_MAC))
    context = server.context()
    result = await CCSInjectionCheck().run(context)
    assert result == CCSInjectionResult(
        vulnerable=True, tested_version=TLSVersion.TLS1_2, server_reaction="alert bad_record_mac, fatal_alert"
    )
    ahead, again = conversations(context.connections)
    assert ahead.reactions == [] and len(again.reactions) == 1


async def test_a_flight_out_of_order_the_second_time_too_is_the_servers_error() -> None:
    server = ScriptedServer(hello=out_of_order(tls_server(TLS12, heartbeat=True), breaks={1, 2}), react=bleeding)
    context = server.context()
    with pytest.raises(MalformedServerResponseError, match=OUT_OF_ORDER):
        await HeartbleedCheck().run(context)
    assert len(conversations(context.connections)) == 2


async def test_an_error_raised_once_the_flight_is_read_is_not_sent_again() -> None:
    server = ScriptedServer(hello=tls_server(TLS12))
    context = server.context()

    async def malformed_reaction(conversation: Conversation) -> None:
        raise MalformedServerResponseError("the reaction made no sense")

    spec = ClientHelloSpec(version=TLSVersion.TLS1_2, cipher_suites=(RSA_AES128_GCM,))
    with pytest.raises(MalformedServerResponseError, match="the reaction made no sense"):
        await converse_ahead(context, spec, malformed_reaction, encode_record(ContentType.alert, 0x0303, b"\x02\x0a"))
    assert len(context.connections) == 1


# ------------------------------------------------------------------------------------------------------ ROBOT


@functools.cache
def rsa_certificate() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "server.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.DER)


def rsa_server() -> HelloScript:
    """TLS 1.2 with ECDHE (the baseline's choice) and RSA key exchange, one RSA certificate for both."""
    return tls_server(TLS12, cipher_suites=(ECDHE_RSA_AES128_GCM, RSA_AES128_GCM), certificates=(rsa_certificate(),))


ALIKE = "alert bad_record_mac, fatal_alert"


def assert_no_oracle_from_a_whole_round_after_the_flight(connections: tuple[ScriptedConnection, ...]) -> None:
    last_round = conversations(connections)[-5:]
    assert all(len(connection.sent) == 1 and len(connection.reactions) == 1 for connection in last_round)


async def test_robot_makes_its_round_after_the_flight_when_the_valid_blocks_hello_is_answered_out_of_order() -> None:
    server = ScriptedServer(hello=out_of_order(rsa_server(), breaks={1}), react=lambda _: fatal(BAD_RECORD_MAC))
    context = server.context()
    result = await RobotCheck().run(context)
    assert result.verdict is RobotVerdict.no_oracle and result.cipher_suite is not None
    assert result.cipher_suite.code == RSA_AES128_GCM
    assert {response.reaction for response in result.responses} == {ALIKE}
    ahead, *again = conversations(context.connections)
    assert ahead.reactions == [] and len(again) == 5  # one more connection than a round sent ahead
    assert_no_oracle_from_a_whole_round_after_the_flight(context.connections)


async def test_robot_never_mixes_answers_to_early_records_into_a_round_made_after_the_flight() -> None:
    reactions = 0

    def react(exchange: Exchange) -> ServerReaction:
        # The four conversations of the round sent ahead that got through (the valid block and three malformed
        # ones) are answered otherwise: none of their answers may reach the verdict.
        nonlocal reactions
        reactions += 1
        return fatal(alert_record(AlertDescription.handshake_failure) if reactions <= 4 else BAD_RECORD_MAC)

    server = ScriptedServer(hello=out_of_order(rsa_server(), breaks={2}), react=react)
    context = server.context()
    result = await RobotCheck().run(context)
    assert result.verdict is RobotVerdict.no_oracle
    assert {response.reaction for response in result.responses} == {ALIKE}
    assert len(conversations(context.connections)) == 5 + 5 and reactions == 4 + 5
    assert_no_oracle_from_a_whole_round_after_the_flight(context.connections)


async def test_robot_takes_an_unexpected_message_refusal_of_its_first_hello_for_an_answer_to_its_records() -> None:
    refusal = rejected(AlertDescription.unexpected_message)
    server = ScriptedServer(
        hello=out_of_order(rsa_server(), breaks={1}, refusal=refusal), react=lambda _: fatal(BAD_RECORD_MAC)
    )
    context = server.context()
    result = await RobotCheck().run(context)
    assert result.verdict is RobotVerdict.no_oracle
    assert [response.variant for response in result.responses] == list(PaddingVariant)
    assert len(conversations(context.connections)) == 1 + 5


async def test_robot_takes_a_handshake_failure_for_no_rsa_key_exchange_after_one_conversation() -> None:
    refuses_rsa = out_of_order(rsa_server(), breaks=range(1, 100), refusal=rejected(AlertDescription.handshake_failure))
    server = ScriptedServer(hello=refuses_rsa)
    context = server.context()
    result = await RobotCheck().run(context)
    assert result.verdict is RobotVerdict.rsa_key_exchange_not_supported
    assert len(conversations(context.connections)) == 1
