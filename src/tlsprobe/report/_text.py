"""Text made safe for HTML: every string a server controls goes through ``text`` (element content) or ``attr``
(attribute values) and nowhere else.

``html.escape`` with ``quote=True`` stops markup; it does not stop what a browser shows without markup: control
characters are invisible, and a bidirectional override turns ``DETSURT`` into ``TRUSTED`` on screen. Those are
written as visible escapes first (``\\x1b``, ``\\u202e``), the way the terminal report shows them.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Final

# C0 and C1 controls, DEL, and the invisible format characters that reorder or hide text: bidi embeddings,
# overrides and isolates, marks, zero-width characters, the BOM.
_INVISIBLE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)


def _code(character: str) -> str:
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(value: object) -> str:
    """``str(value)`` with every control, invisible or unprintable character written as a visible escape."""
    shown = _INVISIBLE.sub(lambda match: _code(match.group()), str(value))
    if shown.isprintable():
        return shown
    return "".join(c if c.isprintable() or unicodedata.category(c) == "Zs" else _code(c) for c in shown)


def text(value: object) -> str:
    """``value`` as element content: visible, then HTML-escaped (quotes too, so it is also safe in attributes)."""
    return html.escape(visible(value), quote=True)


def attr(value: object) -> str:
    """``value`` as a double-quoted attribute value (the quotes included)."""
    return f'"{text(value)}"'
