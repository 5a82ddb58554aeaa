"""LDAP StartTLS (RFC 4511 4.14, RFC 4513 3): an ExtendedRequest named 1.3.6.1.4.1.1466.20037, answered by an
ExtendedResponse whose resultCode is success (0). The few BER structures involved are read by hand."""

from __future__ import annotations

from tlsprobe._net._negotiation import Negotiator, quote

_STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"
_NOTICE_OF_DISCONNECTION_OID = b"1.3.6.1.4.1.1466.20036"
_EXTENDED_RESPONSE = 0x78  # [APPLICATION 24], constructed
_RESULT_NAMES = {
    1: "operationsError",
    2: "protocolError",
    3: "timeLimitExceeded",
    7: "authMethodNotSupported",
    8: "strongerAuthRequired",
    12: "unavailableCriticalExtension",
    13: "confidentialityRequired",
    51: "busy",
    52: "unavailable",
    53: "unwillingToPerform",
    80: "other",
}


def _tlv(tag: int, value: bytes) -> bytes:
    length = len(value)
    encoded = bytes([length]) if length < 0x80 else bytes([0x81, length])  # our messages stay below 256 bytes
    return bytes([tag]) + encoded + value


# LDAPMessage { messageID 1, extendedReq [APPLICATION 23] { requestName [0] "1.3.6.1.4.1.1466.20037" } }
STARTTLS_REQUEST = _tlv(0x30, _tlv(0x02, b"\x01") + _tlv(0x77, _tlv(0x80, _STARTTLS_OID)))


class _BERError(ValueError):
    pass


def _read_tlv(data: bytes, offset: int) -> tuple[int, bytes, int] | None:
    """(tag, value, offset after it), or None when ``data`` ends before the element does."""
    if offset + 2 > len(data):
        return None
    tag, first = data[offset], data[offset + 1]
    offset += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise _BERError(f"unsupported BER length form 0x{first:02x}")
        if offset + count > len(data):
            return None
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    if offset + length > len(data):
        return None
    return tag, data[offset : offset + length], offset + length


class LDAPNegotiator(Negotiator):
    """The client's side of an LDAP upgrade; the client speaks first."""

    protocol = "LDAP"

    def start(self) -> bytes:
        return STARTTLS_REQUEST

    def _advance(self) -> bytes:
        data = self.peek()
        try:
            if data[:1] != b"\x30":  # say so at once rather than wait for a length that garbage made up
                raise _BERError("not an LDAPMessage")
            message = _read_tlv(data, 0)
            if message is None:
                return b""
            _, body, end = message
            self.take_bytes(end)
            self.last_reply = data[:end]
            result_code, diagnostic, name = _extended_response(body)
        except _BERError as error:
            raise self.error_class(f"LDAP: the server's answer to StartTLS is not an LDAP response ({error}): "
                                   f"{quote(data[:200])}") from None  # fmt: skip
        if result_code == 0 and name != _NOTICE_OF_DISCONNECTION_OID:
            self.done = True
            return b""
        reason = _RESULT_NAMES.get(result_code, "error")
        said = f", {quote(diagnostic)}" if diagnostic else ""
        if name == _NOTICE_OF_DISCONNECTION_OID:
            raise self.error_class(f"LDAP: the server disconnected: {reason} ({result_code}){said}")
        raise self.error_class(f"LDAP: the server refused StartTLS: {reason} ({result_code}){said}")


def _extended_response(body: bytes) -> tuple[int, bytes, bytes | None]:
    """(resultCode, diagnosticMessage, responseName) of an LDAPMessage body holding an ExtendedResponse."""
    message_id = _read_tlv(body, 0)
    if message_id is None or message_id[0] != 0x02:
        raise _BERError("no messageID")
    operation = _read_tlv(body, message_id[2])
    if operation is None or operation[0] != _EXTENDED_RESPONSE:
        raise _BERError(f"not an ExtendedResponse (tag 0x{operation[0] if operation else 0:02x})")
    fields = operation[1]
    result = _read_tlv(fields, 0)
    matched = _read_tlv(fields, result[2]) if result else None
    diagnostic = _read_tlv(fields, matched[2]) if matched else None
    if result is None or result[0] != 0x0A or not result[1] or diagnostic is None:
        raise _BERError("no LDAPResult")
    name: bytes | None = None
    offset = diagnostic[2]
    while (element := _read_tlv(fields, offset)) is not None:
        if element[0] == 0x8A:  # responseName [10]
            name = element[1]
        offset = element[2]
    return int.from_bytes(result[1], "big", signed=True), diagnostic[1], name
