"""The scripted fake server (``tlsprobe.testing.ScriptedServer``) itself: it stands in for every door of a
``ServerContext``, answers only what is scripted, reads reactions the way a real conversation reads a socket, and
records what each check sent."""

from __future__ import annotations

import socket
from typing import Any

import attrs
import pytest

from tlsprobe import TLSVersion
from tlsprobe._exceptions import MalformedServerResponseError, ResponseTimeoutError
from tlsprobe._probing._context import ServerContext
from tlsprobe._probing._conversation import Conversation
from tlsprobe.testing import (
    BlockingCall,
    Exchange,
    ScriptedContext,
    ScriptedConversation,
    ScriptedServer,
    ScriptError,
    accepted,
    alert_record,
    rejected,
    tls_server,
)
from tlsprobe.wire import AlertDescription, AlertLevel, ClientHelloSpec, ContentType, Record, encode_record
from tlsprobe.wire._answers import HelloRejected
from tlsprobe.wire._reactions import ReactionEnd, ServerReaction
from tlsprobe.wire.catalogue import TLS_FALLBACK_SCSV, cipher_suite_by_name

pytestmark = pytest.mark.anyio


def code(name: str) -> int:
    suite = cipher_suite_by_name(name)
    assert suite is not None
    return suite.code


AES128 = code("TLS_RSA_WITH_AES_128_CBC_SHA")
AES128_GCM_TLS13 = code("TLS_AES_128_GCM_SHA256")
X25519, SECP256R1 = 0x001D, 0x0017
TLS12 = TLSVersion.TLS1_2.wire_code


def hello(version: TLSVersion = TLSVersion.TLS1_2, *suites: int, **fields: Any) -> ClientHelloSpec:
    return ClientHelloSpec(version=version, cipher_suites=suites or (AES128,), **fields)


def record(content_type: int, payload: bytes = b"x") -> Record:
    return Record(content_type=content_type, version=TLS12, payload=payload)


# ------------------------------------------------------------------------------------------- the doors


def test_the_context_is_a_server_context_overriding_every_door() -> None:
    context = ScriptedServer().context()
    assert isinstance(context, ServerContext)
    doors = {name for name in dir(ServerContext) if not name.startswith("_")}
    assert doors == {
        "target",
        "profile",
        "first_contact",
        "hello",
        "tls13_flight",
        "converse",
        "sslv2_hello",
        "shared",
        "early_shared",
        "run_blocking",
    }
    assert doors <= set(vars(ScriptedContext))  # nothing falls through to the real prober
    conversation_doors = {name for name in dir(Conversation) if not name.startswith("_")}
    assert conversation_doors <= set(vars(ScriptedConversation))


def test_target_and_profile_default_to_a_plausible_server() -> None:
    server = ScriptedServer(highest_version=TLSVersion.TLS1_3)
    context = server.context()
    assert context.target.host == "server.test" and context.target.port == 443
    assert context.profile.server_name == "server.test" and context.profile.highest_version is TLSVersion.TLS1_3
    assert TLSVersion.TLS1_3 in context.profile.cipher_suite.versions
    assert context.first_contact is None


async def test_a_probe_nobody_scripted_is_a_script_error() -> None:
    context = ScriptedServer(hello=tls_server({TLSVersion.TLS1_2})).context()

    async def read(conversation: Conversation) -> ServerReaction:
        return await conversation.reaction()

    def handshake(sock: socket.socket) -> None:
        raise AssertionError("never called")

    with pytest.raises(ScriptError, match="reaction"):
        await context.converse(hello(), read)
    with pytest.raises(ScriptError, match=r"TLS 1\.3"):
        await context.tls13_flight(hello(TLSVersion.TLS1_3))
    with pytest.raises(ScriptError, match=r"SSL 2\.0"):
        await context.sslv2_hello((0x010080,))
    with pytest.raises(ScriptError, match="handshake"):
        await context.run_blocking(handshake)
    with pytest.raises(ScriptError, match=r"TLS 1\.2 hello"):
        await ScriptedServer().context().hello(hello())
    assert [connection.kind for connection in context.connections] == [
        "converse",
        "tls13_flight",
        "sslv2_hello",
        "run_blocking",
    ]


