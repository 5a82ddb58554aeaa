"""Targets and configuration: parsed and validated without any I/O, with errors that name the bad text."""

from __future__ import annotations

import ipaddress

import pytest

from tlsprobe import ConfigurationError, InvalidTargetLine, Limits, ServerTarget, Timeouts, parse_target_lines
from tlsprobe._model._config import HttpProxy, StartTLS


@pytest.mark.parametrize(
    ("text", "host", "port", "ip"),
    [
        ("example.com", "example.com", 443, None),
        ("Example.COM:8443", "example.com", 8443, None),
        ("example.com.", "example.com", 443, None),
        ("127.0.0.1:4433", "127.0.0.1", 4433, None),
        ("[::1]:4433", "::1", 4433, None),
        ("[::1]", "::1", 443, None),
        ("::1", "::1", 443, None),
        ("example.com:8443{10.0.0.7}", "example.com", 8443, ipaddress.ip_address("10.0.0.7")),
        ("example.com{::1}", "example.com", 443, ipaddress.ip_address("::1")),
        ("example.com:25{[2001:db8::1]}", "example.com", 25, ipaddress.ip_address("2001:db8::1")),
        ("bücher.example:443", "xn--bcher-kva.example", 443, None),
        ("  spaced.example  ", "spaced.example", 443, None),
    ],
)
def test_target_forms_parse(text: str, host: str, port: int, ip: object) -> None:
    target = ServerTarget.parse(text)
    assert (target.host, target.port, target.ip) == (host, port, ip)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty target"),
        ("example.com:http", "'http' is not a number"),
        ("example.com:0", "out of range"),
        ("example.com:70000", "out of range"),
        ("[example.com]:443", "is not an IPv6 address"),
        ("[127.0.0.1]:443", "is not an IPv6 address"),
        ("example.com{not-an-ip}", "'not-an-ip' is not an IP address"),
        ("exa mple.com", "invalid host name"),
        ("-bad-.example", "invalid host name"),
        ("a" * 64 + ".example", "invalid host name"),
        ("host:1:2", "invalid target"),
    ],
)
def test_invalid_targets_name_the_offending_text(text: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        ServerTarget.parse(text)
    assert fragment in str(raised.value)
    if text.strip():
        assert repr(text) in str(raised.value) or text in str(raised.value)


def test_server_name_is_never_an_ip_literal() -> None:
    assert ServerTarget.parse("example.com:443{127.0.0.1}").server_name == "example.com"
    assert ServerTarget.parse("127.0.0.1").server_name is None
    assert ServerTarget.parse("[::1]:8443").server_name is None


def test_target_text_round_trips() -> None:
    for text in ("example.com:443", "[::1]:8443", "example.com:25{127.0.0.1}", "example.com:443{::1}"):
        assert str(ServerTarget.parse(text)) == text
        assert ServerTarget.parse(str(ServerTarget.parse(text))) == ServerTarget.parse(text)


def test_targets_file_skips_comments_and_blank_lines_and_reports_bad_lines() -> None:
    lines = [
        "# production web servers\n",
        "example.com\n",
        "\n",
        "   \n",
        "example.org:8443  # the admin port\n",
        "bad host name\n",
        "[::1]:4433\n",
        "example.net:99999\n",
    ]
    parsed = list(parse_target_lines(lines, source="targets.txt"))
    assert [str(item) for item in parsed if isinstance(item, ServerTarget)] == [
        "example.com:443",
        "example.org:8443",
        "[::1]:4433",
    ]
    invalid = [item for item in parsed if isinstance(item, InvalidTargetLine)]
    assert [(line.line_number, line.text) for line in invalid] == [
        (6, "bad host name"),
        (8, "example.net:99999"),
    ]
    assert all(line.source == "targets.txt" for line in invalid)
    assert "out of range" in invalid[1].error


def test_targets_file_is_read_lazily() -> None:
    def lines():
        yield "first.example\n"
        raise AssertionError("read past the first target")

    assert str(next(iter(parse_target_lines(lines(), source="x")))) == "first.example:443"


@pytest.mark.parametrize(
    "build",
    [
        lambda: Timeouts(connect_s=0),
        lambda: Timeouts(read_s=-1),
        lambda: Limits(max_connections_per_server=0),
        lambda: Limits(max_retries=-1),
        lambda: Limits(min_connection_interval_s=-0.1),
    ],
)
def test_limits_and_timeouts_are_validated(build: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - ConfigurationError or attrs' ValueError both name the field
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "starttls", "port", "round_trip"),
    [
        ("smtp://mail.example.com", StartTLS.SMTP, 25, "smtp://mail.example.com:25"),
        ("smtp://mail.example.com:587", StartTLS.SMTP, 587, "smtp://mail.example.com:587"),
        ("IMAP://[::1]", StartTLS.IMAP, 143, "imap://[::1]:143"),
        ("xmpp_server://chat.example:5269{10.0.0.7}", StartTLS.XMPP_SERVER, 5269, None),
        ("postgres://db.example", StartTLS.POSTGRES, 5432, "postgres://db.example:5432"),
        ("rdp://::1", StartTLS.RDP, 3389, "rdp://[::1]:3389"),
        ("tls://example.com", StartTLS.NONE, 443, "tls://example.com:443"),
        ("auto://example.com:389", StartTLS.AUTO, 389, None),
    ],
)
def test_a_target_may_name_its_protocol(text: str, starttls: StartTLS, port: int, round_trip: str | None) -> None:
    target = ServerTarget.parse(text)
    assert (target.starttls, target.port) == (starttls, port)
    assert str(target) == (round_trip or text)
    assert ServerTarget.parse(str(target)) == target
    assert ServerTarget.parse("example.com").starttls is None  # the scan's default applies


def test_unknown_protocols_and_bad_sni_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="unknown protocol 'gopher'"):
        ServerTarget.parse("gopher://example.com")
    with pytest.raises(ConfigurationError, match="SNI carries host names only"):
        ServerTarget(host="example.com", sni="192.0.2.1")
    with pytest.raises(ConfigurationError, match="sends no SNI"):
        ServerTarget(host="example.com", sni="other.example", send_sni=False)
    assert ServerTarget(host="example.com", sni="Other.Example.").sni == "other.example"


def test_proxy_urls() -> None:
    proxy = HttpProxy.parse("http://user:p%40ss@proxy.example:3128")
    assert (proxy.host, proxy.port, proxy.username, proxy.password) == ("proxy.example", 3128, "user", "p@ss")
    assert "p@ss" not in repr(proxy) and str(proxy) == "http://user@proxy.example:3128"
    assert HttpProxy.parse("http://[::1]").port == 8080
    for bad in ("https://proxy.example:3128", "http://proxy.example:99999", "http://user:secret@/path"):
        with pytest.raises(ConfigurationError) as raised:
            HttpProxy.parse(bad)
        assert "secret" not in str(raised.value)
