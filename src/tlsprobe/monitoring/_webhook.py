"""``post_json``: deliver a JSON document to a webhook (Slack, a chat bridge, an incident tool), with retries.

The standard library's ``urllib.request`` does the HTTP(S) in a worker thread (certificate verification by the
system's default context, and the ``http(s)_proxy`` environment honoured), under a thread limiter of its own so
that deliveries never take the threads a scan runs its handshakes in. Each attempt has an overall deadline, not
only one per socket operation: when it passes, or when the caller is cancelled, the connection's socket is shut
down from here, which ends the blocking call in the thread at once; the thread is waited for, never abandoned.

Failures are data (``WebhookDelivery``), never exceptions: a monitor reports an undelivered notification in one
line and goes on. Neither the URL (webhook URLs often carry a secret token) nor the receiver's own wording
appears in the error text: a reason phrase is the standard one for the status code.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import email.utils
import http
import http.client
import json
import socket
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, Final

import anyio
import anyio.lowlevel
import attrs

from tlsprobe._exceptions import ConfigurationError
from tlsprobe._version import __version__

_THREADS: Final = anyio.CapacityLimiter(4)
"""Deliveries in progress at once, process-wide; the others wait their turn."""

_MAX_RETRY_AFTER_S: Final = 60.0
"""The longest a receiver's Retry-After is waited for before the next attempt."""


@attrs.frozen(kw_only=True)
class WebhookDelivery:
    """How a delivery went."""

    delivered: bool
    """The receiver answered with a 2xx status."""
    attempts: int
    """Attempts made (1 when the first one settled it)."""
    status: int | None
    """The HTTP status of the last answer; None when the last attempt got none (refused, timed out...)."""
    error: str | None
    """Why it was not delivered, in a few words (the last attempt's reason); None when delivered."""


@attrs.frozen(kw_only=True)
class _Answer:
    """How one attempt went."""

    delivered: bool
    """A 2xx answer."""
    status: int | None = None
    """The answer's status; None without an answer."""
    error: str | None = None
    """Why it was not delivered."""
    retry: bool = False
    """Worth another attempt: no answer, a timeout, 429 or 5xx."""
    retry_after_s: float | None = None
    """How long the receiver asked to wait (Retry-After), capped."""


async def post_json(
    url: str, payload: Mapping[str, Any], *, timeout_s: float = 10, attempts: int = 3, backoff_s: float = 1
) -> WebhookDelivery:
    """POST ``payload`` as JSON (UTF-8) to ``url``, an ``http://`` or ``https://`` URL (a user name and password
    in it are sent as basic authentication). Connection errors, timeouts, 429 and 5xx answers are tried again, up
    to ``attempts`` in all, waiting ``backoff_s``, then twice that, and so on (longer when the receiver's
    Retry-After asks for it, up to a minute); any other answer settles it. Each attempt gets ``timeout_s`` in all.

    Never raises for a failed delivery: the result says what happened. A URL of another scheme, or a bad
    argument, raises ``ConfigurationError``."""
    request_url, headers = _checked_request(url)
    if attempts < 1:
        raise ConfigurationError(f"a webhook needs at least 1 attempt, not {attempts}")
    if timeout_s <= 0 or backoff_s < 0:
        raise ConfigurationError("a webhook's timeout must be positive and its backoff not negative")
    try:
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise ConfigurationError(f"the webhook payload cannot be written as JSON: {error}") from None
    for attempt in range(1, attempts + 1):
        answer = await _attempt(request_url, headers, body, timeout_s)
        if answer.delivered or not answer.retry or attempt == attempts:
            return WebhookDelivery(
                delivered=answer.delivered, attempts=attempt, status=answer.status, error=answer.error
            )
        await anyio.sleep(max(backoff_s * 2 ** (attempt - 1), answer.retry_after_s or 0.0))
    raise AssertionError("unreachable: the last attempt returns")


