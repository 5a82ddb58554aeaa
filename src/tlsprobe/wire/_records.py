"""The TLS record layer, sans-I/O: framing of outgoing records and a bounded reader of incoming ones.

Also holds the bounds-checked decoder that every parser of this package reads TLS structures with, so that
hostile bytes end in ``MalformedServerResponseError`` and nothing else.
References: RFC 8446 §5.1-§5.2 (record layer, length limits), RFC 5246 §6.2, RFC 6101 §5.2 (SSL 3.0).
"""

from __future__ import annotations

import attrs

from tlsprobe._exceptions import MalformedServerResponseError
from tlsprobe.wire._constants import ContentType

MAX_FRAGMENT_LENGTH = 16384
"""Largest plaintext fragment of one record (2^14, RFC 8446 §5.1)."""

MAX_RECORD_LENGTH = MAX_FRAGMENT_LENGTH + 2048
"""Largest record payload a peer may send (TLSCiphertext limit of RFC 5246 §6.2.3)."""

RECORD_HEADER_LENGTH = 5

_CONTENT_TYPES = frozenset(ContentType)
_QUOTED_BYTES = 16


def quote_bytes(data: bytes, limit: int = _QUOTED_BYTES) -> str:
    """``data`` as spaced hex, cut after ``limit`` bytes (`` ...`` says there was more): evidence for a message."""
    more = " ..." if len(data) > limit else ""
    return data[:limit].hex(" ") + more


def located(data: bytes, position: int, structure: str) -> str:
    """Evidence for a message: ``data`` (the bytes from the offending one on) start at byte ``position`` of
    ``structure``; quoted, cut short."""
    return f"byte {position} of the {structure}: {quote_bytes(data) if data else 'nothing left'}"


def describe_unexpected_bytes(data: bytes) -> str:
    """A message for bytes that are not TLS, telling what protocol they seem to be when it is recognisable."""
    if data.startswith(b"HTTP/"):
        return "server answered with plain HTTP, not TLS"
    if data.startswith(b"SSH-"):
        return "server answered with an SSH banner, not TLS"
    return f"server sent bytes that are not TLS: {quote_bytes(data)}"


def encode_record(content_type: int, version: int, payload: bytes) -> bytes:
    """Frame ``payload`` as one or more records, splitting it at the 2^14-byte fragment limit."""
    if not 0 <= content_type <= 0xFF:
        raise ValueError(f"content type {content_type} does not fit in one byte")
    if not 0 <= version <= 0xFFFF:
        raise ValueError(f"record version {version:#x} does not fit in two bytes")
    header = bytes((content_type, version >> 8, version & 0xFF))
    fragments = [payload[start : start + MAX_FRAGMENT_LENGTH] for start in range(0, len(payload), MAX_FRAGMENT_LENGTH)]
    return b"".join(header + len(fragment).to_bytes(2, "big") + fragment for fragment in fragments or [b""])


@attrs.frozen(kw_only=True)
class Record:
    """One record as received: its header fields and payload (plaintext, or ciphertext once encrypted)."""

    content_type: int
    version: int
    payload: bytes


