"""Heartbleed (CVE-2014-0160): does the server answer a heartbeat request with memory past the request?

How: one connection. A ClientHello at the highest version from SSL 3.0 to TLS 1.2 the server accepts (servers
that also speak TLS 1.3 are tested below it: the flaw lives in the TLS <= 1.2 record layer of OpenSSL 1.0.1 to
1.0.1f), offering the heartbeat extension (RFC 6520); then a heartbeat_request that declares 16 KiB of payload but
carries 16 bytes, and a handshake message no server expects, both right behind the hello (the server reads them
once its flight is out, as it would after waiting for it; see ``react_at_baseline``). A fixed server discards the
heartbeat and answers the second record with an alert; a vulnerable one first answers the heartbeat with 16 KiB
copied from its memory. Reading stops at that alert or at the heartbeat response, so nothing waits for a timeout.
References: CVE-2014-0160, RFC 6520 §4.
"""

from __future__ import annotations

from typing import ClassVar, final

import attrs

from tlsprobe._probing._context import ServerContext
from tlsprobe._probing._conversation import Conversation
from tlsprobe.checks._tls12_baseline import react_at_baseline
from tlsprobe.wire import ContentType, encode_record
from tlsprobe.wire._heartbeat import HeartbeatMessageType, heartbeat_request, parse_heartbeat
from tlsprobe.wire._random import nonce_bytes
from tlsprobe.wire._reactions import ServerReaction
from tlsprobe.wire._versions import TLSVersion

_SENT_PAYLOAD_LENGTH = 16
_DECLARED_PAYLOAD_LENGTH = 0x4000
# A handshake message of a type no version defines: every server answers it with an alert.
_UNEXPECTED_HANDSHAKE_MESSAGE = b"\xfe\x00\x00\x00"


@final
@attrs.frozen(kw_only=True)
class HeartbleedResult:
    """Whether the server leaks memory through heartbeats."""

    vulnerable: bool
    """It answered a heartbeat request that claimed more payload than it carried."""
    leaked_bytes: int
    """Bytes returned beyond the 16 the request carried (0 when not vulnerable)."""
    tested_version: TLSVersion
    """The version the probe negotiated."""
    server_reaction: str
    """What the server did after the request, e.g. ``alert unexpected_message, fatal_alert``."""


def interpret_heartbleed(reaction: ServerReaction) -> int:
    """Bytes leaked: what a heartbeat response returned beyond the payload sent (0 when none came back)."""
    for record in reaction.records:
        if record.content_type != ContentType.heartbeat:
            continue
        try:
            message = parse_heartbeat(record.payload)
        except ValueError:
            continue
        if message.message_type == HeartbeatMessageType.heartbeat_response:
            return max(0, message.declared_length - _SENT_PAYLOAD_LENGTH)
    return 0


def _records(version: TLSVersion) -> bytes:
    request = heartbeat_request(nonce_bytes(_SENT_PAYLOAD_LENGTH), declared_length=_DECLARED_PAYLOAD_LENGTH)
    return encode_record(ContentType.heartbeat, version.wire_code, request) + encode_record(
        ContentType.handshake, version.wire_code, _UNEXPECTED_HANDSHAKE_MESSAGE
    )


async def _read(conversation: Conversation) -> ServerReaction:
    return await conversation.reaction(stop=lambda record: record.content_type == ContentType.heartbeat)


@final
@attrs.frozen(kw_only=True)
class HeartbleedCheck:
    """Heartbleed (CVE-2014-0160)."""

    result_type: ClassVar[type] = HeartbleedResult

    @property
    def name(self) -> str:
        """``heartbleed``."""
        return "heartbleed"

    async def run(self, server: ServerContext) -> HeartbleedResult:
        """Send the oversized heartbeat request mid-handshake and read what comes back."""
        version, reaction = await react_at_baseline(server, _records, _read, heartbeat=True)
        leaked = interpret_heartbleed(reaction)
        return HeartbleedResult(
            vulnerable=leaked > 0, leaked_bytes=leaked, tested_version=version, server_reaction=reaction.summary()
        )
