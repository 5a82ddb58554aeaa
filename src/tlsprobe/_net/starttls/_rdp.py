"""RDP's move to TLS (MS-RDPBCGR 2.2.1.1-2.2.1.2): an X.224 Connection Request carrying an RDP Negotiation
Request for TLS (PROTOCOL_SSL | PROTOCOL_HYBRID), answered by a Connection Confirm whose RDP Negotiation Response
selects a protocol that starts with a TLS handshake, or by an RDP Negotiation Failure."""

from __future__ import annotations

import struct

from tlsprobe._net._negotiation import Negotiator, quote

_PROTOCOL_SSL = 0x1
_PROTOCOL_HYBRID = 0x2
_PROTOCOL_HYBRID_EX = 0x8
_TLS_PROTOCOLS = {_PROTOCOL_SSL: "TLS", _PROTOCOL_HYBRID: "CredSSP", _PROTOCOL_HYBRID_EX: "CredSSP (early auth)"}
_FAILURES = {
    1: "SSL_REQUIRED_BY_SERVER",
    2: "SSL_NOT_ALLOWED_BY_SERVER",
    3: "SSL_CERT_NOT_ON_SERVER",
    4: "INCONSISTENT_FLAGS",
    5: "HYBRID_REQUIRED_BY_SERVER",
    6: "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
}
_NEGOTIATION_REQUEST = struct.pack("<BBHI", 0x01, 0, 8, _PROTOCOL_SSL | _PROTOCOL_HYBRID)
# X.224 Connection Request: length indicator, CR code 0xE0, destination and source references, class 0.
_X224_REQUEST = bytes([6 + len(_NEGOTIATION_REQUEST), 0xE0, 0, 0, 0, 0, 0]) + _NEGOTIATION_REQUEST
CONNECTION_REQUEST = struct.pack(">BBH", 3, 0, 4 + len(_X224_REQUEST)) + _X224_REQUEST


class RDPNegotiator(Negotiator):
    """The client's side of the RDP security negotiation; the client speaks first."""

    protocol = "RDP"

    def start(self) -> bytes:
        return CONNECTION_REQUEST

    def _advance(self) -> bytes:
        header = self.peek()[:4]
        if len(header) < 4:
            return b""
        version, _, length = struct.unpack(">BBH", header)
        if version != 3 or length < 11:
            raise self.error_class(f"RDP: the server's answer is not an X.224 Connection Confirm: {quote(header)}")
        packet = self.take_bytes(length)
        if packet is None:
            return b""
        self.last_reply = packet
        if packet[5] & 0xF0 != 0xD0:
            raise self.error_class(f"RDP: the server's answer is not an X.224 Connection Confirm: {packet.hex()}")
        if length < 19:
            raise self.error_class("RDP: the server only offers standard RDP security, without TLS")
        kind, _, _, value = struct.unpack("<BBHI", packet[11:19])
        if kind == 0x02 and value in _TLS_PROTOCOLS:
            self.done = True
            return b""
        if kind == 0x02:
            raise self.error_class(f"RDP: the server chose protocol 0x{value:x}, which does not start with TLS")
        if kind == 0x03:
            reason = _FAILURES.get(value, f"code {value}")
            raise self.error_class(f"RDP: the server refused TLS: RDP Negotiation Failure {reason}")
        raise self.error_class(f"RDP: unexpected negotiation data in the server's answer: {packet[11:].hex()}")
