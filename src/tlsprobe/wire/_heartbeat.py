"""Heartbeat messages (RFC 6520 §4), the instrument of the Heartbleed probe (CVE-2014-0160).

A HeartbeatMessage is a type, a declared payload length, the payload and at least 16 bytes of padding. A server
must discard a request whose declared length exceeds what it carries; OpenSSL 1.0.1 to 1.0.1f instead copied the
declared length from its memory, past the request, into its response.
"""

from __future__ import annotations

import enum

import attrs

from tlsprobe.wire._random import nonce_bytes

MIN_PADDING_LENGTH = 16
_HEADER_LENGTH = 3


class HeartbeatMessageType(enum.IntEnum):
    """RFC 6520 §3."""

    heartbeat_request = 1
    heartbeat_response = 2


def heartbeat_request(payload: bytes, *, declared_length: int | None = None) -> bytes:
    """A heartbeat_request carrying ``payload`` that claims ``declared_length`` bytes (default: the truth)."""
    length = len(payload) if declared_length is None else declared_length
    if not 0 <= length <= 0xFFFF:
        raise ValueError(f"declared heartbeat payload length {length} does not fit in two bytes")
    header = bytes((HeartbeatMessageType.heartbeat_request,)) + length.to_bytes(2, "big")
    return header + payload + nonce_bytes(MIN_PADDING_LENGTH)


@attrs.frozen(kw_only=True)
class HeartbeatMessage:
    """A received heartbeat message."""

    message_type: int
    """1 request, 2 response."""
    declared_length: int
    """The payload length the message claims."""
    content: bytes
    """Everything after the header: payload then padding."""


def parse_heartbeat(record_payload: bytes) -> HeartbeatMessage:
    """Read the heartbeat message of one heartbeat record; ``ValueError`` when it is too short to be one."""
    if len(record_payload) < _HEADER_LENGTH:
        raise ValueError(f"heartbeat message of {len(record_payload)} bytes is shorter than its header")
    return HeartbeatMessage(
        message_type=record_payload[0],
        declared_length=int.from_bytes(record_payload[1:3], "big"),
        content=record_payload[_HEADER_LENGTH:],
    )
