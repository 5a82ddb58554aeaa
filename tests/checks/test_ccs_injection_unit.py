"""CCS injection without a server: ``interpret_ccs_injection`` on hand-built reactions, and the check itself
against a scripted server (``tlsprobe.testing.ScriptedServer``). The real servers are in test_vulnerabilities.py."""

from __future__ import annotations

import pytest

from tlsprobe import TLSVersion
from tlsprobe.checks import CCSInjectionCheck, CCSInjectionResult
from tlsprobe.checks.ccs_injection import interpret_ccs_injection
from tlsprobe.testing import Exchange, ScriptedServer, alert_record, tls_server
from tlsprobe.wire import CHANGE_CIPHER_SPEC_PAYLOAD, AlertDescription, AlertLevel, ContentType, Record
from tlsprobe.wire._reactions import ReactionEnd, ServerReaction

pytestmark = pytest.mark.anyio

TLS12 = TLSVersion.TLS1_2.wire_code
BAD_RECORD_MAC = alert_record(AlertDescription.bad_record_mac)
UNEXPECTED = alert_record(AlertDescription.unexpected_message)


def reaction(*records: Record, end: ReactionEnd = ReactionEnd.fatal_alert) -> ServerReaction:
    return ServerReaction(records=records, end=end)


# --------------------------------------------------------------------------------------- interpretation


@pytest.mark.parametrize("description", [AlertDescription.bad_record_mac, AlertDescription.decryption_failed])
def test_failing_to_decrypt_the_next_record_is_the_evidence(description: AlertDescription) -> None:
    assert interpret_ccs_injection(reaction(alert_record(description))) is True


@pytest.mark.parametrize(
    "refusal",
    [
        reaction(UNEXPECTED),
        reaction(alert_record(AlertDescription.handshake_failure)),
        reaction(end=ReactionEnd.closed),
        reaction(end=ReactionEnd.reset),
        reaction(end=ReactionEnd.silent),
    ],
    ids=["unexpected_message", "handshake_failure", "closed", "reset", "silent"],
)
def test_a_refusal_a_close_a_reset_or_silence_is_not_vulnerable(refusal: ServerReaction) -> None:
    assert interpret_ccs_injection(refusal) is False


def test_only_the_first_fatal_alert_counts() -> None:
    assert interpret_ccs_injection(reaction(UNEXPECTED, BAD_RECORD_MAC)) is False
    warning = alert_record(AlertDescription.bad_record_mac, level=AlertLevel.warning)
    assert interpret_ccs_injection(reaction(warning, end=ReactionEnd.closed)) is False
    assert interpret_ccs_injection(reaction(warning, BAD_RECORD_MAC)) is True


def test_odd_records_before_the_alert_do_not_hide_it() -> None:
    noise = (
        Record(content_type=ContentType.handshake, version=TLS12, payload=b"\x0e\x00\x00\x00"),
        Record(content_type=99, version=TLS12, payload=b"?"),
        Record(content_type=ContentType.alert, version=TLS12, payload=b"\x02"),  # too short to be an alert
    )
    assert interpret_ccs_injection(reaction(*noise, BAD_RECORD_MAC)) is True
    assert interpret_ccs_injection(reaction(*noise, end=ReactionEnd.closed)) is False


# ------------------------------------------------------------------------------ the check, on scripted servers


def early_ccs_taken(exchange: Exchange) -> ServerReaction:
    """OpenSSL before 1.0.1h: it takes the early ChangeCipherSpec, so the next record fails to decrypt."""
    types = [record.content_type for record in exchange.received]
    assert types == [ContentType.change_cipher_spec, ContentType.handshake]
    assert exchange.received[0].payload == CHANGE_CIPHER_SPEC_PAYLOAD
    return reaction(BAD_RECORD_MAC)


async def test_a_server_taking_the_early_ccs_is_vulnerable_below_its_tls13_in_one_conversation() -> None:
    server = ScriptedServer(
        hello=tls_server({TLSVersion.TLS1_2, TLSVersion.TLS1_3}),
        react=early_ccs_taken,
        highest_version=TLSVersion.TLS1_3,
    )
    context = server.context()
    result = await CCSInjectionCheck().run(context)
    assert result == CCSInjectionResult(
        vulnerable=True, tested_version=TLSVersion.TLS1_2, server_reaction="alert bad_record_mac, fatal_alert"
    )
    baseline, conversation = context.connections
    assert (baseline.kind, conversation.kind) == ("hello", "converse")
    assert conversation.spec is not None and not conversation.spec.heartbeat
    assert len(conversation.sent) == 1 and len(conversation.reactions) == 1  # sent ahead, read once


@pytest.mark.parametrize(
    ("scripted", "summary"),
    [
        (reaction(UNEXPECTED), "alert unexpected_message, fatal_alert"),
        (reaction(end=ReactionEnd.closed), "closed"),
        (reaction(end=ReactionEnd.reset), "reset"),
        (reaction(end=ReactionEnd.silent), "silent"),
    ],
)
async def test_a_refusing_closing_resetting_or_silent_server_is_not_vulnerable(
    scripted: ServerReaction, summary: str
) -> None:
    server = ScriptedServer(hello=tls_server({TLSVersion.TLS1_0}), react=scripted, highest_version=TLSVersion.TLS1_0)
    result = await CCSInjectionCheck().run(server.context())
    assert result == CCSInjectionResult(vulnerable=False, tested_version=TLSVersion.TLS1_0, server_reaction=summary)
