"""The IANA "TLS Application-Layer Protocol Negotiation (ALPN) Protocol IDs" registry, as data.

References: RFC 7301 (ALPN) and the registry's entries (HTTP: RFC 9112, 9113, 9114; SPDY drafts; STUN RFC 7443;
WebRTC RFC 8833; FTP/IMAP/POP3/ManageSieve RFC 959, 4217, 2595, 5804; CoAP RFC 8323; XMPP XEP-0368; ACME
RFC 8737; MQTT; DNS over TLS RFC 7858 and over QUIC RFC 9250; NTS RFC 8915; SunRPC RFC 9289; SMB; IRC; NNTP
RFC 4642; SIP; TDS 8.0; DICOM; PostgreSQL; RADIUS RFC 9765).
"""

from __future__ import annotations

ALPN_PROTOCOL_IDS: tuple[str, ...] = (
    "http/1.1",
    "h2",
    "h3",
    "http/1.0",
    "http/0.9",
    "spdy/1",
    "spdy/2",
    "spdy/3",
    "h2c",
    "stun.turn",
    "stun.nat-discovery",
    "webrtc",
    "c-webrtc",
    "ftp",
    "imap",
    "pop3",
    "managesieve",
    "coap",
    "xmpp-client",
    "xmpp-server",
    "acme-tls/1",
    "mqtt",
    "dot",
    "doq",
    "ntske/1",
    "sunrpc",
    "smb",
    "irc",
    "nntp",
    "nnsp",
    "sip/2",
    "tds/8.0",
    "dicom",
    "postgresql",
    "radius/1.0",
    "radius/1.1",
)
"""Every registered protocol ID, the widely deployed ones first."""
