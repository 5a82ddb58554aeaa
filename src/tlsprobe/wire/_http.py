"""HTTP/1.1 over an already secured byte stream, without I/O: build a request, parse the response incrementally
within fixed bounds, resolve redirects, and read the security headers (RFC 9110, RFC 9112, RFC 6797).

The caller moves the bytes (``_tls/_http.py`` does it over a nassl connection): it feeds what it decrypts to an
:class:`HTTPResponseParser` until ``is_complete`` or the connection ends. Only the head matters to tlsprobe; the
body is decoded (chunked, Content-Length or until close) up to a small bound so the exchange can end cleanly.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Sequence
from typing import Final, final

import attrs

from tlsprobe._exceptions import ConnectionClosedError, MalformedServerResponseError
from tlsprobe._version import __version__

USER_AGENT: Final = f"tlsprobe/{__version__} (TLS scanner)"
MAX_HEADER_BYTES: Final = 65536
"""The largest response head (status line and headers, interim responses included) tlsprobe accepts."""
MAX_BODY_BYTES: Final = 4096
"""Body bytes decoded before the response counts as complete: tlsprobe never needs the body."""
REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
HSTS_PRELOAD_MIN_MAX_AGE: Final = 31536000
"""One year: the smallest max-age the HSTS preload list accepts (hstspreload.org)."""

_HTTPS_PORT = 443
_MAX_INTERIM_RESPONSES = 10
_MAX_CHUNK_LINE = 1024
_SHOWN_BYTES = 40
_HTTP_PREFIX = b"HTTP/"
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/(\d(?:\.\d)?) +(\d{3})(?: +(.*))? *")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Characters a request target may carry as they are (RFC 3986 reserved and unreserved, plus an existing escape).
_TARGET_SAFE = "/?:@!$&'()*+,;=-._~%"


# -- request -----------------------------------------------------------------------------------------------------


def host_header(host: str, port: int) -> str:
    """The ``Host`` value for ``host`` (a name or IP literal) and ``port``: IPv6 in brackets, the port unless 443."""
    authority = f"[{host}]" if ":" in host else host
    return authority if port == _HTTPS_PORT else f"{authority}:{port}"


def validate_request_target(path: str) -> str:
    """``path`` when it can be sent as an origin-form request target; ``ValueError`` otherwise.

    Refusing spaces and control characters here is what keeps an option from injecting request lines.
    """
    if not path.startswith("/"):
        raise ValueError(f"an HTTP path must start with '/': {path!r}")
    if not path.isascii() or any(char <= " " or char == "\x7f" or char == "#" for char in path):
        raise ValueError(f"an HTTP path must be printable ASCII without spaces or '#': {path!r}")
    return path


def build_request(path: str, host: str, user_agent: str = USER_AGENT) -> bytes:
    """A ``GET`` request for ``path`` with ``Host: host`` that asks the server to close the connection after it."""
    validate_request_target(path)
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        f"User-Agent: {user_agent}",
        "Accept: */*",
        "Accept-Encoding: identity",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


# -- response ----------------------------------------------------------------------------------------------------


@final
@attrs.frozen(kw_only=True)
class HTTPResponse:
    """A parsed HTTP response head, and the start of its body."""

    http_version: str
    """As on the status line, e.g. ``1.1``."""
    status_code: int
    """The final status code (interim 1xx responses are skipped)."""
    reason: str
    """The reason phrase (may be empty)."""
    headers: tuple[tuple[str, str], ...]
    """Every header field in order, names as sent, values decoded as ISO-8859-1 and trimmed; folded lines are
    joined with one space (RFC 9112 §5.2)."""
    body: bytes
    """The decoded body, at most ``MAX_BODY_BYTES``."""
    body_complete: bool
    """The whole body was read (False when it was cut at the bound, by the connection, or by bad framing)."""

    def header_values(self, name: str) -> tuple[str, ...]:
        """Every value of the header ``name`` (case-insensitive), in order."""
        wanted = name.lower()
        return tuple(value for header, value in self.headers if header.lower() == wanted)

    def header(self, name: str) -> str | None:
        """The header ``name`` as one value (repeated fields joined by ``", "``, RFC 9110 §5.3), or None."""
        values = self.header_values(name)
        return ", ".join(values) if values else None


class HTTPResponseParser:
    """An incremental HTTP/1.x response parser with bounded memory.

    ``feed`` the bytes as they come, then ``feed_eof`` if the connection ends first. Raises
    ``MalformedServerResponseError`` as soon as the bytes cannot be HTTP (checked from the first byte), when the
    head exceeds ``max_header_bytes``, or when the status line is malformed; ``ConnectionClosedError`` when the
    connection ends before the head is complete. Bad body framing only ends the body early.
    """

    def __init__(self, *, max_header_bytes: int = MAX_HEADER_BYTES, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self._max_header_bytes = max_header_bytes
        self._max_body_bytes = max_body_bytes
        self._buffer = bytearray()
        self._head_bytes = 0  # of the interim responses already parsed, which count against the same bound
        self._interim_responses = 0
        self._received = 0
        self._searched = 0  # bytes of ``_buffer`` already searched for the end of the head
        self._head: tuple[str, int, str, tuple[tuple[str, str], ...]] | None = None
        self._body = bytearray()
        self._body_complete = False
        self._done = False
        # Body framing: "length" (``_remaining`` bytes), "chunk-size", "chunk-data", "chunk-end", "close".
        self._framing = ""
        self._remaining = 0

    @property
    def bytes_received(self) -> int:
        """Bytes fed so far."""
        return self._received

    @property
    def headers_complete(self) -> bool:
        """The final response's head has been parsed."""
        return self._head is not None

    @property
    def is_complete(self) -> bool:
        """Nothing more is needed: the head is parsed and the body is read, cut at its bound, or unreadable."""
        return self._done

    def feed(self, data: bytes) -> None:
        """Parse ``data``, the next bytes of the response."""
        self._received += len(data)
        if self._done:
            return
        self._buffer += data
        if self._head is None:
            self._parse_heads()
        if self._head is not None and not self._done:
            self._parse_body()

    def feed_eof(self) -> None:
        """The connection ended: the response is complete if its head was."""
        if self._head is None:
            if self._received == 0:
                raise ConnectionClosedError(
                    "the server closed the connection without answering the HTTP request: "
                    "the service does not seem to speak HTTP"
                )
            raise ConnectionClosedError(
                f"the server closed the connection in the middle of the HTTP response head "
                f"({self._received} bytes received: {_shown(bytes(self._buffer))})"
            )
        if not self._done:
            self._body_complete = self._framing == "close"
            self._done = True

    def response(self) -> HTTPResponse:
        """The response parsed so far; ``RuntimeError`` before its head is complete."""
        if self._head is None:
            raise RuntimeError("the HTTP response head is not complete yet")
        version, status, reason, headers = self._head
        return HTTPResponse(
            http_version=version,
            status_code=status,
            reason=reason,
            headers=headers,
            body=bytes(self._body),
            body_complete=self._body_complete,
        )

    # -- head --------------------------------------------------------------------------------------------------

    def _parse_heads(self) -> None:
        while self._head is None:
            self._require_http_prefix()
            # Search only the new bytes (and the 3 before them, which may start the blank line): a server sending
            # one byte per record must not make the parsing quadratic.
            end = _HEAD_END.search(self._buffer, max(0, self._searched - 3))
            if end is None:
                if self._head_bytes + len(self._buffer) > self._max_header_bytes:
                    raise self._oversize()
                self._searched = len(self._buffer)
                return
            self._searched = 0
            if self._head_bytes + end.end() > self._max_header_bytes:
                raise self._oversize()
            head = bytes(self._buffer[: end.start()])
            del self._buffer[: end.end()]
            version, status, reason, headers = _parse_head(head)
            if 100 <= status < 200 and status != 101:
                # 100 Continue, 103 Early Hints...: interim, the final response follows on the same connection.
                self._interim_responses += 1
                self._head_bytes += end.end()
                if self._interim_responses > _MAX_INTERIM_RESPONSES:
                    raise MalformedServerResponseError(
                        f"the server sent more than {_MAX_INTERIM_RESPONSES} interim (1xx) HTTP responses"
                    )
                continue
            self._head = (version, status, reason, headers)
            self._framing, self._remaining = _body_framing(status, headers)
            if self._framing == "none":
                self._body_complete = self._done = True

    def _require_http_prefix(self) -> None:
        start = bytes(self._buffer[: len(_HTTP_PREFIX)])
        if not _HTTP_PREFIX.startswith(start):
            raise MalformedServerResponseError(
                f"the service did not answer with HTTP: first bytes {_shown(bytes(self._buffer))}"
            )

    def _oversize(self) -> MalformedServerResponseError:
        return MalformedServerResponseError(
            f"the HTTP response head is larger than {self._max_header_bytes} bytes: tlsprobe reads no further"
        )

    # -- body --------------------------------------------------------------------------------------------------

    def _parse_body(self) -> None:
        progress = True
        while progress and not self._done and self._buffer:
            if self._framing in ("close", "length", "chunk-data"):
                progress = self._take_body_bytes()
            elif self._framing == "chunk-size":
                progress = self._parse_chunk_size()
            else:
                progress = self._parse_chunk_end()
            if len(self._body) >= self._max_body_bytes:
                self._done = True  # enough: the body is never needed, only a clean end of the exchange

    def _take_body_bytes(self) -> bool:
        room = self._max_body_bytes - len(self._body)
        size = min(len(self._buffer), room)
        if self._framing != "close":
            size = min(size, self._remaining)
            self._remaining -= size
        self._body += self._buffer[:size]
        del self._buffer[:size]
        if self._framing != "close" and self._remaining == 0:
            if self._framing == "length":
                self._body_complete = self._done = True
            else:
                self._framing = "chunk-end"
        return True

    # The chunk parsers return whether they consumed anything (False: they wait for more bytes).

    def _parse_chunk_size(self) -> bool:
        newline = self._buffer.find(b"\n")
        if newline < 0:
            if len(self._buffer) > _MAX_CHUNK_LINE:
                self._done = True  # not chunked framing after all: stop reading the body
            return False
        line = bytes(self._buffer[:newline]).rstrip(b"\r").split(b";", 1)[0].strip()
        del self._buffer[: newline + 1]
        if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", line):
            self._done = True
        elif (size := int(line, 16)) == 0:
            self._body_complete = self._done = True  # trailers, if any, are not read: nothing in them counts
        else:
            self._framing, self._remaining = "chunk-data", size
        return True

    def _parse_chunk_end(self) -> bool:
        if self._buffer == b"\r":
            return False  # the rest of the CRLF is on its way
        if self._buffer.startswith(b"\r\n"):
            del self._buffer[:2]
        elif self._buffer.startswith(b"\n"):
            del self._buffer[:1]
        else:
            self._done = True  # chunk data longer than announced: stop reading the body
            return True
        self._framing = "chunk-size"
        return True


