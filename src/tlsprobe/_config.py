"""Scan configuration: inert, validated values. Nothing here touches the network (DNS is a step of the scan)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from typing import Any, Final

import attrs

from tlsprobe._exceptions import ConfigurationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORT: Final = 443

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
# host[:port][{ip}] where host may be a bracketed IPv6 literal.
_TARGET = re.compile(r"^(?P<host>\[[^\]]*\]|[^:\[\]{}]+)(?::(?P<port>[^{}]*))?(?:\{(?P<ip>[^{}]*)\})?$")


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _validate_host(host: str) -> str:
    if _parse_ip(host) is not None:
        return host
    name = host[:-1] if host.endswith(".") else host
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ConfigurationError(f"invalid host name {host!r}: {error}") from None
    if not ascii_name or len(ascii_name) > 253 or not all(_LABEL.match(label) for label in ascii_name.split(".")):
        raise ConfigurationError(f"invalid host name {host!r}")
    return ascii_name.lower()


@attrs.frozen(kw_only=True)
class ServerTarget:
    """One server to scan: a host (name or IP literal), a port, and optionally a pinned IP address.

    Build one with ``ServerTarget(host="example.com", port=443)`` or ``ServerTarget.parse("example.com:443")``.
    """

    host: str = attrs.field(converter=_validate_host)
    """Host name (IDNA-encoded, lower case) or IP literal as given."""
    port: int = attrs.field(default=DEFAULT_PORT)
    """TCP port."""
    ip: IPAddress | None = None
    """Connect to this address instead of resolving ``host`` (``host:port{ip}``)."""

    @port.validator
    def _check_port(self, _: attrs.Attribute[int], value: int) -> None:
        if not 0 < value < 65536:
            raise ConfigurationError(f"port {value} is out of range 1-65535")

    @property
    def host_is_ip(self) -> bool:
        """Whether the host is an IP literal rather than a name."""
        return _parse_ip(self.host) is not None

    @property
    def server_name(self) -> str | None:
        """The name sent as SNI: the host name, or None for an IP literal (SNI carries names only)."""
        return None if self.host_is_ip else self.host

    @classmethod
    def parse(cls, text: str, *, default_port: int = DEFAULT_PORT) -> ServerTarget:
        """Parse ``host``, ``host:port``, ``[v6addr]:port``, a bare IPv6 literal, each optionally with ``{ip}``.

        :raises ConfigurationError: naming the offending text.
        """
        stripped = text.strip()
        if not stripped:
            raise ConfigurationError("empty target")
        if _parse_ip(stripped) is not None and ":" in stripped:
            return cls(host=stripped, port=default_port)  # a bare IPv6 literal, no port
        match = _TARGET.match(stripped)
        if match is None:
            raise ConfigurationError(f"invalid target {text!r}: expected host, host:port or [ipv6]:port")
        host = match["host"]
        if host.startswith("["):
            host = host[1:-1]
            address = _parse_ip(host)
            if address is None or address.version != 6:
                raise ConfigurationError(f"invalid target {text!r}: {host!r} in brackets is not an IPv6 address")
        port = default_port
        if match["port"] is not None:
            if not match["port"].isdigit():
                raise ConfigurationError(f"invalid target {text!r}: port {match['port']!r} is not a number")
            port = int(match["port"])
        pinned: IPAddress | None = None
        if match["ip"] is not None:
            pinned = _parse_ip(match["ip"].strip("[]"))
            if pinned is None:
                raise ConfigurationError(f"invalid target {text!r}: {match['ip']!r} is not an IP address")
        try:
            return cls(host=host, port=port, ip=pinned)
        except ConfigurationError as error:
            raise ConfigurationError(f"invalid target {text!r}: {error}") from None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        pinned = f"{{{self.ip}}}" if self.ip is not None else ""
        return f"{host}:{self.port}{pinned}"


@attrs.frozen(kw_only=True)
class InvalidTargetLine:
    """A targets-file line that could not be parsed; reported, never silently dropped."""

    source: str
    """Where the line came from, e.g. the file name."""
    line_number: int
    """1-based line number."""
    text: str
    """The line as read."""
    error: str
    """Why it was rejected."""


def parse_target_lines(lines: Iterable[str], *, source: str) -> Iterator[ServerTarget | InvalidTargetLine]:
    """Parse a targets file lazily: one target per line, ``#`` starts a comment, blank lines are skipped."""
    for number, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            yield ServerTarget.parse(text)
        except ConfigurationError as error:
            yield InvalidTargetLine(source=source, line_number=number, text=raw.rstrip("\n"), error=str(error))


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ConfigurationError(f"{attribute.name} must be positive, got {value!r}")


@attrs.frozen(kw_only=True)
class Timeouts:
    """Time limits for each network step, in seconds."""

    connect_s: float = attrs.field(default=5.0, validator=_positive)
    """TCP connect (and DNS resolution)."""
    read_s: float = attrs.field(default=5.0, validator=_positive)
    """Waiting for the server's answer to one message."""


@attrs.frozen(kw_only=True)
class Limits:
    """How hard a scan may push servers and this machine."""

    max_connections_per_server: int = attrs.field(default=5, validator=_positive)
    """Connections open at once to one server, whichever path opens them."""
    max_concurrent_servers: int = attrs.field(default=50, validator=_positive)
    """Servers scanned at the same time."""
    max_open_connections: int = attrs.field(default=256, validator=_positive)
    """Connections open at once across the whole scan (file descriptors)."""
    max_threads: int = attrs.field(default=32, validator=_positive)
    """Worker threads for blocking (nassl) handshakes across the whole scan."""
    max_retries: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    """Further attempts of a probe whose connection failed, was reset, or timed out."""


@attrs.frozen(kw_only=True)
class ScanConfig:
    """Everything a scan needs besides the targets and the checks."""

    timeouts: Timeouts = Timeouts()
    """Network time limits."""
    limits: Limits = Limits()
    """Concurrency limits."""