async def test_a_canned_answer_is_checked_against_the_offer_as_the_prober_checks_it() -> None:
    context = ScriptedServer(hello=accepted(TLSVersion.TLS1_2, AES128)).context()
    assert (await context.hello(hello())).cipher_suite == AES128
    with pytest.raises(MalformedServerResponseError, match="not offered"):
        await context.hello(hello(TLSVersion.TLS1_2, AES128 + 1))


async def test_a_scripted_failure_reaches_the_check() -> None:
    def timing_out(spec: ClientHelloSpec) -> HelloRejected:
        raise ResponseTimeoutError("no complete answer from the server within 5 s")

    with pytest.raises(ResponseTimeoutError):
        await ScriptedServer(hello=timing_out).context().hello(hello())


async def test_a_conversation_answered_with_tls13_has_no_server_hello_done() -> None:
    server = ScriptedServer(
        hello=tls_server({TLSVersion.TLS1_3}), react=ServerReaction(records=(), end=ReactionEnd.closed)
    )

    async def never(conversation: Conversation) -> None:
        raise AssertionError("the flight never ends")

    spec = hello(TLSVersion.TLS1_3, AES128_GCM_TLS13, groups=(X25519,), key_share_groups=(X25519,))
    with pytest.raises(MalformedServerResponseError, match="ServerHelloDone"):
        await server.context().converse(spec, never)


async def test_a_refused_conversation_runs_no_script() -> None:
    server = ScriptedServer(hello=rejected(AlertDescription.handshake_failure))

    async def never(conversation: Conversation) -> None:
        raise AssertionError("refused")

    outcome = await server.context().converse(hello(), never)
    assert isinstance(outcome, HelloRejected) and outcome.alert is not None
    assert outcome.reason == "server sent the alert handshake_failure"


async def test_blocking_handshakes_answer_from_their_script_with_the_arguments() -> None:
    calls: list[BlockingCall] = []

    def blocking(call: BlockingCall) -> object:
        calls.append(call)
        return f"handshake with {call.args}"

    def handshake(sock: socket.socket, name: str, attempts: int) -> str:
        raise AssertionError("the script answers instead")

    context = ScriptedServer(blocking=blocking).context()
    assert await context.run_blocking(handshake, "server.test", 2) == "handshake with ('server.test', 2)"
    assert calls == [BlockingCall(fn=handshake, args=("server.test", 2))]
    (connection,) = context.connections
    assert connection.kind == "run_blocking" and connection.call == calls[0]


# -------------------------------------------------------------------------------------------- reactions


async def converse_with(
    script: Any, *sends: bytes, ahead: bytes = b"", stop: Any = None
) -> tuple[list[ServerReaction], list[Exchange]]:
    """Reactions to ``ahead`` and then to each of ``sends``, and what the server received each time."""
    exchanges: list[Exchange] = []

    def react(exchange: Exchange) -> ServerReaction:
        exchanges.append(exchange)
        return script if isinstance(script, ServerReaction) else script(exchange)

    server = ScriptedServer(hello=tls_server({TLSVersion.TLS1_2}), react=react)

    async def talk(conversation: Conversation) -> list[ServerReaction]:
        reactions = [await conversation.reaction(stop=stop)]
        for data in sends:
            await conversation.send(data)
            reactions.append(await conversation.reaction(stop=stop))
        return reactions

    reactions = await server.context().converse(hello(), talk, ahead=ahead)
    assert not isinstance(reactions, HelloRejected)
    return reactions, exchanges


async def test_reading_stops_at_the_first_fatal_alert() -> None:
    warning = alert_record(AlertDescription.unrecognized_name, level=AlertLevel.warning)
    fatal = alert_record(AlertDescription.unexpected_message)
    scripted = ServerReaction(records=(warning, fatal, record(ContentType.handshake)), end=ReactionEnd.closed)
    (reaction,), _ = await converse_with(scripted)
    assert reaction == ServerReaction(records=(warning, fatal), end=ReactionEnd.fatal_alert)


