"""Protocol versions as they appear on the wire."""

from __future__ import annotations

import enum


class TLSVersion(enum.Enum):
    """A protocol version. The value is the name used in JSON and on the command line."""

    SSL2 = "ssl2"
    SSL3 = "ssl3"
    TLS1_0 = "tls1_0"
    TLS1_1 = "tls1_1"
    TLS1_2 = "tls1_2"
    TLS1_3 = "tls1_3"

    @property
    def wire_code(self) -> int:
        """The two-byte version number sent on the wire (SSL 2.0 is 0x0002)."""
        return _WIRE_CODES[self]

    @property
    def label(self) -> str:
        """Human-readable name, e.g. ``TLS 1.2``."""
        return _LABELS[self]

    @classmethod
    def from_wire_code(cls, code: int) -> TLSVersion:
        """The version for a wire code; raises ``ValueError`` for an unknown one."""
        for version, version_code in _WIRE_CODES.items():
            if version_code == code:
                return version
        raise ValueError(f"unknown protocol version 0x{code:04x}")

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, TLSVersion):
            return NotImplemented
        return _ORDER.index(self) < _ORDER.index(other)

    def __le__(self, other: object) -> bool:
        if not isinstance(other, TLSVersion):
            return NotImplemented
        return _ORDER.index(self) <= _ORDER.index(other)

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, TLSVersion):
            return NotImplemented
        return _ORDER.index(self) > _ORDER.index(other)

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, TLSVersion):
            return NotImplemented
        return _ORDER.index(self) >= _ORDER.index(other)


_ORDER = list(TLSVersion)
_WIRE_CODES = {
    TLSVersion.SSL2: 0x0002,
    TLSVersion.SSL3: 0x0300,
    TLSVersion.TLS1_0: 0x0301,
    TLSVersion.TLS1_1: 0x0302,
    TLSVersion.TLS1_2: 0x0303,
    TLSVersion.TLS1_3: 0x0304,
}
_LABELS = {
    TLSVersion.SSL2: "SSL 2.0",
    TLSVersion.SSL3: "SSL 3.0",
    TLSVersion.TLS1_0: "TLS 1.0",
    TLSVersion.TLS1_1: "TLS 1.1",
    TLSVersion.TLS1_2: "TLS 1.2",
    TLSVersion.TLS1_3: "TLS 1.3",
}
