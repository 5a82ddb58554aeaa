"""Targets and configuration: parsed and validated without any I/O, with errors that name the bad text."""

from __future__ import annotations

import ipaddress

import pytest

from tlsprobe import ConfigurationError, InvalidTargetLine, Limits, ServerTarget, Timeouts, parse_target_lines


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
    ],
)
def test_limits_and_timeouts_are_validated(build: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - ConfigurationError or attrs' ValueError both name the field
        build()  # type: ignore[operator]
