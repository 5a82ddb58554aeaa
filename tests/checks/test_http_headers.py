"""The ``http_headers`` check: the pure HTTP parsing and header interpretation, then real HTTPS servers on
127.0.0.1 (Python's ssl with a scripted responder, LocalTLSServer, OpenSSL 1.0.2 from nassl, openssl s_server)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.servers.http_server import CLOSE, STALL, HTTPSTestServer, ReceivedRequest, http_response, routes
from tests.servers.processes import start_nassl_server, start_openssl_s_server
from tlsprobe import (
    CheckCompleted,
    CheckFailed,
    ScanConfig,
    ServerScanResult,
    Timeouts,
    TLSVersion,
    json_schema,
    scan_server,
    to_jsonable,
)
from tlsprobe._exceptions import (
    ClientCertificateRequiredError,
    ConfigurationError,
    ConnectionClosedError,
    MalformedServerResponseError,
)
from tlsprobe._model._results import ErrorKind
from tlsprobe._tls._http import fetch_http_response
from tlsprobe.checks.http_headers import (
    HTTPHeadersCheck,
    HTTPHeadersResult,
    RedirectEnd,
    RedirectHop,
    interpret_http_headers,
    interpret_redirect,
)
from tlsprobe.testing import LocalTLSServer, TestPKI
from tlsprobe.wire._http import (
    HTTPResponse,
    HTTPResponseParser,
    StrictTransportSecurity,
    build_request,
    host_header,
    parse_strict_transport_security,
    resolve_redirect,
)

pytestmark = pytest.mark.anyio

NAME = "http_headers"
FULL_HSTS = "max-age=63072000; includeSubDomains; preload"


def _parse(*pieces: bytes, eof: bool = False) -> HTTPResponse:
    parser = HTTPResponseParser()
    for piece in pieces:
        parser.feed(piece)
    if eof:
        parser.feed_eof()
    assert parser.is_complete
    return parser.response()


def _hsts(*values: str) -> StrictTransportSecurity:
    parsed = parse_strict_transport_security(values)
    assert parsed is not None
    return parsed


# -- the request -------------------------------------------------------------------------------------------------


def test_request_names_the_host_asks_to_close_and_identifies_tlsprobe() -> None:
    request = build_request("/start?x=1", host_header("example.com", 443), user_agent="tlsprobe/test")
    assert request == (
        b"GET /start?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: tlsprobe/test\r\nAccept: */*\r\n"
        b"Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
    )
    assert host_header("example.com", 8443) == "example.com:8443"
    assert host_header("2001:db8::1", 443) == "[2001:db8::1]"
    assert host_header("2001:db8::1", 8443) == "[2001:db8::1]:8443"


@pytest.mark.parametrize("path", ["index.html", "/a b", "/a\r\nX-Injected: 1", "/caf\u00e9", "/a#frag", ""])
def test_a_path_that_could_break_the_request_line_is_refused(path: str) -> None:
    with pytest.raises(ConfigurationError, match="an HTTP path must"):
        HTTPHeadersCheck(path=path)
    with pytest.raises(ValueError, match="an HTTP path must"):
        build_request(path, "example.com")


# -- the response parser -----------------------------------------------------------------------------------------

_FOLDED = (
    b"HTTP/1.1 200 OK\r\n"
    b"content-security-policy: default-src 'self';\r\n"
    b"\t script-src 'self'\r\n"
    b"X-FRAME-OPTIONS: DENY\r\n"
    b"x-frame-options: SAMEORIGIN\r\n"
    b"Bad Header Line\r\n"
    b"Content-Length: 5\r\n"
    b"\r\n"
    b"hello"
)


def test_headers_are_case_insensitive_folded_lines_are_joined_and_repeats_combined() -> None:
    response = _parse(_FOLDED)
    assert (response.http_version, response.status_code, response.reason) == ("1.1", 200, "OK")
    assert response.header("Content-Security-Policy") == "default-src 'self'; script-src 'self'"
    assert response.header_values("X-Frame-Options") == ("DENY", "SAMEORIGIN")
    assert response.header("x-frame-options") == "DENY, SAMEORIGIN"
    assert response.header("Bad Header Line") is None  # a line without a colon is no header
    assert (response.body, response.body_complete) == (b"hello", True)


_CHUNKED = (
    b"HTTP/1.1 100 Continue\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Frame-Options: DENY\r\n\r\n"
    b"3\r\nabc\r\n10;name=value\r\n0123456789abcdef\r\n0\r\n\r\n"
)


@pytest.mark.parametrize("raw", [_FOLDED, _CHUNKED])
def test_the_parser_gives_the_same_answer_whatever_the_segmentation(raw: bytes) -> None:
    whole = _parse(raw)
    assert whole.body_complete
    assert _parse(*(raw[index : index + 1] for index in range(len(raw)))) == whole
    assert _parse(raw[:7], raw[7:50], raw[50:]) == whole


def test_chunked_body_is_decoded_and_interim_responses_are_skipped() -> None:
    response = _parse(
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        b"5;ext=1\r\nhello\r\n",
        b"7\r\n, world\r\n0\r\nTrailer-Field: ignored\r\n\r\n",
    )
    assert response.status_code == 200
    assert response.header("Link") is None  # that header belonged to the interim response
    assert (response.body, response.body_complete) == (b"hello, world", True)


def test_body_until_close_and_the_body_bound() -> None:
    until_close = _parse(b"HTTP/1.0 200 OK\r\n\r\nall of it", eof=True)
    assert (until_close.http_version, until_close.body, until_close.body_complete) == ("1.0", b"all of it", True)
    truncated = _parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", eof=True)
    assert (truncated.body, truncated.body_complete) == (b"half", False)
    parser = HTTPResponseParser(max_body_bytes=4)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    assert parser.is_complete  # done at the bound: the rest of the body is not waited for
    assert (parser.response().body, parser.response().body_complete) == (b"0123", False)
    no_body = _parse(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n")
    assert (no_body.body, no_body.body_complete) == (b"", True)


def test_bad_chunked_framing_ends_the_body_not_the_response() -> None:
    response = _parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Frame-Options: DENY\r\n\r\nzz\r\n")
    assert response.header("X-Frame-Options") == "DENY"
    assert response.body_complete is False


def test_oversize_head_is_an_error_as_soon_as_the_bound_is_passed() -> None:
    parser = HTTPResponseParser(max_header_bytes=1024)
    parser.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(MalformedServerResponseError, match="head is larger than 1024 bytes"):
        for _ in range(100):
            parser.feed(b"X-Padding: " + b"a" * 20 + b"\r\n")


@pytest.mark.parametrize(
    ("pieces", "shown"),
    [
        ((b"SSH-2.0-OpenSSH_9.6\r\n",), "b'SSH-2.0-OpenSSH_9.6\\r\\n'"),
        ((b"H", b"TTX"), "b'HTTX'"),
        ((b"\x15\x03\x03\x00\x02\x02\x28",), "b'\\x15\\x03\\x03\\x00\\x02\\x02('"),
        ((b"x" * 100,), "b'" + "x" * 40 + "'..."),
    ],
)
def test_bytes_that_are_not_http_are_refused_from_the_first_bytes(pieces: tuple[bytes, ...], shown: str) -> None:
    parser = HTTPResponseParser()
    with pytest.raises(MalformedServerResponseError) as raised:
        for piece in pieces:
            parser.feed(piece)
    assert str(raised.value) == f"the service did not answer with HTTP: first bytes {shown}"


def test_malformed_status_line_and_early_close() -> None:
    with pytest.raises(MalformedServerResponseError, match=r"malformed HTTP status line: b'HTTP/1.1 OK'"):
        _parse(b"HTTP/1.1 OK\r\n\r\n")
    with pytest.raises(ConnectionClosedError, match="without answering the HTTP request"):
        HTTPResponseParser().feed_eof()
    parser = HTTPResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nServer: x")
    with pytest.raises(ConnectionClosedError, match=r"in the middle of the HTTP response head \(26 bytes received"):
        parser.feed_eof()


@pytest.mark.slow  # hundreds of examples: about 0.3 s
@settings(max_examples=200, deadline=None)
@given(
    head=st.lists(st.sampled_from([b"HTTP/1.1 200 OK", b"HTTP/1.1 103 Hints", b"Transfer-Encoding: chunked",
                                   b"Content-Length: 3", b"X: \xff", b" folded", b"", b"0", b"3;x", b"abc", b"\r"]),
                  max_size=12),
    noise=st.binary(max_size=64),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=6),
)  # fmt: skip
def test_hostile_bytes_only_raise_tlsprobe_errors(head: list[bytes], noise: bytes, cuts: list[int]) -> None:
    raw = b"\r\n".join(head) + noise
    parser = HTTPResponseParser(max_header_bytes=256, max_body_bytes=16)
    try:
        for start, end in zip([0, *sorted(cuts)], [*sorted(cuts), len(raw)], strict=True):
            parser.feed(raw[start:end])
        parser.feed_eof()
    except (MalformedServerResponseError, ConnectionClosedError):
        return
    response = parser.response()
    assert len(response.body) <= 16
    parse_strict_transport_security(response.header_values("X"))
    for value in response.header_values("X"):
        resolve_redirect(value, host="example.com", port=443, path="/")


@pytest.mark.slow  # hundreds of examples: 0.2 to 0.5 s
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_header_text_is_interpreted_without_raising(text: str) -> None:
    hsts = _hsts(text)
    assert hsts.preload_ready <= hsts.valid
    target = resolve_redirect(text, host="example.com", port=443, path="/a")
    if target is not None:
        assert target.request_target.startswith("/") and target.request_target.isprintable()
        assert " " not in target.request_target


# -- Strict-Transport-Security -----------------------------------------------------------------------------------


def test_hsts_with_every_directive_is_preload_ready() -> None:
    assert _hsts(FULL_HSTS) == StrictTransportSecurity(
        raw=FULL_HSTS,
        header_count=1,
        valid=True,
        max_age=63072000,
        include_subdomains=True,
        preload=True,
        preload_ready=True,
        problems=(),
    )


@pytest.mark.parametrize(
    ("value", "valid", "max_age", "subdomains", "preload", "ready", "problems"),
    [
        ("max-age=31536000", True, 31536000, False, False, False, ()),
        ('MAX-AGE="31536000" ; INCLUDESUBDOMAINS;;Preload', True, 31536000, True, True, True, ()),
        ("max-age = 31536000 ; includeSubDomains; preload", True, 31536000, True, True, True, ()),
        ("max-age=31535999; includeSubDomains; preload", True, 31535999, True, True, False, ()),
        ("max-age=0", True, 0, False, False, False, ()),
        ("includeSubDomains; preload", False, None, True, True, False, ("max-age is missing",)),
        ("max-age=1y", False, None, False, False, False, ("max-age must be a number of seconds, not '1y'",)),
        ("max-age=-1", False, None, False, False, False, ("max-age must be a number of seconds, not '-1'",)),
        ("max-age", False, None, False, False, False, ("max-age has no value",)),
        (
            "max-age=31536000, includeSubDomains",  # a comma where a semicolon belongs
            False,
            None,
            False,
            False,
            False,
            (
                "malformed value in directive 'max-age=31536000, includeSubDomains'",
                "max-age must be a number of seconds, not '31536000, includeSubDomains'",
            ),
        ),
        (
            "max-age=1; max-age=2",
            False,
            2,
            False,
            False,
            False,
            ("directive 'max-age' appears more than once",),
        ),
        (
            "max-age=63072000; includeSubdomain; preload",
            True,
            63072000,
            False,
            True,
            False,
            ("unknown directive 'includeSubdomain' is ignored",),
        ),
        ("max-age=1; preload=yes", True, 1, False, True, False, ("preload takes no value",)),
        ('max-age="1', False, None, False, False, False, ("a quoted string is not terminated", "max-age is missing")),
    ],
)
def test_hsts_directives_as_a_browser_reads_them(
    value: str,
    valid: bool,
    max_age: int | None,
    subdomains: bool,
    preload: bool,
    ready: bool,
    problems: tuple[str, ...],
) -> None:
    hsts = _hsts(value)
    assert (hsts.valid, hsts.max_age, hsts.include_subdomains, hsts.preload) == (valid, max_age, subdomains, preload)
    assert (hsts.preload_ready, hsts.problems) == (ready, problems)


def test_only_the_first_hsts_header_counts_even_when_it_is_invalid() -> None:
    assert parse_strict_transport_security(()) is None
    first_valid = _hsts("max-age=300", FULL_HSTS)
    assert (first_valid.raw, first_valid.valid, first_valid.max_age, first_valid.preload) == (
        "max-age=300",
        True,
        300,
        False,
    )
    assert first_valid.header_count == 2
    assert first_valid.problems == ("2 Strict-Transport-Security headers: only the first is processed",)
    first_invalid = _hsts("includeSubDomains", FULL_HSTS)
    assert (first_invalid.valid, first_invalid.max_age, first_invalid.preload_ready) == (False, None, False)


# -- redirects ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "url", "same_origin", "request_target"),
    [
        ("/b?q=1#top", "https://example.com/b?q=1", True, "/b?q=1"),
        ("c", "https://example.com/a/c", True, "/a/c"),
        ("../", "https://example.com/", True, "/"),
        ("https://EXAMPLE.com./x", "https://EXAMPLE.com./x", True, "/x"),
        ("https://example.com:443", "https://example.com:443/", True, "/"),
        ("//example.com/s", "https://example.com/s", True, "/s"),
        ("/caf\u00c3\u00a9", "https://example.com/caf%C3%A9", True, "/caf%C3%A9"),  # UTF-8 read as ISO-8859-1
        ("https://www.example.com/", "https://www.example.com/", False, "/"),
        ("https://example.com:8443/", "https://example.com:8443/", False, "/"),
        ("http://example.com/", "http://example.com/", False, "/"),
        ("\\\\evil.example\\x", "https://evil.example/x", False, "/x"),  # a backslash is a slash to browsers
        ("/a b?c\\d", "https://example.com/a%20b?c%5Cd", True, "/a%20b?c%5Cd"),
        ("https://\u00c3\u00a9xample.com/", "https://\u00e9xample.com/", False, "/"),
    ],
)
def test_locations_resolve_against_the_request(location: str, url: str, same_origin: bool, request_target: str) -> None:
    target = resolve_redirect(location, host="example.com", port=443, path="/a/b")
    assert target is not None
    assert (target.url, target.same_origin, target.request_target) == (url, same_origin, request_target)


def test_ip_literal_hosts_and_unusable_locations() -> None:
    v6 = resolve_redirect("https://[2001:db8:0::1]:8443/x", host="2001:db8::1", port=8443, path="/")
    assert v6 is not None and v6.same_origin
    v4 = resolve_redirect("/y", host="127.0.0.1", port=4433, path="/")
    assert v4 is not None and (v4.url, v4.same_origin) == ("https://127.0.0.1:4433/y", True)
    assert resolve_redirect("", host="example.com", port=443, path="/") is None
    assert resolve_redirect("https://example.com:99999/", host="example.com", port=443, path="/") is None
    assert resolve_redirect("ftp://example.com/", host="example.com", port=443, path="/") is None
    assert resolve_redirect("https://[::1/", host="example.com", port=443, path="/") is None
    idn = resolve_redirect("https://b\u00fccher.example/", host="xn--bcher-kva.example", port=443, path="/")
    assert idn is not None and idn.same_origin


def _redirect(status: int, location: str | None, *extra: bytes) -> HTTPResponse:
    head = f"HTTP/1.1 {status} Moved\r\n".encode() + (f"Location: {location}\r\n".encode() if location else b"")
    return _parse(head + b"".join(extra) + b"Content-Length: 0\r\n\r\n")


def test_when_a_redirect_is_followed() -> None:
    def decide(response: HTTPResponse, left: int = 5) -> tuple[RedirectHop | None, RedirectEnd | None, str | None]:
        return interpret_redirect(
            response, host="example.com", port=443, path="/a", requested=("/", "/a"), redirects_left=left
        )

    assert decide(_parse(b"HTTP/1.1 200 OK\r\n\r\n", eof=True)) == (None, RedirectEnd.NOT_REDIRECTED, None)
    assert decide(_redirect(300, "/b"))[1] is RedirectEnd.NOT_REDIRECTED  # 300 is not one of the followed
    hop, end, next_path = decide(_redirect(308, "/b", b"Strict-Transport-Security: max-age=5\r\n"))
    assert (end, next_path) == (None, "/b")
    assert hop is not None and (hop.path, hop.status_code, hop.location, hop.url, hop.followed) == (
        "/a",
        308,
        "/b",
        "https://example.com/b",
        True,
    )
    assert hop.strict_transport_security is not None and hop.strict_transport_security.max_age == 5
    assert decide(_redirect(302, "/b"), left=0)[1:] == (RedirectEnd.LIMIT, None)
    assert decide(_redirect(301, "/"))[1] is RedirectEnd.LOOP
    assert decide(_redirect(303, "https://other.example/"))[1] is RedirectEnd.OTHER_ORIGIN
    no_location = decide(_redirect(307, None))
    assert no_location[1] is RedirectEnd.NO_LOCATION and no_location[0] is not None
    assert (no_location[0].location, no_location[0].url) == (None, None)


def test_interpreting_the_last_response() -> None:
    response = _parse(
        b"HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=1\r\nstrict-transport-security: max-age=2\r\n"
        b"X-Frame-Options: DENY\r\nX-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n\r\n",
        eof=True,
    )
    result = interpret_http_headers(
        response,
        tested_version=TLSVersion.TLS1_2,
        requested_path="/",
        final_path="/",
        redirects=(),
        redirect_end=RedirectEnd.NOT_REDIRECTED,
    )
    assert result.strict_transport_security is not None and result.strict_transport_security.max_age == 1
    assert (result.x_frame_options, result.referrer_policy) == ("DENY, DENY", "no-referrer")
    assert result.duplicated_headers == ("strict-transport-security", "x-frame-options")
    assert result.content_security_policy is None and result.final_location is None


# -- real servers ------------------------------------------------------------------------------------------------


def _completed(result: ServerScanResult) -> HTTPHeadersResult:
    outcome = result.outcome(NAME)
    assert isinstance(outcome, CheckCompleted), outcome
    assert isinstance(outcome.result, HTTPHeadersResult)
    return outcome.result


def _failed(result: ServerScanResult, kind: ErrorKind) -> str:
    outcome = result.outcome(NAME)
    assert isinstance(outcome, CheckFailed), outcome
    assert outcome.error.kind is kind, outcome.error
    return outcome.error.message


def _connections(result: ServerScanResult) -> int:
    outcome = result.outcome(NAME)
    assert isinstance(outcome, CheckCompleted | CheckFailed)
    return outcome.cost.connections


@pytest.fixture
def https_server(test_pki: TestPKI, request: pytest.FixtureRequest) -> Iterator[HTTPSTestServer]:
    """An HTTPSTestServer answering with the responder the test passes through ``indirect``."""
    with HTTPSTestServer(request.param, certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as server:
        yield server


def _serve(answers: dict[str, Any], default: Any = None) -> Any:
    return pytest.mark.parametrize("https_server", [routes(answers, default)], indirect=True)


_EVERY_HEADER = [
    ("Strict-Transport-Security", FULL_HSTS),
    ("Content-Security-Policy", "default-src 'self'"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("Content-Security-Policy-Report-Only", "script-src 'none'; report-uri /csp"),
    ("X-Frame-Options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "geolocation=(), camera=()"),
    ("Expect-CT", "max-age=86400, enforce"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Embedder-Policy", "require-corp"),
    ("Cross-Origin-Resource-Policy", "same-site"),
    ("Public-Key-Pins", 'pin-sha256="d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM="; max-age=60'),
    ("Public-Key-Pins-Report-Only", 'pin-sha256="E9CZ9INDbd+2eRQozYqqbQ2yXLVKB9+xcprMF+44U1g="; max-age=60'),
]


@pytest.mark.realserver
@_serve({"/": http_response(200, _EVERY_HEADER, b"<html>hello</html>" * 50, chunked=True)})
async def test_every_security_header_from_a_real_server(https_server: HTTPSTestServer) -> None:
    result = await scan_server(f"127.0.0.1:{https_server.port}", [HTTPHeadersCheck()])
    assert _completed(result) == HTTPHeadersResult(
        tested_version=TLSVersion.TLS1_3,
        requested_path="/",
        final_path="/",
        status_code=200,
        redirects=(),
        redirect_end=RedirectEnd.NOT_REDIRECTED,
        final_location=None,
        strict_transport_security=_hsts(FULL_HSTS),
        content_security_policy="default-src 'self', frame-ancestors 'none'",
        content_security_policy_report_only="script-src 'none'; report-uri /csp",
        x_frame_options="DENY",
        x_content_type_options="nosniff",
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy="geolocation=(), camera=()",
        expect_ct="max-age=86400, enforce",
        cross_origin_opener_policy="same-origin",
        cross_origin_embedder_policy="require-corp",
        cross_origin_resource_policy="same-site",
        public_key_pins='pin-sha256="d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM="; max-age=60',
        public_key_pins_report_only='pin-sha256="E9CZ9INDbd+2eRQozYqqbQ2yXLVKB9+xcprMF+44U1g="; max-age=60',
        duplicated_headers=("content-security-policy",),
    )
    assert _connections(result) == 1
    # The request as the server read it: an IP-literal target gets no SNI, and its port in Host.
    [request] = https_server.requests
    assert (request.method, request.target, request.server_name) == ("GET", "/", None)
    assert request.header("Host") == f"127.0.0.1:{https_server.port}"
    assert request.header("Connection") == "close"
    assert (request.header("User-Agent") or "").startswith("tlsprobe/")
    # The result is JSON that the generated schema accepts.
    schema = json_schema([HTTPHeadersResult])
    jsonschema.validate(to_jsonable(result), {"$defs": schema["$defs"], "$ref": "#/$defs/ServerScanResult"})


@pytest.mark.realserver
@_serve({"/start?x=1": http_response(200, [("Strict-Transport-Security", "max-age=300; includeSubDomains")])})
async def test_named_target_sends_sni_and_host_and_hsts_without_preload(https_server: HTTPSTestServer) -> None:
    check = HTTPHeadersCheck(path="/start?x=1")
    result = await scan_server(f"www.tlsprobe.test:{https_server.port}{{127.0.0.1}}", [check])
    hsts = _completed(result).strict_transport_security
    assert hsts == StrictTransportSecurity(
        raw="max-age=300; includeSubDomains",
        header_count=1,
        valid=True,
        max_age=300,
        include_subdomains=True,
        preload=False,
        preload_ready=False,
        problems=(),
    )
    [request] = https_server.requests
    assert (request.target, request.server_name) == ("/start?x=1", "www.tlsprobe.test")
    assert request.header("Host") == f"www.tlsprobe.test:{https_server.port}"


@pytest.mark.realserver
async def test_no_hsts_at_tls_1_2(test_pki: TestPKI) -> None:
    responder = routes({"/": http_response(200, [("X-Content-Type-Options", "nosniff")])})
    with HTTPSTestServer(
        responder, certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, maximum_version=ssl.TLSVersion.TLSv1_2
    ) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [HTTPHeadersCheck()])
    headers = _completed(result)
    assert (headers.tested_version, headers.status_code) == (TLSVersion.TLS1_2, 200)
    assert headers.strict_transport_security is None
    assert headers.x_content_type_options == "nosniff"
    assert headers.content_security_policy is None and headers.x_frame_options is None


@pytest.mark.realserver
@_serve({"/": http_response(200, [("Strict-Transport-Security", "includeSubDomains; preload")])})
async def test_invalid_hsts_without_max_age(https_server: HTTPSTestServer) -> None:
    result = await scan_server(f"127.0.0.1:{https_server.port}", [HTTPHeadersCheck()])
    hsts = _completed(result).strict_transport_security
    assert hsts is not None
    assert (hsts.valid, hsts.max_age, hsts.include_subdomains, hsts.preload) == (False, None, True, True)
    assert (hsts.preload_ready, hsts.problems) == (False, ("max-age is missing",))


@pytest.mark.realserver
async def test_local_tls_server_answers_hsts_without_preload(test_pki: TestPKI) -> None:
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [HTTPHeadersCheck()])
    headers = _completed(result)
    assert (headers.status_code, headers.redirect_end) == (200, RedirectEnd.NOT_REDIRECTED)
    assert headers.strict_transport_security == StrictTransportSecurity(
        raw="max-age=31536000; includeSubDomains",
        header_count=1,
        valid=True,
        max_age=31536000,
        include_subdomains=True,
        preload=False,
        preload_ready=False,
        problems=(),
    )
    assert _connections(result) == 1


def _chain_responder(port_holder: list[int]) -> Any:
    def respond(request: ReceivedRequest) -> bytes:
        if request.target == "/":
            return http_response(301, [("Location", "/a"), ("Strict-Transport-Security", "max-age=60")])
        if request.target == "/a":  # absolute, same host and port
            return http_response(302, [("Location", f"https://127.0.0.1:{port_holder[0]}/b#section")])
        return http_response(200, [("Strict-Transport-Security", FULL_HSTS), ("X-Frame-Options", "DENY")])

    return respond


@pytest.mark.realserver
async def test_redirect_chain_on_the_same_host_is_followed(test_pki: TestPKI) -> None:
    port: list[int] = []
    with HTTPSTestServer(_chain_responder(port), certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as server:
        port.append(server.port)
        result = await scan_server(f"127.0.0.1:{server.port}", [HTTPHeadersCheck()])
    headers = _completed(result)
    assert headers.redirects == (
        RedirectHop(
            path="/",
            status_code=301,
            location="/a",
            url=f"https://127.0.0.1:{server.port}/a",
            followed=True,
            strict_transport_security=_hsts("max-age=60"),
        ),
        RedirectHop(
            path="/a",
            status_code=302,
            location=f"https://127.0.0.1:{server.port}/b#section",
            url=f"https://127.0.0.1:{server.port}/b",
            followed=True,
            strict_transport_security=None,
        ),
    )
    assert (headers.requested_path, headers.final_path, headers.status_code) == ("/", "/b", 200)
    assert (headers.redirect_end, headers.final_location) == (RedirectEnd.NOT_REDIRECTED, None)
    assert headers.strict_transport_security == _hsts(FULL_HSTS)
    assert headers.x_frame_options == "DENY"
    assert [request.target for request in server.requests] == ["/", "/a", "/b"]
    assert _connections(result) == 3  # one per hop


@pytest.mark.realserver
@_serve(
    {
        "/": http_response(302, [("Location", "/login"), ("X-Frame-Options", "DENY")]),
        "/login": http_response(301, [("Location", "https://accounts.example.net/sso?from=x")]),
        "/plain": http_response(301, [("Location", "http://127.0.0.1/plain")]),
    }
)
async def test_redirect_to_another_host_is_reported_not_followed(https_server: HTTPSTestServer) -> None:
    result = await scan_server(f"127.0.0.1:{https_server.port}", [HTTPHeadersCheck()])
    headers = _completed(result)
    assert (headers.redirect_end, headers.final_location) == (
        RedirectEnd.OTHER_ORIGIN,
        "https://accounts.example.net/sso?from=x",
    )
    assert [(hop.path, hop.status_code, hop.followed) for hop in headers.redirects] == [
        ("/", 302, True),
        ("/login", 301, False),
    ]
    # Headers are those of the redirect that was not followed.
    assert (headers.final_path, headers.status_code, headers.x_frame_options) == ("/login", 301, None)
    assert _connections(result) == 2
    downgrade = await scan_server(f"127.0.0.1:{https_server.port}", [HTTPHeadersCheck(path="/plain")])
    assert (_completed(downgrade).redirect_end, _completed(downgrade).final_location) == (
        RedirectEnd.OTHER_ORIGIN,
        "http://127.0.0.1/plain",
    )
    assert _connections(downgrade) == 1


@pytest.mark.realserver
@_serve({"/": http_response(302, [("Location", "/a")]), "/a": http_response(302, [("Location", "/")])})
async def test_redirect_loop_is_detected(https_server: HTTPSTestServer) -> None:
    result = await scan_server(f"127.0.0.1:{https_server.port}", [HTTPHeadersCheck()])
    headers = _completed(result)
    assert (headers.redirect_end, headers.final_path, headers.final_location) == (
        RedirectEnd.LOOP,
        "/a",
        f"https://127.0.0.1:{https_server.port}/",
    )
    assert [hop.followed for hop in headers.redirects] == [True, False]
    assert _connections(result) == 2


def _endless(request: ReceivedRequest) -> bytes:
    step = int(request.target.rsplit("/", 1)[-1] or 0)
    return http_response(307, [("Location", f"/{step + 1}")])


@pytest.mark.realserver
@pytest.mark.parametrize("https_server", [_endless], indirect=True)
async def test_endless_redirects_are_capped(https_server: HTTPSTestServer) -> None:
    result = await scan_server(f"127.0.0.1:{https_server.port}", [HTTPHeadersCheck(max_redirects=3)])
    headers = _completed(result)
    assert (headers.redirect_end, headers.final_path, headers.final_location) == (
        RedirectEnd.LIMIT,
        "/3",
        f"https://127.0.0.1:{https_server.port}/4",
    )
    assert [hop.followed for hop in headers.redirects] == [True, True, True, False]
    assert _connections(result) == 4  # max_redirects + 1
    assert [request.target for request in https_server.requests] == ["/", "/1", "/2", "/3"]


@pytest.mark.realserver
@_serve({"/ssh": b"SSH-2.0-OpenSSH_9.6\r\n", "/close": CLOSE, "/big": http_response(200, [("X-Big", "a" * 70000)])})
async def test_a_service_that_does_not_answer_with_http_fails_the_check(https_server: HTTPSTestServer) -> None:
    target = f"127.0.0.1:{https_server.port}"
    garbage = await scan_server(target, [HTTPHeadersCheck(path="/ssh")])
    assert _failed(garbage, ErrorKind.MALFORMED_RESPONSE) == (
        "the service did not answer with HTTP: first bytes b'SSH-2.0-OpenSSH_9.6\\r\\n'"
    )
    assert _connections(garbage) == 1
    closed = await scan_server(target, [HTTPHeadersCheck(path="/close")])
    assert _failed(closed, ErrorKind.CONNECTION_CLOSED) == (
        "the server closed the connection without answering the HTTP request: the service does not seem to speak HTTP"
    )
    oversize = await scan_server(target, [HTTPHeadersCheck(path="/big")])
    assert _failed(oversize, ErrorKind.MALFORMED_RESPONSE) == (
        "the HTTP response head is larger than 65536 bytes: tlsprobe reads no further"
    )


@pytest.mark.realserver
@pytest.mark.parametrize("https_server", [lambda request: STALL], indirect=True)
async def test_a_silent_service_times_out(https_server: HTTPSTestServer) -> None:
    config = ScanConfig(timeouts=Timeouts(read_s=0.5))
    result = await scan_server(f"127.0.0.1:{https_server.port}", [HTTPHeadersCheck()], config=config)
    assert _failed(result, ErrorKind.TIMEOUT) == (
        "the server did not answer the HTTP request within 0.5 s: the service does not seem to speak HTTP"
    )


@pytest.mark.realserver
async def test_tls_server_that_closes_after_the_handshake(test_pki: TestPKI) -> None:
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, http_response=False) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [HTTPHeadersCheck()])
    assert "without answering the HTTP request" in _failed(result, ErrorKind.CONNECTION_CLOSED)


@pytest.mark.realserver
async def test_server_that_requires_a_client_certificate(test_pki: TestPKI) -> None:
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, client_auth="required", ca_file=test_pki.ca_cert
    ) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [HTTPHeadersCheck()])
        # The blocking half on its own: under TLS 1.3 the refusal only comes after the handshake, as an alert.
        with socket.create_connection(server.address, timeout=5) as sock, pytest.raises(ClientCertificateRequiredError):
            fetch_http_response(sock, TLSVersion.TLS1_3, None, build_request("/", "127.0.0.1"))
    assert _failed(result, ErrorKind.CLIENT_CERTIFICATE_REQUIRED) == (
        "the server requires a client certificate and tlsprobe has none to present: its HTTP headers cannot be read"
    )
    assert _connections(result) == 0  # the connectivity phase already knew


@pytest.mark.realserver
async def test_ssl3_only_server_is_read_with_the_legacy_client(test_pki: TestPKI) -> None:
    with start_nassl_server(cert=test_pki.rsa_chain, key=test_pki.rsa_key, version="sslv3", ciphers="ALL") as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [HTTPHeadersCheck()])
    headers = _completed(result)
    assert (headers.tested_version, headers.status_code, headers.strict_transport_security) == (
        TLSVersion.SSL3,
        200,
        None,
    )


@pytest.mark.realserver
async def test_openssl_s_server_www_page(test_pki: TestPKI) -> None:
    with start_openssl_s_server([], test_pki.rsa_chain, test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", [HTTPHeadersCheck()])
    headers = _completed(result)
    assert (headers.tested_version, headers.status_code) == (TLSVersion.TLS1_3, 200)
    assert (headers.redirect_end, headers.strict_transport_security, headers.x_frame_options) == (
        RedirectEnd.NOT_REDIRECTED,
        None,
        None,
    )
