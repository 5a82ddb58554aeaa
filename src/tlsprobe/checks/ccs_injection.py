"""OpenSSL CCS injection (CVE-2014-0224): does the server accept a ChangeCipherSpec before the key exchange?

How: one connection. A ClientHello at the highest version from SSL 3.0 to TLS 1.2 the server accepts (servers
that also speak TLS 1.3 are tested below it), then, before any key exchange, a ChangeCipherSpec followed by a
record that looks encrypted (sent right behind the hello: a server reads them once its flight is out, where it
would have after waiting for that flight; see ``react_at_baseline``). A correct server refuses the early
ChangeCipherSpec at once (usually with an unexpected_message alert). OpenSSL before 1.0.1h, 1.0.0m and 0.9.8za
accepted it and switched to keys derived from an empty master secret, so it fails to decrypt the next record and
answers bad_record_mac (or decryption_failed): that answer is the evidence. The reading stops at the first fatal alert.
References: CVE-2014-0224, RFC 5246 §7.1.
"""

from __future__ import annotations

from typing import ClassVar, final

import attrs

from tlsprobe._probing._context import ServerContext
from tlsprobe._probing._conversation import Conversation
from tlsprobe.checks._tls12_baseline import react_at_baseline
from tlsprobe.wire import CHANGE_CIPHER_SPEC_PAYLOAD, AlertDescription, ContentType, encode_record
from tlsprobe.wire._random import nonce_bytes
from tlsprobe.wire._reactions import ServerReaction
from tlsprobe.wire._versions import TLSVersion

_FAKE_ENCRYPTED_LENGTH = 48
_DECRYPTION_FAILURES = frozenset({AlertDescription.bad_record_mac, AlertDescription.decryption_failed})


@final
@attrs.frozen(kw_only=True)
class CCSInjectionResult:
    """Whether the server takes a ChangeCipherSpec before the keys exist."""

    vulnerable: bool
    """It accepted the early ChangeCipherSpec (shown by a decryption failure on the next record)."""
    tested_version: TLSVersion
    """The version the probe negotiated."""
    server_reaction: str
    """What the server did, e.g. ``alert unexpected_message, fatal_alert``."""


def interpret_ccs_injection(reaction: ServerReaction) -> bool:
    """Vulnerable when the first fatal alert says the record after the early ChangeCipherSpec did not decrypt."""
    alert = reaction.fatal_alert
    return alert is not None and alert.description in _DECRYPTION_FAILURES


def _records(version: TLSVersion) -> bytes:
    return encode_record(ContentType.change_cipher_spec, version.wire_code, CHANGE_CIPHER_SPEC_PAYLOAD) + encode_record(
        ContentType.handshake, version.wire_code, nonce_bytes(_FAKE_ENCRYPTED_LENGTH)
    )


async def _read(conversation: Conversation) -> ServerReaction:
    return await conversation.reaction()


@final
@attrs.frozen(kw_only=True)
class CCSInjectionCheck:
    """OpenSSL CCS injection (CVE-2014-0224)."""

    result_type: ClassVar[type] = CCSInjectionResult

    @property
    def name(self) -> str:
        """``openssl_ccs_injection``."""
        return "openssl_ccs_injection"

    async def run(self, server: ServerContext) -> CCSInjectionResult:
        """Send the early ChangeCipherSpec and read how the server takes it."""
        version, reaction = await react_at_baseline(server, _records, _read)
        return CCSInjectionResult(
            vulnerable=interpret_ccs_injection(reaction), tested_version=version, server_reaction=reaction.summary()
        )
