"""FTP ``AUTH TLS`` (RFC 4217): greeting 220 (after any 1xx), ``AUTH TLS`` answered 234."""

from __future__ import annotations

from tlsprobe._net._negotiation import quote
from tlsprobe._net.starttls._lines import NumberedReplies


class FTPNegotiator(NumberedReplies):
    """The client's side of an FTP upgrade; the server speaks first."""

    protocol = "FTP"

    def __init__(self) -> None:
        super().__init__()
        self._greeted = False

    def start(self) -> bytes:
        return b""

    def _advance(self) -> bytes:
        while (reply := self.take_reply()) is not None:
            code, text = reply
            if 100 <= code < 200:
                continue  # preliminary ("120 ready in 5 minutes"): the real reply follows
            if not self._greeted:
                if code != 220:
                    raise self.error_class(f"FTP: the server refused the session: {quote(text)}")
                self._greeted = True
                return b"AUTH TLS\r\n"
            if code != 234:
                raise self.error_class(f"FTP: the server refused AUTH TLS: {quote(text)}")
            self.done = True
            return b""
        return b""