def _shown(data: bytes) -> str:
    return repr(data[:_SHOWN_BYTES]) + ("..." if len(data) > _SHOWN_BYTES else "")


def _parse_head(head: bytes) -> tuple[str, int, str, tuple[tuple[str, str], ...]]:
    lines = [line.rstrip(b"\r") for line in head.split(b"\n")]
    status = _STATUS_LINE.fullmatch(lines[0])
    if status is None:
        raise MalformedServerResponseError(f"malformed HTTP status line: {_shown(lines[0])}")
    headers: list[tuple[str, str]] = []
    for raw in lines[1:]:
        line = raw.decode("iso-8859-1")
        if line[:1] in (" ", "\t"):
            if headers:  # obsolete line folding: a continuation of the previous value
                name, value = headers[-1]
                headers[-1] = (name, _trim(value + " " + _trim(line)))
            continue
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            continue  # not a header field ("Name : value" included): browsers skip such lines too
        headers.append((name, _trim(value)))
    reason = (status[3] or b"").decode("iso-8859-1").strip()
    return status[1].decode("ascii"), int(status[2]), reason, tuple(headers)


def _trim(text: str) -> str:
    return text.strip(" \t")


def _body_framing(status: int, headers: Sequence[tuple[str, str]]) -> tuple[str, int]:
    """The framing of a response to GET (RFC 9112 §6.3) and, for ``length``, the body's length."""
    if status in (101, 204, 304):
        return "none", 0
    lowered = [(name.lower(), value) for name, value in headers]
    codings = [
        coding.strip().lower() for name, value in lowered if name == "transfer-encoding" for coding in value.split(",")
    ]
    if codings:
        return ("chunk-size" if codings[-1] == "chunked" else "close"), 0
    lengths = {length.strip() for name, value in lowered if name == "content-length" for length in value.split(",")}
    if len(lengths) == 1 and (length := lengths.pop()).isdigit():
        return ("length", int(length)) if int(length) > 0 else ("none", 0)
    return "close", 0  # no length, or an invalid one: read until the server closes


