"""Two protections a TLS <= 1.2 ServerHello shows as extensions: the extended master secret and secure
renegotiation.

- Extended master secret (RFC 7627): binds the master secret to the whole handshake, against triple-handshake
  attacks (CVE-2014-1295). Supported when the ServerHello echoes the ``extended_master_secret`` extension.
- Secure renegotiation (RFC 5746): against renegotiation injection (CVE-2009-3555). Supported when the ServerHello
  carries ``renegotiation_info``.

How: read the shared TLS <= 1.2 baseline hello, which offers both. Connections: none of their own (the baseline:
one, shared). Servers that also speak TLS 1.3 are still tested below it, never assumed safe.
"""

from __future__ import annotations

from typing import ClassVar, final

import attrs

from tlsprobe._exceptions import CheckNotApplicable
from tlsprobe._probing._context import ServerContext
from tlsprobe.checks._tls12_baseline import tls12_baseline
from tlsprobe.wire import ExtensionType
from tlsprobe.wire._versions import TLSVersion


@final
@attrs.frozen(kw_only=True)
class ExtendedMasterSecretResult:
    """Whether the server supports the extended master secret."""

    supports_extended_master_secret: bool
    """The ServerHello echoed ``extended_master_secret``."""
    tested_version: TLSVersion
    """The protocol version of the hello."""


@final
@attrs.frozen(kw_only=True)
class ExtendedMasterSecretCheck:
    """Extended master secret (RFC 7627)."""

    result_type: ClassVar[type] = ExtendedMasterSecretResult

    @property
    def name(self) -> str:
        """``extended_master_secret``."""
        return "extended_master_secret"

    async def run(self, server: ServerContext) -> ExtendedMasterSecretResult:
        """Read the shared baseline hello."""
        answer = await tls12_baseline(server)
        if answer.version is TLSVersion.SSL3:
            raise CheckNotApplicable("the extended master secret is defined for TLS; the server speaks SSL 3.0 only")
        assert answer.server_hello is not None
        return ExtendedMasterSecretResult(
            supports_extended_master_secret=answer.server_hello.extension(ExtensionType.extended_master_secret)
            is not None,
            tested_version=answer.version,
        )


@final
@attrs.frozen(kw_only=True)
class SecureRenegotiationResult:
    """Whether the server supports RFC 5746 secure renegotiation."""

    supports_secure_renegotiation: bool
    """The ServerHello carried ``renegotiation_info``."""
    tested_version: TLSVersion
    """The protocol version of the hello."""


@final
@attrs.frozen(kw_only=True)
class SecureRenegotiationCheck:
    """Secure renegotiation (RFC 5746)."""

    result_type: ClassVar[type] = SecureRenegotiationResult

    @property
    def name(self) -> str:
        """``secure_renegotiation``."""
        return "secure_renegotiation"

    async def run(self, server: ServerContext) -> SecureRenegotiationResult:
        """Read the shared baseline hello."""
        answer = await tls12_baseline(server)
        assert answer.server_hello is not None
        return SecureRenegotiationResult(
            supports_secure_renegotiation=answer.server_hello.extension(ExtensionType.renegotiation_info) is not None,
            tested_version=answer.version,
        )
