"""POP3 ``STLS`` (RFC 2595 4): greeting ``+OK``, ``STLS`` answered ``+OK``."""

from __future__ import annotations

from tlsprobe._net._negotiation import Negotiator, quote


class POP3Negotiator(Negotiator):
    """The client's side of a POP3 upgrade; the server speaks first."""

    protocol = "POP3"

    def __init__(self) -> None:
        super().__init__()
        self._greeted = False

    def start(self) -> bytes:
        return b""

    def _advance(self) -> bytes:
        line = self.take_line()
        if line is None:
            return b""
        self.last_reply = line
        if not line.startswith((b"+OK", b"-ERR")):
            raise self.error_class(f"POP3: the server's reply is not a POP3 reply: {quote(line)}")
        if not self._greeted:
            if not line.startswith(b"+OK"):
                raise self.error_class(f"POP3: the server refused the session: {quote(line)}")
            self._greeted = True
            return b"STLS\r\n"
        if not line.startswith(b"+OK"):
            raise self.error_class(f"POP3: the server refused STLS: {quote(line)}")
        self.done = True
        return b""
