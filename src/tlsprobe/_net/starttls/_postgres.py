"""PostgreSQL ``SSLRequest`` (protocol 3, 53.2.10): eight bytes sent, one byte back: ``S`` yes, ``N`` no."""

from __future__ import annotations

import struct

from tlsprobe._net._negotiation import Negotiator, quote

_SSL_REQUEST_CODE = 80877103  # 1234 << 16 | 5679


class PostgresNegotiator(Negotiator):
    """The client's side of a PostgreSQL upgrade; the client speaks first."""

    protocol = "PostgreSQL"

    def start(self) -> bytes:
        return struct.pack(">II", 8, _SSL_REQUEST_CODE)

    def _advance(self) -> bytes:
        answer = self.take_bytes(1)
        if answer is None:
            return b""
        self.last_reply = answer
        if answer == b"S":
            self.done = True
            return b""
        if answer == b"N":
            raise self.error_class("PostgreSQL: the server does not accept TLS (it answered 'N' to SSLRequest)")
        if answer == b"E":
            # A server too old to know SSLRequest sends an ErrorResponse and hangs up.
            raise self.error_class(f"PostgreSQL: the server answered SSLRequest with an error: {quote(self.peek())}")
        raise self.error_class(f"PostgreSQL: the server's answer to SSLRequest is not S or N: {quote(answer)}")
