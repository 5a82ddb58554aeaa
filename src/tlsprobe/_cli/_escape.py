"""Server-controlled text made safe for a terminal.

A certificate subject, an HTTP header or an alert message comes from the server: printed raw, its control
characters can move the cursor, clear the screen, set the window title (OSC) or recolour the report, and a
bidirectional override can make ``TRUSTED`` out of ``DETSURT``. Every such string goes through ``escape``
before it reaches the terminal; JSON output keeps the exact text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# C0 and C1 controls, DEL, and the invisible format characters that reorder or hide text: bidi embeddings,
# overrides and isolates, marks, zero-width characters, the BOM.
_UNSAFE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_NAMED: Final = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}


def _code(character: str) -> str:
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _escaped(match: re.Match[str]) -> str:
    character = match.group()
    return _NAMED.get(character) or _code(character)


def escape(text: str) -> str:
    """``text`` with every control and invisible format character written as a visible escape (``\\x1b``,
    ``\\u202e``); printable text, accents and scripts included, is unchanged. The result is printable, so
    escaping it again changes nothing: a report may escape a line whose parts were escaped already."""
    escaped = _UNSAFE.sub(_escaped, text)
    if escaped.isprintable():
        return escaped
    # Anything else Unicode calls unprintable (unassigned, private use, other format characters).
    return "".join(_code(c) if not c.isprintable() and unicodedata.category(c) != "Zs" else c for c in escaped)
