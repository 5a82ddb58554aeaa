"""IMAP ``STARTTLS`` (RFC 3501 6.2.1): greeting ``* OK``, ``STARTTLS`` answered by a tagged ``OK``."""

from __future__ import annotations

from tlsprobe._net._negotiation import Negotiator, quote

_TAG = b"tp1"


class IMAPNegotiator(Negotiator):
    """The client's side of an IMAP upgrade; the server speaks first."""

    protocol = "IMAP"

    def __init__(self) -> None:
        super().__init__()
        self._greeted = False

    def start(self) -> bytes:
        return b""

    def _advance(self) -> bytes:
        while (line := self.take_line()) is not None:
            self.last_reply = line
            if not self._greeted:
                if line.upper().startswith(b"* OK"):
                    self._greeted = True
                    return _TAG + b" STARTTLS\r\n"
                if line.upper().startswith((b"* BYE", b"* PREAUTH")):
                    # PREAUTH: already authenticated, where STARTTLS is no longer allowed.
                    raise self.error_class(f"IMAP: the server refused the session: {quote(line)}")
                raise self.error_class(f"IMAP: the server's greeting is not an IMAP greeting: {quote(line)}")
            if line.startswith(b"* "):
                if line.upper().startswith(b"* BYE"):
                    raise self.error_class(f"IMAP: the server refused STARTTLS: {quote(line)}")
                continue  # untagged data, e.g. a CAPABILITY list
            if line.startswith(_TAG + b" "):
                if line[len(_TAG) + 1 :].upper().startswith(b"OK"):
                    self.done = True
                    return b""
                raise self.error_class(f"IMAP: the server refused STARTTLS: {quote(line)}")
            raise self.error_class(f"IMAP: unexpected reply to STARTTLS: {quote(line)}")
        return b""