def _checked_request(url: str) -> tuple[str, dict[str, str]]:
    """The URL to request (without credentials) and the headers; ``ConfigurationError`` for an unusable URL,
    which the message does not quote (it may hold a secret)."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises ValueError here
    except ValueError as error:
        raise ConfigurationError(f"the webhook URL cannot be parsed: {error}") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise ConfigurationError(f"a webhook URL must start with http:// or https://, not {shown}")
    if not parts.hostname:
        raise ConfigurationError("the webhook URL has no host")
    headers = {"Content-Type": "application/json", "User-Agent": f"tlsprobe/{__version__}"}
    if parts.username is not None or parts.password is not None:
        user = urllib.parse.unquote(parts.username or "")
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
        parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
    return urllib.parse.urlunsplit(parts), headers


async def _attempt(url: str, headers: Mapping[str, str], body: bytes, timeout_s: float) -> _Answer:
    guard = _SocketGuard()

    async def shut_down_when_due() -> None:
        try:
            await anyio.sleep(timeout_s)
        finally:  # the deadline, or the caller cancelled
            guard.shut_down()

    answers: list[_Answer] = []
    async with anyio.create_task_group() as watchdog:
        watchdog.start_soon(shut_down_when_due)
        try:
            answers.append(
                await anyio.to_thread.run_sync(_post, url, headers, body, timeout_s, guard, limiter=_THREADS)
            )
        finally:
            guard.finish()
            watchdog.cancel_scope.cancel()
    if guard.was_shut_down:  # whatever the thread made of its socket being shut down under it
        await anyio.lowlevel.checkpoint_if_cancelled()  # shut down for a cancelled caller: that, not a timeout
        return _Answer(delivered=False, error=f"no answer within {timeout_s:g} s", retry=True)
    return answers[0]


class _SocketGuard:
    """The connections of one attempt, whose sockets the watchdog shuts down when the deadline passes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: list[http.client.HTTPConnection] = []
        self._finished = False
        self.was_shut_down = False

    def adopt(self, connection: http.client.HTTPConnection) -> None:
        """Watch ``connection``; ``TimeoutError`` when the deadline has already passed."""
        with self._lock:
            if self.was_shut_down:
                raise TimeoutError("the attempt's deadline passed")
            self._connections.append(connection)

    def check(self) -> None:
        """``TimeoutError`` when the deadline passed (while a connection was being opened)."""
        with self._lock:
            if self.was_shut_down:
                raise TimeoutError("the attempt's deadline passed")

    def finish(self) -> None:
        """The thread is done: a later ``shut_down`` does nothing."""
        with self._lock:
            self._finished = True

    def shut_down(self) -> None:
        """Shut down every socket watched, unless the thread is done."""
        with self._lock:
            if self._finished:
                return
            self.was_shut_down = True
            sockets = [connection.sock for connection in self._connections if connection.sock is not None]
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed, or never connected
                sock.shutdown(socket.SHUT_RDWR)


class _GuardedHTTPConnection(http.client.HTTPConnection):
    guard: _SocketGuard

    def connect(self) -> None:
        self.guard.adopt(self)
        super().connect()
        self.guard.check()


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    guard: _SocketGuard

    def connect(self) -> None:
        self.guard.adopt(self)
        super().connect()
        self.guard.check()


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, guard: _SocketGuard) -> None:
        super().__init__()
        self._guard = guard

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connection(host: str, **options: Any) -> http.client.HTTPConnection:
            opened = _GuardedHTTPConnection(host, **options)
            opened.guard = self._guard
            return opened

        return self.do_open(connection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, guard: _SocketGuard) -> None:
        super().__init__()
        self._guard = guard
        self._tls = ssl.create_default_context()

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connection(host: str, **options: Any) -> http.client.HTTPConnection:
            opened = _GuardedHTTPSConnection(host, **options)
            opened.guard = self._guard
            return opened

        return self.do_open(connection, req, context=self._tls)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not followed: urllib would turn the POST into a GET without the payload."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post(url: str, headers: Mapping[str, str], body: bytes, timeout_s: float, guard: _SocketGuard) -> _Answer:
    """One attempt, in a worker thread."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    opener = urllib.request.build_opener(_GuardedHTTPHandler(guard), _GuardedHTTPSHandler(guard), _NoRedirects())
    try:
        with opener.open(request, timeout=timeout_s) as response:
            return _Answer(delivered=True, status=response.status)
    except urllib.error.HTTPError as error:
        with contextlib.closing(error):
            status = error.code
            retry = status == http.HTTPStatus.TOO_MANY_REQUESTS or status >= 500
            return _Answer(
                delivered=False,
                status=status,
                error=_status_text(status),
                retry=retry,
                retry_after_s=_retry_after_s(error.headers.get("Retry-After")) if retry else None,
            )
    except urllib.error.URLError as error:
        reason = error.reason
        certificate = isinstance(reason, ssl.SSLCertVerificationError)
        text = _error_text(reason, timeout_s) if isinstance(reason, BaseException) else str(reason)
        return _Answer(delivered=False, error=text, retry=not certificate)  # a bad certificate will not mend
    except (OSError, http.client.HTTPException) as error:  # a timeout or reset mid-answer, a bad status line
        return _Answer(delivered=False, error=_error_text(error, timeout_s), retry=True)


def _status_text(status: int) -> str:
    try:
        return f"HTTP {status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _error_text(error: BaseException, timeout_s: float) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate not accepted: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS error: {error.reason or error}"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror[:1].lower() + error.strerror[1:]
    return str(error) or type(error).__name__


def _retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    wait_s = (when - datetime.datetime.now(datetime.UTC)).total_seconds()
    return min(max(wait_s, 0.0), _MAX_RETRY_AFTER_S)