class RecordReader:
    """Splits a byte stream into records; rejects anything that cannot be a TLS record.

    ``feed`` bytes as they arrive, then call ``next_record`` until it returns None.
    """

    def __init__(self, *, max_buffered: int = 1024 * 1024) -> None:
        self._buffer = bytearray()
        self._max_buffered = max_buffered

    def feed(self, data: bytes) -> None:
        """Append received bytes; raises when more than ``max_buffered`` bytes wait to be read."""
        if len(self._buffer) + len(data) > self._max_buffered:
            raise MalformedServerResponseError(
                f"more than {self._max_buffered} bytes of records buffered without being consumed"
            )
        self._buffer += data

    @property
    def buffered(self) -> int:
        """How many received bytes are not yet part of a returned record."""
        return len(self._buffer)

    def peek_buffered(self) -> bytes:
        """The received bytes not yet part of a returned record (kept: for describing an answer cut short)."""
        return bytes(self._buffer)

    def take_buffered(self) -> bytes:
        """The received bytes not yet part of a returned record, which the reader then forgets."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest

    def next_record(self) -> Record | None:
        """The next complete record, or None when more bytes are needed."""
        if len(self._buffer) < RECORD_HEADER_LENGTH:
            return None
        content_type, major, minor = self._buffer[0], self._buffer[1], self._buffer[2]
        length = int.from_bytes(self._buffer[3:5], "big")
        if content_type not in _CONTENT_TYPES or major != 3:
            raise MalformedServerResponseError(describe_unexpected_bytes(bytes(self._buffer)))
        if length > MAX_RECORD_LENGTH:
            raise MalformedServerResponseError(
                f"server sent a record of {length} bytes, more than the {MAX_RECORD_LENGTH} TLS allows"
            )
        end = RECORD_HEADER_LENGTH + length
        if len(self._buffer) < end:
            return None
        payload = bytes(self._buffer[RECORD_HEADER_LENGTH:end])
        del self._buffer[:end]
        return Record(content_type=content_type, version=(major << 8) | minor, payload=payload)


class Decoder:
    """Reads TLS presentation-language structures (RFC 8446 §3) from bytes, checking every length.

    ``what`` names the structure in error messages, e.g. ``"ServerHello"``; ``error`` is the exception class
    raised for malformed input (``ValueError`` where the bytes are the client's own). Every error names where in
    the outermost structure (its body, after any handshake header) the offending bytes start, and quotes them.
    """

    def __init__(
        self,
        data: bytes,
        what: str,
        *,
        error: type[Exception] = MalformedServerResponseError,
        _base: int = 0,
        _root: str | None = None,
    ) -> None:
        self._data = data
        self._offset = 0
        self._what = what
        self._error = error
        self._base = _base  # where ``data`` starts in the outermost structure
        self._root = what if _root is None else _root

    @property
    def remaining(self) -> int:
        """How many bytes are left to read."""
        return len(self._data) - self._offset

    @property
    def position(self) -> int:
        """How many bytes of this structure have been read: the position of the next one."""
        return self._offset

    def error(self, problem: str, *, at: int | None = None) -> Exception:
        """An exception saying what is wrong with the structure being read, and where: at ``at`` (a
        ``position`` of this decoder), by default where reading has got to."""
        local = self._offset if at is None else at
        return self._error(f"malformed {self._what}: {problem} ({self.evidence(local)})")

    def evidence(self, at: int) -> str:
        """Where position ``at`` of this structure is in the outermost one, and the bytes from there, cut short."""
        return located(self._data[at:], self._base + at, self._root)

    def sub(self, length_size: int, field: str, *, minimum: int = 0) -> Decoder:
        """A decoder over the next variable-length vector, for structures nested in it."""
        data = self.vector(length_size, field, minimum=minimum)
        return Decoder(
            data,
            f"{field} of {self._what}",
            error=self._error,
            _base=self._base + self._offset - len(data),
            _root=self._root,
        )

    def read(self, length: int, field: str) -> bytes:
        """The next ``length`` bytes."""
        if length > self.remaining:
            raise self.error(f"{field} needs {length} bytes but only {self.remaining} are left")
        start = self._offset
        self._offset += length
        return self._data[start : self._offset]

    def uint(self, size: int, field: str) -> int:
        """A big-endian unsigned integer of ``size`` bytes."""
        return int.from_bytes(self.read(size, field), "big")

    def vector(self, length_size: int, field: str, *, minimum: int = 0) -> bytes:
        """A variable-length vector whose length prefix has ``length_size`` bytes."""
        start = self._offset
        length = self.uint(length_size, f"length of {field}")
        if length < minimum:
            raise self.error(f"{field} is {length} bytes long, shorter than the minimum of {minimum}", at=start)
        if length > self.remaining:
            # Quoted from its length prefix: the length is what overruns.
            raise self.error(f"{field} needs {length} bytes but only {self.remaining} are left", at=start)
        return self.read(length, field)

    def uint16s(self, length_size: int, field: str, *, minimum: int = 0) -> tuple[int, ...]:
        """A vector of two-byte values, e.g. a list of cipher suites or groups."""
        start = self._offset
        data = self.vector(length_size, field, minimum=minimum)
        if len(data) % 2:
            raise self.error(f"{field} has odd length {len(data)}", at=start)
        return tuple(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))

    def rest(self) -> bytes:
        """Everything not read yet."""
        return self.read(self.remaining, "rest")

    def expect_end(self) -> None:
        """Raise when bytes are left over after the structure."""
        if self.remaining:
            raise self.error(f"{self.remaining} unexpected bytes at the end")
