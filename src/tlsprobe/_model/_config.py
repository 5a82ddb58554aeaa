"""Scan configuration: inert, validated values. Nothing here touches the network (DNS is a step of the scan)."""

from __future__ import annotations

import enum
import ipaddress
import re
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._assessment import Policy

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORT: Final = 443

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
# host[:port][{ip}] where host may be a bracketed IPv6 literal (after any protocol:// prefix).
_TARGET = re.compile(r"^(?P<host>\[[^\]]*\]|[^:\[\]{}]+)(?::(?P<port>[^{}]*))?(?:\{(?P<ip>[^{}]*)\})?$")


class StartTLS(enum.Enum):
    """How a connection becomes TLS: at once, or after a plaintext protocol's upgrade (STARTTLS and the like)."""

    NONE = "none"
    """TLS from the first byte."""
    AUTO = "auto"
    """Chosen from the port (``STARTTLS_PORTS``); TLS from the first byte on any other port."""
    SMTP = "smtp"
    """SMTP ``STARTTLS`` (RFC 3207), after ``EHLO``."""
    IMAP = "imap"
    """IMAP ``STARTTLS`` (RFC 3501)."""
    POP3 = "pop3"
    """POP3 ``STLS`` (RFC 2595)."""
    FTP = "ftp"
    """FTP ``AUTH TLS`` (RFC 4217)."""
    XMPP = "xmpp"
    """XMPP client-to-server ``<starttls/>`` (RFC 6120)."""
    XMPP_SERVER = "xmpp_server"
    """XMPP server-to-server ``<starttls/>`` (RFC 6120)."""
    LDAP = "ldap"
    """LDAP StartTLS extended operation (RFC 4511, 4513)."""
    POSTGRES = "postgres"
    """PostgreSQL ``SSLRequest``."""
    RDP = "rdp"
    """RDP X.224 negotiation of TLS (MS-RDPBCGR 2.2.1.1)."""


STARTTLS_PORTS: Final[Mapping[int, StartTLS]] = {
    21: StartTLS.FTP,
    25: StartTLS.SMTP,
    110: StartTLS.POP3,
    143: StartTLS.IMAP,
    389: StartTLS.LDAP,
    587: StartTLS.SMTP,
    3389: StartTLS.RDP,
    5222: StartTLS.XMPP,
    5269: StartTLS.XMPP_SERVER,
    5432: StartTLS.POSTGRES,
}
"""The protocol ``StartTLS.AUTO`` picks for each well-known port."""

# The port a ``protocol://host`` target gets when it names none.
_SCHEME_PORTS: Final[Mapping[StartTLS, int]] = {
    StartTLS.NONE: DEFAULT_PORT,
    StartTLS.AUTO: DEFAULT_PORT,
    StartTLS.SMTP: 25,
    StartTLS.IMAP: 143,
    StartTLS.POP3: 110,
    StartTLS.FTP: 21,
    StartTLS.XMPP: 5222,
    StartTLS.XMPP_SERVER: 5269,
    StartTLS.LDAP: 389,
    StartTLS.POSTGRES: 5432,
    StartTLS.RDP: 3389,
}
_SCHEMES: Final[Mapping[str, StartTLS]] = {
    "tls": StartTLS.NONE,
    **{protocol.value: protocol for protocol in StartTLS if protocol is not StartTLS.NONE},
}


def effective_starttls(requested: StartTLS, port: int) -> StartTLS:
    """``requested``, with ``AUTO`` resolved from the port."""
    if requested is StartTLS.AUTO:
        return STARTTLS_PORTS.get(port, StartTLS.NONE)
    return requested


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


def _validate_sni(name: str | None) -> str | None:
    if name is None:
        return None
    if _parse_ip(name) is not None:
        raise ConfigurationError(f"SNI carries host names only, not the IP address {name!r}")
    return _validate_host(name)


