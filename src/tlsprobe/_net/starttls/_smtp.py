"""SMTP STARTTLS (RFC 3207): greeting 220, ``EHLO`` answered 250, ``STARTTLS`` answered 220."""

from __future__ import annotations

import enum

from tlsprobe._net._negotiation import quote
from tlsprobe._net.starttls._lines import NumberedReplies


class _State(enum.Enum):
    GREETING = enum.auto()
    EHLO = enum.auto()
    STARTTLS = enum.auto()


class SMTPNegotiator(NumberedReplies):
    """The client's side of an SMTP upgrade; the server speaks first."""

    protocol = "SMTP"

    def __init__(self, ehlo_name: str) -> None:
        super().__init__()
        self._ehlo_name = ehlo_name
        self._state = _State.GREETING

    def start(self) -> bytes:
        return b""

    def _advance(self) -> bytes:
        reply = self.take_reply()
        if reply is None:
            return b""
        code, text = reply
        if self._state is _State.GREETING:
            if code != 220:
                raise self.error_class(f"SMTP: the server refused the session: {quote(text)}")
            self._state = _State.EHLO
            return f"EHLO {self._ehlo_name}\r\n".encode("ascii")
        if self._state is _State.EHLO:
            if code != 250:
                raise self.error_class(f"SMTP: the server refused EHLO {self._ehlo_name}: {quote(text)}")
            self._state = _State.STARTTLS
            return b"STARTTLS\r\n"
        if code != 220:
            raise self.error_class(f"SMTP: the server refused STARTTLS: {quote(text)}")
        self.done = True
        return b""
