"""HTTP security headers over TLS: Strict-Transport-Security and the other headers a browser acts on.

How: a full nassl handshake at the server's highest version (SNI = the target's name; none for an IP literal),
then ``GET path`` with ``Host:`` the target's host (and port unless 443) and ``Connection: close``. The response
head is parsed within bounds (64 KiB); the body is not needed. A redirect (301, 302, 303, 307, 308) is followed
only to the same host and port over https, up to ``max_redirects`` times and never to a path already requested;
every redirect is recorded, and a redirect elsewhere is reported, not followed. The response head must arrive
within the read timeout of the request. A service that does not answer with HTTP makes the check fail with the
first bytes it sent, or with how it ended the exchange (closed, alert, silence).

Connections: one per request, so one plus the redirects followed (at most ``max_redirects + 1``); none when the
server requires a client certificate, which tlsprobe cannot present (the check fails at once with that reason).
References: RFC 6797 (HSTS), RFC 9110 and RFC 9112 (HTTP), RFC 7034 (X-Frame-Options), RFC 7469 (HPKP, obsolete),
RFC 9163 (Expect-CT, obsolete), W3C CSP Level 3, Referrer Policy and Permissions Policy, WHATWG Fetch
(X-Content-Type-Options, Cross-Origin-Resource-Policy) and HTML (Cross-Origin-Opener/Embedder-Policy).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any, ClassVar, final

import attrs

from tlsprobe._exceptions import CheckNotApplicable, ClientCertificateRequiredError, ConfigurationError
from tlsprobe._model._config import StartTLS
from tlsprobe._model._results import ClientAuthRequirement
from tlsprobe._probing._context import ServerContext
from tlsprobe._tls._http import fetch_http_response
from tlsprobe.wire._http import (
    REDIRECT_STATUSES,
    HTTPResponse,
    StrictTransportSecurity,
    build_request,
    host_header,
    parse_strict_transport_security,
    resolve_redirect,
    validate_request_target,
)
from tlsprobe.wire._versions import TLSVersion

# Reported headers whose repetition is worth knowing (the result field name is the header name in snake case).
_REPORTED_HEADERS = (
    "Content-Security-Policy",
    "Content-Security-Policy-Report-Only",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Permissions-Policy",
    "Expect-CT",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Embedder-Policy",
    "Cross-Origin-Resource-Policy",
    "Public-Key-Pins",
    "Public-Key-Pins-Report-Only",
)


class RedirectEnd(enum.Enum):
    """Why tlsprobe stopped at the response whose headers are reported."""

    NOT_REDIRECTED = "not_redirected"
    """That response is not a redirect."""
    OTHER_ORIGIN = "other_origin"
    """A redirect to another host or port, or to plain http: not followed."""
    LOOP = "loop"
    """A redirect back to a path already requested: not followed."""
    LIMIT = "limit"
    """A further redirect on the same host, beyond ``max_redirects``: not followed."""
    NO_LOCATION = "no_location"
    """A redirect without a usable ``Location`` header."""


@final
@attrs.frozen(kw_only=True)
class RedirectHop:
    """One redirect response, followed or not."""

    path: str
    """The path requested, which the server answered with this redirect."""
    status_code: int
    """301, 302, 303, 307 or 308."""
    location: str | None
    """The ``Location`` header as sent (None when missing)."""
    url: str | None
    """``location`` resolved to an absolute URL (None when missing or unusable)."""
    followed: bool
    """tlsprobe requested ``url`` next."""
    strict_transport_security: StrictTransportSecurity | None
    """The HSTS header of this redirect: browsers apply it too, and the preload list requires it here."""


@final
@attrs.frozen(kw_only=True)
class HTTPHeadersResult:
    """The security headers of the server's HTTP response, after same-host redirects.

    Headers are those of the last response fetched: the first one that is not a redirect, or the redirect that
    was not followed (``redirect_end`` says which). A header the response does not carry is None; repeated
    headers other than HSTS are joined with ``", "`` (RFC 9110 §5.3) and listed in ``duplicated_headers``.
    """

    tested_version: TLSVersion
    """The protocol version of the connections."""
    requested_path: str
    """The path of the first request."""
    final_path: str
    """The path of the response whose headers are reported."""
    status_code: int
    """That response's status code."""
    redirects: tuple[RedirectHop, ...]
    """Every redirect received, in order."""
    redirect_end: RedirectEnd
    """Why tlsprobe stopped there."""
    final_location: str | None
    """Where the last redirect pointed when it was not followed (None when the response is not a redirect, or
    its ``Location`` is missing or unusable)."""
    strict_transport_security: StrictTransportSecurity | None
    """``Strict-Transport-Security``, interpreted (RFC 6797)."""
    content_security_policy: str | None
    """``Content-Security-Policy``."""
    content_security_policy_report_only: str | None
    """``Content-Security-Policy-Report-Only``: reported violations, nothing enforced."""
    x_frame_options: str | None
    """``X-Frame-Options`` (RFC 7034)."""
    x_content_type_options: str | None
    """``X-Content-Type-Options`` (``nosniff``)."""
    referrer_policy: str | None
    """``Referrer-Policy``."""
    permissions_policy: str | None
    """``Permissions-Policy``."""
    expect_ct: str | None
    """``Expect-CT`` (obsolete: browsers enforce Certificate Transparency without it)."""
    cross_origin_opener_policy: str | None
    """``Cross-Origin-Opener-Policy``."""
    cross_origin_embedder_policy: str | None
    """``Cross-Origin-Embedder-Policy``."""
    cross_origin_resource_policy: str | None
    """``Cross-Origin-Resource-Policy``."""
    public_key_pins: str | None
    """``Public-Key-Pins`` (HPKP, RFC 7469: obsolete and ignored by browsers; a risk to its owner if honoured)."""
    public_key_pins_report_only: str | None
    """``Public-Key-Pins-Report-Only`` (HPKP, obsolete)."""
    duplicated_headers: tuple[str, ...]
    """Names (lower case) of the reported headers, HSTS included, that the response carried more than once."""