async def test_reading_stops_at_the_record_the_check_waits_for() -> None:
    scripted = ServerReaction(
        records=(record(ContentType.handshake), record(ContentType.heartbeat), record(ContentType.alert, b"\x02\x0a")),
        end=ReactionEnd.closed,
    )
    (reaction,), _ = await converse_with(scripted, stop=lambda record: record.content_type == ContentType.heartbeat)
    assert reaction.end is ReactionEnd.enough and len(reaction.records) == 2


@pytest.mark.parametrize("end", [ReactionEnd.closed, ReactionEnd.reset, ReactionEnd.silent])
async def test_after_its_records_the_server_ends_as_scripted(end: ReactionEnd) -> None:
    scripted = ServerReaction(records=(record(ContentType.application_data),), end=end)
    (reaction,), _ = await converse_with(scripted)
    assert reaction == scripted


@pytest.mark.parametrize("end", [ReactionEnd.enough, ReactionEnd.fatal_alert])
async def test_an_ending_the_records_do_not_bear_out_reads_as_silence(end: ReactionEnd) -> None:
    scripted = ServerReaction(records=(record(ContentType.handshake),), end=end)
    (reaction,), _ = await converse_with(scripted)
    assert reaction == ServerReaction(records=scripted.records, end=ReactionEnd.silent)


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (
            ServerReaction(records=(alert_record(AlertDescription.bad_record_mac),), end=ReactionEnd.fatal_alert),
            "closed",
        ),
        (ServerReaction(records=(), end=ReactionEnd.closed), "closed"),
        (ServerReaction(records=(), end=ReactionEnd.reset), "reset"),
    ],
)
async def test_a_connection_gone_stays_gone_without_asking_the_script(first: ServerReaction, then: str) -> None:
    reactions, exchanges = await converse_with(first, b"more", b"and more")
    assert reactions[1:] == [ServerReaction(records=(), end=ReactionEnd(then))] * 2
    assert len(exchanges) == 1


async def test_the_server_receives_what_was_sent_since_it_last_reacted() -> None:
    ahead = encode_record(ContentType.change_cipher_spec, TLS12, b"\x01") + encode_record(
        ContentType.handshake, TLS12, b"?"
    )
    later = encode_record(ContentType.application_data, TLS12, b"data")
    silence = ServerReaction(records=(), end=ReactionEnd.silent)
    _, exchanges = await converse_with(silence, later, ahead=ahead)
    assert [[record.content_type for record in exchange.received] for exchange in exchanges] == [
        [ContentType.change_cipher_spec, ContentType.handshake],
        [ContentType.application_data],
    ]
    assert exchanges[0].accepted.version is TLSVersion.TLS1_2 and exchanges[0].spec == hello()


async def test_connections_record_what_was_sent_and_read() -> None:
    server = ScriptedServer(
        hello=tls_server({TLSVersion.TLS1_2}), react=ServerReaction(records=(), end=ReactionEnd.silent)
    )
    context = server.context()
    close_notify = encode_record(ContentType.alert, TLS12, b"\x01\x00")
    await context.hello(hello(), ahead=close_notify)

    async def talk(conversation: Conversation) -> ServerReaction:
        await conversation.send(encode_record(ContentType.handshake, TLS12, b"\x0e\x00\x00\x00"))
        return await conversation.reaction()

    await context.converse(hello(), talk)
    first, second = server.connections
    assert context.connections == (first, second)
    assert first.kind == "hello" and first.sent == [close_notify] and first.reactions == []
    assert [record.content_type for record in first.records_sent] == [ContentType.alert]
    assert second.kind == "converse" and second.reactions == [ServerReaction(records=(), end=ReactionEnd.silent)]
    assert [record.content_type for record in second.records_sent] == [ContentType.handshake]


# ------------------------------------------------------------------------------------ shared observations


