"""Heartbleed without a server: ``interpret_heartbleed`` on hand-built reactions, and the check itself against a
scripted server (``tlsprobe.testing.ScriptedServer``). The real servers are in test_vulnerabilities.py."""

from __future__ import annotations

import pytest

from tlsprobe import TLSVersion
from tlsprobe._exceptions import CheckNotApplicable, ServerResponseError
from tlsprobe.checks import CompressionCheck, HeartbleedCheck, HeartbleedResult
from tlsprobe.checks.heartbleed import interpret_heartbleed
from tlsprobe.testing import Exchange, ScriptedServer, alert_record, rejected, tls_server
from tlsprobe.wire import AlertDescription, AlertLevel, ClientHelloSpec, ContentType, Record
from tlsprobe.wire._answers import HelloOutcome
from tlsprobe.wire._heartbeat import HeartbeatMessageType, parse_heartbeat
from tlsprobe.wire._reactions import ReactionEnd, ServerReaction

pytestmark = pytest.mark.anyio

TLS12 = TLSVersion.TLS1_2.wire_code
UNEXPECTED = alert_record(AlertDescription.unexpected_message)


def heartbeat(message_type: int, declared_length: int, content: bytes = b"") -> Record:
    payload = bytes((message_type,)) + declared_length.to_bytes(2, "big") + content
    return Record(content_type=ContentType.heartbeat, version=TLS12, payload=payload)


def response(declared_length: int) -> Record:
    return heartbeat(HeartbeatMessageType.heartbeat_response, declared_length, bytes(declared_length + 16))


def reaction(*records: Record, end: ReactionEnd = ReactionEnd.closed) -> ServerReaction:
    return ServerReaction(records=records, end=end)


# --------------------------------------------------------------------------------------- interpretation


def test_a_response_declaring_the_requested_16_kib_leaks_all_but_the_16_bytes_sent() -> None:
    assert interpret_heartbleed(reaction(response(0x4000), end=ReactionEnd.enough)) == 0x4000 - 16


def test_a_response_echoing_no_more_than_was_sent_leaks_nothing() -> None:
    assert interpret_heartbleed(reaction(response(16), end=ReactionEnd.enough)) == 0
    assert interpret_heartbleed(reaction(response(5), end=ReactionEnd.enough)) == 0


@pytest.mark.parametrize(
    "refusal",
    [
        reaction(UNEXPECTED, end=ReactionEnd.fatal_alert),
        reaction(alert_record(AlertDescription.decode_error), end=ReactionEnd.fatal_alert),
        reaction(end=ReactionEnd.closed),
        reaction(end=ReactionEnd.reset),
        reaction(end=ReactionEnd.silent),
    ],
    ids=["unexpected_message", "decode_error", "closed", "reset", "silent"],
)
def test_an_alert_a_close_a_reset_or_silence_leaks_nothing(refusal: ServerReaction) -> None:
    assert interpret_heartbleed(refusal) == 0


def test_odd_records_leak_nothing() -> None:
    too_short = Record(content_type=ContentType.heartbeat, version=TLS12, payload=b"\x02\x40")
    request = heartbeat(HeartbeatMessageType.heartbeat_request, 0x4000, bytes(32))
    unknown_type = heartbeat(7, 0x4000, bytes(32))
    not_heartbeats = (
        Record(content_type=ContentType.application_data, version=TLS12, payload=b"\x02\x40\x00" + bytes(64)),
        Record(content_type=99, version=TLS12, payload=b"\x02\x40\x00"),
        alert_record(AlertDescription.unexpected_message, level=AlertLevel.warning),
    )
    for records in ((too_short,), (request,), (unknown_type,), not_heartbeats):
        assert interpret_heartbleed(reaction(*records, end=ReactionEnd.silent)) == 0, records


def test_the_first_heartbeat_response_counts_even_after_odd_records() -> None:
    too_short = Record(content_type=ContentType.heartbeat, version=TLS12, payload=b"\x02")
    noise = Record(content_type=ContentType.application_data, version=TLS12, payload=bytes(8))
    assert interpret_heartbleed(reaction(noise, too_short, response(100), response(0x4000))) == 100 - 16


# ------------------------------------------------------------------------------ the check, on scripted servers


def bleeding(exchange: Exchange) -> ServerReaction:
    """OpenSSL 1.0.1f: a heartbeat_request gets a response as long as it *declares*, then the unexpected
    handshake message an alert."""
    records: list[Record] = []
    for record in exchange.received:
        if record.content_type == ContentType.heartbeat:
            declared = parse_heartbeat(record.payload).declared_length
            records.append(response(declared))
        else:
            records.append(UNEXPECTED)
    return reaction(*records)


def fixed(exchange: Exchange) -> ServerReaction:
    """A fixed server discards the over-long request and answers the unexpected handshake message."""
    assert [record.content_type for record in exchange.received] == [ContentType.heartbeat, ContentType.handshake]
    return reaction(UNEXPECTED)


TLS12_AND_13 = frozenset({TLSVersion.TLS1_2, TLSVersion.TLS1_3})