def _valid_path(_: object, __: attrs.Attribute[Any], value: str) -> None:
    try:
        validate_request_target(value)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None


@final
@attrs.frozen(kw_only=True)
class HTTPHeadersCheck:
    """HTTP security headers (HSTS, CSP, ...) over TLS."""

    result_type: ClassVar[type] = HTTPHeadersResult

    path: str = attrs.field(default="/", validator=_valid_path)
    """The path of the first request: origin form, printable ASCII."""
    max_redirects: int = attrs.field(default=5, validator=attrs.validators.in_(range(21)))
    """Redirects on the same host to follow at most (0: report the first response, whatever it is)."""

    @property
    def name(self) -> str:
        """``http_headers``."""
        return "http_headers"

    async def run(self, server: ServerContext) -> HTTPHeadersResult:
        """Request ``path``, follow same-host redirects, interpret the last response's headers."""
        profile = server.profile
        version = profile.highest_version
        if version is TLSVersion.SSL2:
            raise CheckNotApplicable("the server speaks only SSL 2.0; tlsprobe sends no HTTP over it")
        if profile.starttls is not StartTLS.NONE:
            raise CheckNotApplicable(f"a {profile.starttls.value} server reached through STARTTLS speaks no HTTP")
        if profile.client_auth is ClientAuthRequirement.REQUIRED:
            raise ClientCertificateRequiredError(
                "the server requires a client certificate and tlsprobe has none to present: "
                "its HTTP headers cannot be read"
            )
        host, port = server.target.host, server.target.port
        hops: list[RedirectHop] = []
        path = self.path
        requested = [path]
        while True:
            request = build_request(path, host_header(host, port))
            response = await server.run_blocking(fetch_http_response, version, profile.server_name, request)
            hop, end, next_path = interpret_redirect(
                response,
                host=host,
                port=port,
                path=path,
                requested=requested,
                redirects_left=self.max_redirects - len(hops),
            )
            if hop is not None:
                hops.append(hop)
            if end is not None:
                return interpret_http_headers(
                    response,
                    tested_version=version,
                    requested_path=self.path,
                    final_path=path,
                    redirects=hops,
                    redirect_end=end,
                )
            assert next_path is not None
            path = next_path
            requested.append(path)