# -- Strict-Transport-Security (RFC 6797) ---------------------------------------------------------------------------


@final
@attrs.frozen(kw_only=True)
class StrictTransportSecurity:
    """A Strict-Transport-Security header as a browser reads it (RFC 6797 §6.1 and §8.1).

    When a response carries several, only the first is processed (§8.1): the others are counted, not read. A
    header that breaks the syntax (no valid ``max-age``, a directive repeated) is ignored by browsers: ``valid``
    is False, and the directives are still reported as written.
    """

    raw: str
    """The value of the first header, as sent."""
    header_count: int
    """How many Strict-Transport-Security headers the response carried (more than one is a mistake)."""
    valid: bool
    """A browser would honour the header: ``max-age`` is present and a number, and no directive is repeated."""
    max_age: int | None
    """``max-age`` in seconds (0 tells browsers to forget the policy); None when missing or not a number."""
    include_subdomains: bool
    """``includeSubDomains`` is present: the policy covers every subdomain too."""
    preload: bool
    """``preload`` is present: consent to the browsers' built-in HSTS preload lists (not part of RFC 6797)."""
    preload_ready: bool
    """The header meets the preload list's header requirements: valid, ``max-age`` >= 31536000 (one year),
    ``includeSubDomains`` and ``preload``. The list has further requirements (an HTTP-to-HTTPS redirect, the
    header on the apex domain) that this check does not see."""
    problems: tuple[str, ...]
    """What is wrong or suspicious, one sentence each (empty for a clean header)."""


