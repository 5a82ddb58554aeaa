"""TLS compression (CRIME, CVE-2012-4929): does the server agree to compress the connection?

How: the shared TLS <= 1.2 baseline hello offers DEFLATE and no compression; a server that picks DEFLATE would
compress. Connections: none of its own (the baseline: one, shared with other checks). TLS 1.3 has no compression.
References: RFC 3749 (DEFLATE for TLS), CVE-2012-4929.
"""

from __future__ import annotations

from typing import ClassVar, final

import attrs

from tlsprobe._probing._context import ServerContext
from tlsprobe.checks._tls12_baseline import tls12_baseline
from tlsprobe.wire._versions import TLSVersion


@final
@attrs.frozen(kw_only=True)
class CompressionResult:
    """Whether the server compresses TLS records."""

    supports_compression: bool
    """The server chose a compression method other than none."""
    compression_method: int
    """The method it chose (0 none, 1 DEFLATE)."""
    tested_version: TLSVersion
    """The protocol version of the hello."""


@final
@attrs.frozen(kw_only=True)
class CompressionCheck:
    """TLS compression (CRIME)."""

    result_type: ClassVar[type] = CompressionResult

    @property
    def name(self) -> str:
        """``tls_compression``."""
        return "tls_compression"

    async def run(self, server: ServerContext) -> CompressionResult:
        """Read the compression method of the shared baseline hello."""
        answer = await tls12_baseline(server)
        assert answer.server_hello is not None  # a baseline is never a HelloRetryRequest (below TLS 1.3)
        method = answer.server_hello.compression_method
        return CompressionResult(
            supports_compression=method != 0, compression_method=method, tested_version=answer.version
        )