def interpret_redirect(
    response: HTTPResponse, *, host: str, port: int, path: str, requested: Iterable[str], redirects_left: int
) -> tuple[RedirectHop | None, RedirectEnd | None, str | None]:
    """Whether to follow ``response`` (the answer to ``path`` on ``host:port``): ``(hop, end, next_path)``.

    ``hop`` is None when the response is not a redirect; ``end`` is None when the redirect is to be followed to
    ``next_path``. ``requested`` are the paths already requested; ``redirects_left`` how many more may be followed.
    """
    if response.status_code not in REDIRECT_STATUSES:
        return None, RedirectEnd.NOT_REDIRECTED, None
    location = response.header_values("Location")
    raw = location[0] if location else None
    target = resolve_redirect(raw, host=host, port=port, path=path) if raw is not None else None
    if target is None:
        end: RedirectEnd | None = RedirectEnd.NO_LOCATION
    elif not target.same_origin:
        end = RedirectEnd.OTHER_ORIGIN
    elif target.request_target in requested:
        end = RedirectEnd.LOOP
    elif redirects_left <= 0:
        end = RedirectEnd.LIMIT
    else:
        end = None
    hop = RedirectHop(
        path=path,
        status_code=response.status_code,
        location=raw,
        url=target.url if target is not None else None,
        followed=end is None,
        strict_transport_security=parse_strict_transport_security(response.header_values("Strict-Transport-Security")),
    )
    return hop, end, (target.request_target if end is None and target is not None else None)


def interpret_http_headers(
    response: HTTPResponse,
    *,
    tested_version: TLSVersion,
    requested_path: str,
    final_path: str,
    redirects: Iterable[RedirectHop],
    redirect_end: RedirectEnd,
) -> HTTPHeadersResult:
    """The result for ``response``, the last one fetched (the answer to ``final_path``)."""
    hops = tuple(redirects)
    unfollowed = hops[-1] if hops and not hops[-1].followed else None
    duplicated = tuple(
        name.lower()
        for name in ("Strict-Transport-Security", *_REPORTED_HEADERS)
        if len(response.header_values(name)) > 1
    )
    return HTTPHeadersResult(
        tested_version=tested_version,
        requested_path=requested_path,
        final_path=final_path,
        status_code=response.status_code,
        redirects=hops,
        redirect_end=redirect_end,
        final_location=unfollowed.url if unfollowed is not None else None,
        strict_transport_security=parse_strict_transport_security(response.header_values("Strict-Transport-Security")),
        content_security_policy=response.header("Content-Security-Policy"),
        content_security_policy_report_only=response.header("Content-Security-Policy-Report-Only"),
        x_frame_options=response.header("X-Frame-Options"),
        x_content_type_options=response.header("X-Content-Type-Options"),
        referrer_policy=response.header("Referrer-Policy"),
        permissions_policy=response.header("Permissions-Policy"),
        expect_ct=response.header("Expect-CT"),
        cross_origin_opener_policy=response.header("Cross-Origin-Opener-Policy"),
        cross_origin_embedder_policy=response.header("Cross-Origin-Embedder-Policy"),
        cross_origin_resource_policy=response.header("Cross-Origin-Resource-Policy"),
        public_key_pins=response.header("Public-Key-Pins"),
        public_key_pins_report_only=response.header("Public-Key-Pins-Report-Only"),
        duplicated_headers=duplicated,
    )