def parse_strict_transport_security(values: Sequence[str]) -> StrictTransportSecurity | None:
    """Interpret the Strict-Transport-Security header values of one response (None when there is none)."""
    if not values:
        return None
    raw = values[0]
    problems: list[str] = []
    if len(values) > 1:
        problems.append(f"{len(values)} Strict-Transport-Security headers: only the first is processed")
    valid = True
    max_age: int | None = None
    include_subdomains = preload = False
    seen: set[str] = set()
    directives = _split_directives(raw)
    if directives is None:
        problems.append("a quoted string is not terminated")
        directives, valid = [], False
    for directive in directives:
        name, equals, value = (part.strip(" \t") for part in directive.partition("="))
        key = name.lower()
        if not _TOKEN.fullmatch(name):
            problems.append(f"malformed directive {directive!r}")
            valid = False
            continue
        if key in seen:
            problems.append(f"directive {name!r} appears more than once")
            valid = False
        seen.add(key)
        unquoted = _unquote(value) if equals else None
        if equals and unquoted is None:
            problems.append(f"malformed value in directive {directive!r}")
            valid = False
        if key == "max-age":
            if unquoted is not None and unquoted.isascii() and unquoted.isdigit():
                max_age = int(unquoted)
            else:
                problems.append(
                    f"max-age must be a number of seconds, not {value!r}" if equals else "max-age has no value"
                )
                valid = False
        elif key in ("includesubdomains", "preload"):
            include_subdomains = include_subdomains or key == "includesubdomains"
            preload = preload or key == "preload"
            if equals:
                problems.append(f"{name} takes no value")
        else:
            problems.append(f"unknown directive {name!r} is ignored")
    if "max-age" not in seen:
        problems.append("max-age is missing")
        valid = False
    return StrictTransportSecurity(
        raw=raw,
        header_count=len(values),
        valid=valid,
        max_age=max_age,
        include_subdomains=include_subdomains,
        preload=preload,
        preload_ready=(
            valid and max_age is not None and max_age >= HSTS_PRELOAD_MIN_MAX_AGE and include_subdomains and preload
        ),
        problems=tuple(problems),
    )