async def test_a_bleeding_server_is_vulnerable_below_its_tls13_in_one_conversation() -> None:
    server = ScriptedServer(
        hello=tls_server(TLS12_AND_13, heartbeat=True), react=bleeding, highest_version=TLSVersion.TLS1_3
    )
    context = server.context()
    result = await HeartbleedCheck().run(context)
    assert result == HeartbleedResult(
        vulnerable=True, leaked_bytes=0x4000 - 16, tested_version=TLSVersion.TLS1_2, server_reaction="heartbeat, enough"
    )
    # The shared baseline hello, then one conversation: the records went right behind its hello.
    baseline, conversation = context.connections
    assert baseline.kind == "hello" and conversation.kind == "converse"
    assert conversation.spec is not None and conversation.spec.heartbeat
    assert conversation.spec.version is TLSVersion.TLS1_2
    request, unexpected = conversation.records_sent
    assert len(conversation.sent) == 1  # all of it ahead, nothing after the flight
    sent = parse_heartbeat(request.payload)
    assert sent.message_type == HeartbeatMessageType.heartbeat_request
    assert sent.declared_length == 0x4000 and len(sent.content) == 16 + 16  # 16 bytes of payload, 16 of padding
    assert unexpected.content_type == ContentType.handshake


async def test_a_fixed_server_is_not_vulnerable() -> None:
    server = ScriptedServer(hello=tls_server({TLSVersion.TLS1_2}, heartbeat=True), react=fixed)
    result = await HeartbleedCheck().run(server.context())
    assert result == HeartbleedResult(
        vulnerable=False,
        leaked_bytes=0,
        tested_version=TLSVersion.TLS1_2,
        server_reaction="alert unexpected_message, fatal_alert",
    )


@pytest.mark.parametrize(
    ("scripted", "summary"),
    [
        (reaction(end=ReactionEnd.silent), "silent"),
        (reaction(end=ReactionEnd.reset), "reset"),
        (
            reaction(Record(content_type=99, version=TLS12, payload=b"?"), end=ReactionEnd.closed),
            "content type 99, closed",
        ),
    ],
)
async def test_silence_a_reset_or_an_odd_record_is_not_vulnerable(scripted: ServerReaction, summary: str) -> None:
    server = ScriptedServer(hello=tls_server({TLSVersion.TLS1_1}), react=scripted, highest_version=TLSVersion.TLS1_1)
    result = await HeartbleedCheck().run(server.context())
    assert not result.vulnerable and result.leaked_bytes == 0
    assert result.tested_version is TLSVersion.TLS1_1 and result.server_reaction == summary


async def test_a_check_sharing_the_baseline_pays_only_its_conversation() -> None:
    server = ScriptedServer(hello=tls_server({TLSVersion.TLS1_2}), react=fixed)
    await CompressionCheck().run(server.context())
    context = server.context()
    await HeartbleedCheck().run(context)
    assert [connection.kind for connection in context.connections] == ["converse"]
    assert len(server.connections) == 2


async def test_records_go_again_after_the_flight_when_the_conversation_gets_another_version() -> None:
    tls12, tls11 = tls_server({TLSVersion.TLS1_2}), tls_server({TLSVersion.TLS1_1})

    def hello(spec: ClientHelloSpec) -> HelloOutcome:  # TLS 1.1 whenever the hello offers heartbeats
        return tls11(spec) if spec.heartbeat else tls12(spec)

    server = ScriptedServer(hello=hello, react=bleeding)
    context = server.context()
    result = await HeartbleedCheck().run(context)
    assert result.vulnerable
    ahead, again = context.connections[1:]
    assert ahead.kind == again.kind == "converse"
    assert ahead.reactions == []  # made for TLS 1.2: not read
    assert len(again.sent) == 1 and again.reactions != []
    assert {record.version for record in again.records_sent} == {TLSVersion.TLS1_1.wire_code}


async def test_a_server_refusing_the_hello_it_accepted_is_an_error() -> None:
    plain = tls_server({TLSVersion.TLS1_2})

    def hello(spec: ClientHelloSpec) -> HelloOutcome:
        return rejected(AlertDescription.unsupported_extension) if spec.heartbeat else plain(spec)

    server = ScriptedServer(hello=hello, react=fixed)
    with pytest.raises(ServerResponseError, match=r"refused at TLS 1\.2 a hello it had accepted"):
        await HeartbleedCheck().run(server.context())


async def test_a_tls13_only_server_is_not_applicable_after_one_hello_per_older_version() -> None:
    server = ScriptedServer(hello=tls_server({TLSVersion.TLS1_3}), highest_version=TLSVersion.TLS1_3)
    context = server.context()
    with pytest.raises(CheckNotApplicable, match=r"no protocol version from SSL 3\.0 to TLS 1\.2"):
        await HeartbleedCheck().run(context)
    assert [(connection.kind, connection.spec and connection.spec.version) for connection in context.connections] == [
        ("hello", version) for version in (TLSVersion.TLS1_2, TLSVersion.TLS1_1, TLSVersion.TLS1_0, TLSVersion.SSL3)
    ]
