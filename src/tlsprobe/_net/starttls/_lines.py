"""Reply framing shared by the line-based protocols: SMTP and FTP numbered replies."""

from __future__ import annotations

import re

from tlsprobe._net._negotiation import Negotiator, quote

_NUMBERED = re.compile(rb"^(\d{3})([ -]?)(.*)$")


class NumberedReplies(Negotiator):
    """SMTP (RFC 5321 4.2) and FTP (RFC 959 4.2) replies: ``250-first``... ``250 last``, one code for all lines."""

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[bytes] = []
        self._code: bytes | None = None

    def take_reply(self) -> tuple[int, bytes] | None:
        """The next complete reply as (code, all its lines), or None until it has arrived."""
        while (line := self.take_line()) is not None:
            self._lines.append(line)
            match = _NUMBERED.match(line)
            if self._code is None:
                if match is None:
                    raise self.error_class(
                        f"{self.protocol}: the server's reply is not a {self.protocol} reply: {quote(line)}"
                    )
                self._code = match[1]
            # FTP lets the lines between the first and the last be free text; only "<code> " ends a reply.
            if match is not None and match[1] == self._code and match[2] != b"-":
                code, reply = int(self._code), b"\n".join(self._lines)
                self._lines, self._code = [], None
                self.last_reply = reply
                return code, reply
        return None