@attrs.frozen(kw_only=True)
class ServerTarget:
    """One server to scan: a host (name or IP literal), a port, and how to reach it.

    Build one with ``ServerTarget(host="example.com", port=443)`` or ``ServerTarget.parse("example.com:443")``;
    ``ServerTarget.parse("smtp://mail.example.com:587")`` names a STARTTLS protocol too.

    How a connection becomes TLS (``starttls``) and the name sent as SNI belong to the target rather than to the
    scan, so that one targets file can mix mail, directory and web servers; ``ScanConfig.starttls`` is the
    default for targets that do not say.
    """

    host: str = attrs.field(converter=_validate_host)
    """Host name (IDNA-encoded, lower case) or IP literal as given. Certificates are validated against it."""
    port: int = attrs.field(default=DEFAULT_PORT)
    """TCP port."""
    ip: IPAddress | None = None
    """Connect to this address instead of resolving ``host`` (``host:port{ip}``)."""
    starttls: StartTLS | None = None
    """How connections become TLS; None: the scan's ``ScanConfig.starttls``."""
    sni: str | None = attrs.field(default=None, converter=_validate_sni)
    """A name to send as SNI instead of ``host``."""
    send_sni: bool = attrs.field(default=True)
    """False: send no SNI at all, even for a named host."""

    @port.validator
    def _check_port(self, _: attrs.Attribute[int], value: int) -> None:
        if not 0 < value < 65536:
            raise ConfigurationError(f"port {value} is out of range 1-65535")

    @send_sni.validator
    def _check_send_sni(self, _: attrs.Attribute[bool], value: bool) -> None:
        if not value and self.sni is not None:
            raise ConfigurationError(f"SNI {self.sni!r} given for a target that sends no SNI")

    @property
    def host_is_ip(self) -> bool:
        """Whether the host is an IP literal rather than a name."""
        return _parse_ip(self.host) is not None

    @property
    def server_name(self) -> str | None:
        """The name sent as SNI: ``sni``, else the host name; None for an IP literal (SNI carries names only)
        or when ``send_sni`` is False."""
        if not self.send_sni:
            return None
        if self.sni is not None:
            return self.sni
        return None if self.host_is_ip else self.host

    @classmethod
    def parse(cls, text: str, *, default_port: int = DEFAULT_PORT) -> ServerTarget:
        """Parse ``host``, ``host:port``, ``[v6addr]:port``, a bare IPv6 literal, each optionally with ``{ip}``,
        and optionally prefixed by a protocol: ``smtp://``, ``imap://``, ``pop3://``, ``ftp://``, ``xmpp://``,
        ``xmpp_server://``, ``ldap://``, ``postgres://``, ``rdp://`` (STARTTLS) or ``tls://`` (TLS at once).
        A prefixed target without a port gets the protocol's usual one (``smtp://`` 25, ``imap://`` 143...).

        :raises ConfigurationError: naming the offending text.
        """
        stripped = text.strip()
        if not stripped:
            raise ConfigurationError("empty target")
        if _parse_ip(stripped) is not None and ":" in stripped:
            return cls(host=stripped, port=default_port)  # a bare IPv6 literal, no port
        starttls: StartTLS | None = None
        scheme, separator, rest = stripped.partition("://")
        if separator:
            starttls = _SCHEMES.get(scheme.lower())
            if starttls is None:
                raise ConfigurationError(
                    f"invalid target {text!r}: unknown protocol {scheme!r} (expected one of {', '.join(_SCHEMES)})"
                )
            default_port = _SCHEME_PORTS[starttls]
            if _parse_ip(rest) is not None and ":" in rest:
                return cls(host=rest, port=default_port, starttls=starttls)
            stripped = rest
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
            return cls(host=host, port=port, ip=pinned, starttls=starttls)
        except ConfigurationError as error:
            raise ConfigurationError(f"invalid target {text!r}: {error}") from None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        pinned = f"{{{self.ip}}}" if self.ip is not None else ""
        scheme = ""
        if self.starttls is not None:
            scheme = "tls://" if self.starttls is StartTLS.NONE else f"{self.starttls.value}://"
        return f"{scheme}{host}:{self.port}{pinned}"


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
    exchange_s: float = attrs.field(
        default=attrs.Factory(lambda timeouts: timeouts.connect_s + 2 * timeouts.read_s, takes_self=True),
        validator=_positive,
    )
    """The longest one connection's whole exchange may take (connect, set-up, handshake, reading, close), however
    the server paces its bytes; by default the connect timeout plus twice the read timeout. A server that keeps an
    exchange going past it is a tarpit: the exchange fails (``ServerStalledError``) and the server is not contacted
    again in that scan of it."""


@attrs.frozen(kw_only=True)
class Limits:
    """How hard a scan may push servers and this machine."""

    max_connections_per_server: int = attrs.field(default=5, validator=_positive)
    """Connections open at once to one server (an IP address and port), whichever path opens them, and whatever
    targets, spellings, scans or callers of one ``Scanner`` lead there."""
    max_connections_per_ip: int = attrs.field(default=10, validator=_positive)
    """Connections open at once to one IP address across all its ports (two ports' worth by default): a host
    listed with many ports is not hit by each port's limit at once."""
    max_concurrent_servers: int = attrs.field(default=50, validator=_positive)
    """Servers scanned at the same time."""
    max_open_connections: int = attrs.field(default=256, validator=_positive)
    """Connections open at once across the whole scan (file descriptors)."""
    max_threads: int = attrs.field(default=32, validator=_positive)
    """Worker threads for blocking (nassl) handshakes across the whole scan."""
    max_retries: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    """Further attempts of a probe whose connection failed, was reset, or timed out."""
    min_connection_interval_s: float = attrs.field(default=0.0, validator=attrs.validators.ge(0))
    """The shortest time between the starts of two connections to one server, for servers that rate-limit
    (``--delay-ms``); 0 for none."""


