"""Numeric constants of the TLS wire format: content types, handshake types, alerts and extensions.

References: RFC 8446 (TLS 1.3) §4, §4.1.3, §6 and appendix B; RFC 5246 (TLS 1.2) §7.2 for the legacy alerts;
RFC 6066 (TLS extensions); RFC 6520 (heartbeat); RFC 6961/6962; RFC 7301 (ALPN); RFC 7366/7627/7685/8449/8879;
RFC 5746 (renegotiation_info); draft-ietf-tls-esni (encrypted_client_hello).
"""

from __future__ import annotations

import enum
import hashlib


class ContentType(enum.IntEnum):
    """Record-layer content types (RFC 8446 §5.1, RFC 6520 for heartbeat)."""

    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23
    heartbeat = 24


class HandshakeType(enum.IntEnum):
    """Handshake message types (RFC 8446 §4, RFC 5246 §7.4, RFC 6066 §8 for certificate_status)."""

    hello_request = 0
    client_hello = 1
    server_hello = 2
    new_session_ticket = 4
    end_of_early_data = 5
    encrypted_extensions = 8
    certificate = 11
    server_key_exchange = 12
    certificate_request = 13
    server_hello_done = 14
    certificate_verify = 15
    client_key_exchange = 16
    finished = 20
    certificate_status = 22
    key_update = 24
    message_hash = 254


class AlertLevel(enum.IntEnum):
    """Alert levels (RFC 5246 §7.2)."""

    warning = 1
    fatal = 2


class AlertDescription(enum.IntEnum):
    """Alert descriptions of RFC 8446 §6 together with the ones earlier versions defined."""

    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    decryption_failed = 21
    record_overflow = 22
    decompression_failure = 30
    handshake_failure = 40
    no_certificate = 41
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    export_restriction = 60
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    inappropriate_fallback = 86
    user_canceled = 90
    no_renegotiation = 100
    missing_extension = 109
    unsupported_extension = 110
    certificate_unobtainable = 111
    unrecognized_name = 112
    bad_certificate_status_response = 113
    bad_certificate_hash_value = 114
    unknown_psk_identity = 115
    certificate_required = 116
    no_application_protocol = 120


class ExtensionType(enum.IntEnum):
    """The extension types tlsprobe sends or reads (IANA TLS ExtensionType Values)."""

    server_name = 0
    max_fragment_length = 1
    status_request = 5
    supported_groups = 10
    ec_point_formats = 11
    signature_algorithms = 13
    heartbeat = 15
    application_layer_protocol_negotiation = 16
    signed_certificate_timestamp = 18
    padding = 21
    encrypt_then_mac = 22
    extended_master_secret = 23
    compress_certificate = 27
    record_size_limit = 28
    session_ticket = 35
    pre_shared_key = 41
    early_data = 42
    supported_versions = 43
    cookie = 44
    psk_key_exchange_modes = 45
    certificate_authorities = 47
    post_handshake_auth = 49
    signature_algorithms_cert = 50
    key_share = 51
    renegotiation_info = 0xFF01
    encrypted_client_hello = 0xFE0D


HRR_RANDOM = hashlib.sha256(b"HelloRetryRequest").digest()
"""The ServerHello.random that marks a HelloRetryRequest (RFC 8446 §4.1.3)."""

CHANGE_CIPHER_SPEC_PAYLOAD = b"\x01"
"""The one byte of a ChangeCipherSpec record (RFC 5246 §7.1)."""

DOWNGRADE_TLS12 = b"DOWNGRD\x01"
"""Last 8 bytes of ServerHello.random of a TLS 1.3 server negotiating TLS 1.2 (RFC 8446 §4.1.3)."""

DOWNGRADE_TLS11 = b"DOWNGRD\x00"
"""Last 8 bytes of ServerHello.random of a TLS 1.3 server negotiating TLS 1.1 or below (RFC 8446 §4.1.3)."""