async def test_shared_observations_are_gathered_once_per_server_and_cost_the_gatherer() -> None:
    server = ScriptedServer(hello=tls_server({TLSVersion.TLS1_2}))
    first, second = server.context(), server.context()

    async def gather(context: ServerContext) -> object:
        return await context.hello(hello())

    answer = await first.shared("answer", gather)
    assert await second.shared("answer", gather) is answer
    assert (len(first.connections), len(second.connections)) == (1, 0)
    other = ScriptedServer(hello=tls_server({TLSVersion.TLS1_2})).context()
    await other.shared("answer", gather)  # another server: gathered again
    assert len(other.connections) == 1


# ------------------------------------------------------------------------------------------ tls_server


async def answer(script: Any, spec: ClientHelloSpec) -> Any:
    return await ScriptedServer(hello=script).context().hello(spec)


async def test_tls_server_negotiates_the_highest_common_version() -> None:
    script = tls_server({TLSVersion.TLS1_0, TLSVersion.TLS1_2})
    assert (await answer(script, hello(TLSVersion.TLS1_1))).version is TLSVersion.TLS1_0
    assert (await answer(script, hello(TLSVersion.TLS1_2))).version is TLSVersion.TLS1_2
    tls13 = hello(TLSVersion.TLS1_3, AES128_GCM_TLS13, AES128, groups=(X25519,), key_share_groups=(X25519,))
    refused = await answer(script, attrs.evolve(tls13, min_version=TLSVersion.TLS1_3))
    assert isinstance(refused, HelloRejected) and refused.alert is not None
    assert refused.alert.description == AlertDescription.protocol_version
    assert (await answer(script, tls13)).version is TLSVersion.TLS1_2  # supported_versions goes down to TLS 1.0


async def test_tls_server_under_tls13_takes_the_first_key_share() -> None:
    script = tls_server({TLSVersion.TLS1_2, TLSVersion.TLS1_3})
    spec = hello(TLSVersion.TLS1_3, AES128_GCM_TLS13, groups=(SECP256R1, X25519), key_share_groups=(SECP256R1,))
    got = await answer(script, spec)
    assert got.version is TLSVersion.TLS1_3 and got.server_hello.key_share_group == SECP256R1
    assert got.ephemeral_key is not None
    no_share = await answer(script, hello(TLSVersion.TLS1_3, AES128_GCM_TLS13, groups=(X25519,)))
    assert isinstance(no_share, HelloRejected)


async def test_tls_server_picks_suites_in_its_order_or_the_clients() -> None:
    ecdhe = code("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    spec = hello(TLSVersion.TLS1_2, AES128, ecdhe)
    assert (await answer(tls_server({TLSVersion.TLS1_2}, cipher_suites=[ecdhe, AES128]), spec)).cipher_suite == ecdhe
    client_order = tls_server({TLSVersion.TLS1_2}, cipher_suites=[ecdhe, AES128], server_order=False)
    assert (await answer(client_order, spec)).cipher_suite == AES128
    none = await answer(tls_server({TLSVersion.TLS1_2}, cipher_suites=[ecdhe]), hello(TLSVersion.TLS1_2, AES128))
    assert isinstance(none, HelloRejected) and none.alert is not None
    assert none.alert.description == AlertDescription.handshake_failure


async def test_tls_server_refuses_a_fallback_and_marks_a_downgrade() -> None:
    script = tls_server({TLSVersion.TLS1_1, TLSVersion.TLS1_2, TLSVersion.TLS1_3})
    fallback = await answer(script, hello(TLSVersion.TLS1_1, AES128, TLS_FALLBACK_SCSV))
    assert isinstance(fallback, HelloRejected) and fallback.alert is not None
    assert fallback.alert.description == AlertDescription.inappropriate_fallback
    assert (await answer(script, hello(TLSVersion.TLS1_2))).server_hello.downgrade_sentinel is TLSVersion.TLS1_2
    assert (await answer(script, hello(TLSVersion.TLS1_1))).server_hello.downgrade_sentinel is TLSVersion.TLS1_1


def test_tls_server_needs_a_version_it_can_speak() -> None:
    with pytest.raises(ValueError, match="at least one version"):
        tls_server(set())
    with pytest.raises(ValueError, match=r"not SSL 2\.0"):
        tls_server({TLSVersion.SSL2})