@attrs.frozen(kw_only=True)
class HttpProxy:
    """An HTTP proxy that opens tunnels with ``CONNECT`` (``--https-tunnel http://user:pass@host:port``)."""

    host: str = attrs.field(converter=_validate_host)
    """The proxy's host name or IP literal."""
    port: int = attrs.field(default=8080)
    """The proxy's TCP port."""
    username: str | None = None
    """User name for ``Proxy-Authorization: Basic``; None for no authentication."""
    password: str | None = attrs.field(default=None, repr=False)
    """Password for ``Proxy-Authorization: Basic``."""

    @port.validator
    def _check_port(self, _: attrs.Attribute[int], value: int) -> None:
        if not 0 < value < 65536:
            raise ConfigurationError(f"proxy port {value} is out of range 1-65535")

    @classmethod
    def parse(cls, url: str) -> HttpProxy:
        """``http://[user[:password]@]host[:port]`` (port 8080 when none is given).

        :raises ConfigurationError: naming the URL (without its password).
        """
        try:
            parts = urllib.parse.urlsplit(url.strip())
            port = parts.port
        except ValueError as error:
            raise ConfigurationError(f"invalid proxy URL {_without_password(url)!r}: {error}") from None
        if parts.scheme.lower() != "http" or not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise ConfigurationError(
                f"invalid proxy URL {_without_password(url)!r}: expected http://[user:password@]host[:port]"
            )
        username = urllib.parse.unquote(parts.username) if parts.username is not None else None
        password = urllib.parse.unquote(parts.password) if parts.password is not None else None
        try:
            return cls(host=parts.hostname, port=port or 8080, username=username, password=password)
        except ConfigurationError as error:
            raise ConfigurationError(f"invalid proxy URL {_without_password(url)!r}: {error}") from None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.username}@" if self.username is not None else ""
        return f"http://{user}{host}:{self.port}"


def _without_password(url: str) -> str:
    return re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", url)


@attrs.frozen(kw_only=True)
class ClientCredentials:
    """A client certificate for servers that ask for one. The files are read when a ``Scanner`` is made.

    ``certificate`` is a PEM file (the leaf first, then any intermediates; it may hold the key too), a DER
    certificate, or a PKCS#12 bundle (``.p12``/``.pfx``) holding both; ``key`` is a PEM or DER private key,
    None when ``certificate`` holds it.
    """

    certificate: Path = attrs.field(converter=Path)
    """The certificate (chain) file, or a PKCS#12 bundle."""
    key: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    """The private key file; None when ``certificate`` holds it (PEM or PKCS#12)."""
    password: str | None = attrs.field(default=None, repr=False)
    """The password of an encrypted key or of the PKCS#12 bundle."""


@attrs.frozen(kw_only=True)
class ScanConfig:
    """Everything a scan needs besides the targets and the checks."""

    timeouts: Timeouts = Timeouts()
    """Network time limits."""
    limits: Limits = Limits()
    """Concurrency limits."""
    starttls: StartTLS = StartTLS.NONE
    """How connections become TLS for targets that do not say (``ServerTarget.starttls``)."""
    xmpp_to: str | None = attrs.field(default=None, converter=attrs.converters.optional(_validate_host))
    """The domain in the XMPP stream header (``to=``); None: the target's host."""
    smtp_ehlo_name: str = attrs.field(default="tlsprobe.invalid", converter=_validate_host)
    """The name tlsprobe gives itself in SMTP ``EHLO``."""
    https_tunnel: HttpProxy | None = None
    """Reach every server through this HTTP CONNECT proxy (DNS is then the proxy's job)."""
    client_credentials: ClientCredentials | None = None
    """The client certificate offered to servers that ask for one, in full handshakes."""
    all_ips: bool = False
    """Scan every address a host name resolves to, each as a server of its own, rather than the first."""
    policy: Policy | None = None
    """Judge every server against this policy (``tlsprobe.policy.mozilla_profile``, ``load_policy``); the verdict
    is then in ``ServerScanResult.compliance``. None: no verdict (findings and grade are always given)."""