def _split_directives(raw: str) -> list[str] | None:
    """``raw`` split at the semicolons outside quoted strings, empty directives dropped; None on an open quote."""
    directives: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in raw:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            directives.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        return None
    directives.append("".join(current))
    return [directive.strip(" \t") for directive in directives if directive.strip(" \t")]


def _unquote(value: str) -> str | None:
    """A token as it is, a quoted-string without its quotes and escapes, None for anything else."""
    if _TOKEN.fullmatch(value):
        return value
    match = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', value)
    return re.sub(r"\\(.)", r"\1", match[1]) if match else None


# -- redirects ------------------------------------------------------------------------------------------------------


@final
@attrs.frozen(kw_only=True)
class RedirectTarget:
    """Where a ``Location`` header points, seen from the request it answered."""

    url: str
    """The absolute URL, without fragment."""
    same_origin: bool
    """Same scheme (https), host and port as the server being scanned: tlsprobe may follow it."""
    request_target: str
    """The path and query to request when following it."""


def resolve_redirect(location: str, *, host: str, port: int, path: str) -> RedirectTarget | None:
    """Resolve ``location`` (absolute or relative, RFC 9110 §10.2.2) against ``https://host:port/path``.

    None when it is empty or not a usable http(s) URL (e.g. an invalid port or IPv6 literal).
    """
    location = _as_utf8(location.strip(" \t"))
    if not location:
        return None
    # Browsers read a backslash before the query as a slash (WHATWG URL): "\\evil" points to another host.
    before, separator, after = _split_query(location)
    location = before.replace("\\", "/") + separator + after
    try:
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(f"https://{host_header(host, port)}{path}", location))
        target_port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    # What a URL cannot carry as it is (spaces, non-ASCII) is percent-encoded, as browsers do.
    url_path = urllib.parse.quote(parts.path or "/", safe=_TARGET_SAFE)
    query = urllib.parse.quote(parts.query, safe=_TARGET_SAFE)
    same_origin = scheme == "https" and (target_port or _HTTPS_PORT) == port and _same_host(parts.hostname, host)
    return RedirectTarget(
        url=urllib.parse.urlunsplit((parts.scheme, parts.netloc, url_path, query, "")),
        same_origin=same_origin,
        request_target=url_path + (f"?{query}" if query else ""),
    )


def _split_query(location: str) -> tuple[str, str, str]:
    for index, char in enumerate(location):
        if char in "?#":
            return location[:index], char, location[index + 1 :]
    return location, "", ""


def _as_utf8(value: str) -> str:
    """Undo the ISO-8859-1 decoding of a header that was really UTF-8 (servers send raw UTF-8 in Location)."""
    try:
        return value.encode("iso-8859-1").decode("utf-8")
    except UnicodeError:
        return value


def _same_host(candidate: str, host: str) -> bool:
    candidate, host = candidate.rstrip(".").lower(), host.rstrip(".").lower()
    try:
        return ipaddress.ip_address(candidate) == ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return candidate.encode("idna") == host.encode("idna")
    except UnicodeError:
        return False
