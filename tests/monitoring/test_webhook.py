"""``post_json`` against a real HTTP receiver on 127.0.0.1 (slow: each test starts one), and its argument checks.

Only outcomes are asserted, never durations. The deadline tests fail by never finishing (pytest-timeout) if an
attempt were not ended from outside: the silent and dripping receivers hold on until the test is over.
"""

from __future__ import annotations

import json
import socket

import anyio
import pytest

from tests.monitoring.receiver import Receiver, running
from tlsprobe import __version__
from tlsprobe._exceptions import ConfigurationError
from tlsprobe.monitoring import WebhookDelivery, post_json
from tlsprobe.monitoring._webhook import _THREADS, _retry_after_s

PAYLOAD = {"event": "tlsprobe.monitor.worse", "changes": {"targets": ["ünïcødé.test:443"]}, "count": 3}


# --- against a receiver (slow) -------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_receiver_that_accepts_gets_the_json_once() -> None:
    with running(Receiver(status=204)) as receiver:
        delivery = await post_json(receiver.url(), PAYLOAD, timeout_s=5, backoff_s=0)
    assert delivery == WebhookDelivery(delivered=True, attempts=1, status=204, error=None)
    (request,) = receiver.received
    assert (request.method, request.path) == ("POST", "/hooks/tls?token=s3cret")
    assert json.loads(request.body.decode("utf-8")) == PAYLOAD
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == f"tlsprobe/{__version__}"
    assert "Authorization" not in request.headers


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize("status", [503, 500, 429])
async def test_429_and_5xx_are_tried_again_until_accepted(status: int) -> None:
    with running(Receiver(failures=2, failure_status=status, status=200)) as receiver:
        delivery = await post_json(receiver.url(), PAYLOAD, timeout_s=5, attempts=3, backoff_s=0)
    assert delivery == WebhookDelivery(delivered=True, attempts=3, status=200, error=None)
    assert len(receiver.received) == 3
    assert len({request.body for request in receiver.received}) == 1


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_receiver_failing_every_attempt_is_reported_not_raised() -> None:
    with running(Receiver(failures=10, failure_status=503)) as receiver:
        delivery = await post_json(receiver.url(), PAYLOAD, timeout_s=5, attempts=3, backoff_s=0)
    assert delivery == WebhookDelivery(delivered=False, attempts=3, status=503, error="HTTP 503 Service Unavailable")
    assert len(receiver.received) == 3


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_short_retry_after_is_waited_for() -> None:
    with running(Receiver(failures=1, failure_status=429, headers={"Retry-After": "0"})) as receiver:
        delivery = await post_json(receiver.url(), PAYLOAD, timeout_s=5, attempts=2, backoff_s=0)
    assert (delivery.delivered, delivery.attempts) == (True, 2)


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.parametrize(("status", "error"), [(404, "HTTP 404 Not Found"), (400, "HTTP 400 Bad Request")])
async def test_other_client_errors_settle_it_at_once(status: int, error: str) -> None:
    with running(Receiver(status=status)) as receiver:
        delivery = await post_json(receiver.url(), PAYLOAD, timeout_s=5, attempts=3, backoff_s=0)
    assert delivery == WebhookDelivery(delivered=False, attempts=1, status=status, error=error)
    assert len(receiver.received) == 1


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_redirect_is_an_answer_not_followed() -> None:
    """Followed, urllib would turn the POST into a GET without the payload."""
    with running(Receiver(status=302, headers={"Location": "/elsewhere"})) as receiver:
        delivery = await post_json(receiver.url(), PAYLOAD, timeout_s=5, attempts=3, backoff_s=0)
    assert delivery == WebhookDelivery(delivered=False, attempts=1, status=302, error="HTTP 302 Found")
    assert [request.path for request in receiver.received] == ["/hooks/tls?token=s3cret"]


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_receiver_that_never_answers_times_out_each_attempt() -> None:
    with running(Receiver(behaviour="silent")) as receiver:
        delivery = await post_json(receiver.url(), PAYLOAD, timeout_s=0.3, attempts=2, backoff_s=0)
    assert delivery == WebhookDelivery(delivered=False, attempts=2, status=None, error="no answer within 0.3 s")
    assert len(receiver.received) == 2


@pytest.mark.slow
@pytest.mark.anyio
async def test_an_answer_dripping_for_ever_is_cut_at_the_attempts_deadline() -> None:
    """Each byte comes well within the socket timeout: only the attempt's own deadline ends it."""
    with running(Receiver(behaviour="drip")) as receiver:
        delivery = await post_json(receiver.url(), PAYLOAD, timeout_s=0.3, attempts=1, backoff_s=0)
    assert delivery == WebhookDelivery(delivered=False, attempts=1, status=None, error="no answer within 0.3 s")


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_cancelled_caller_is_not_held_by_the_attempt_and_leaves_no_thread() -> None:
    with running(Receiver(behaviour="silent")) as receiver:
        with anyio.move_on_after(0.2) as scope:
            await post_json(receiver.url(), PAYLOAD, timeout_s=3600, attempts=1)
        assert scope.cancelled_caught
        assert _THREADS.borrowed_tokens == 0  # the worker thread ended before post_json did


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_refused_connection_is_tried_again_and_reported() -> None:
    with socket.socket() as placeholder:  # a port nothing listens on
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    delivery = await post_json(f"http://127.0.0.1:{port}/hook", PAYLOAD, timeout_s=5, attempts=2, backoff_s=0)
    assert delivery == WebhookDelivery(delivered=False, attempts=2, status=None, error="connection refused")


@pytest.mark.slow
@pytest.mark.anyio
async def test_credentials_in_the_url_become_basic_authentication() -> None:
    with running(Receiver()) as receiver:
        url = receiver.url().replace("http://", "http://monitor:p%40ss@")
        delivery = await post_json(url, PAYLOAD, timeout_s=5, backoff_s=0)
    assert delivery.delivered
    (request,) = receiver.received
    assert request.headers["Authorization"] == "Basic bW9uaXRvcjpwQHNz"  # monitor:p@ss
    assert request.path == "/hooks/tls?token=s3cret"


# --- arguments (fast) ----------------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://alerts.example/hook?token=s3cret", "must start with http:// or https://, not ftp://"),
        ("file:///etc/passwd", "must start with http:// or https://, not file://"),
        ("alerts.example/hook?token=s3cret", "must start with http:// or https://, not no scheme"),
        ("https:///hook?token=s3cret", "has no host"),
        ("https://alerts.example:port/hook?token=s3cret", "cannot be parsed"),
    ],
)
async def test_only_http_and_https_urls_are_accepted_and_never_quoted(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        await post_json(url, PAYLOAD)
    assert "s3cret" not in str(raised.value)
    assert isinstance(raised.value, ValueError)


@pytest.mark.anyio
@pytest.mark.parametrize("options", [{"attempts": 0}, {"timeout_s": 0}, {"backoff_s": -1}])
async def test_bad_options_are_configuration_errors(options: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError):
        await post_json("https://alerts.example/hook", PAYLOAD, **options)  # type: ignore[arg-type]


@pytest.mark.anyio
@pytest.mark.parametrize("payload", [{"when": object()}, {"ratio": float("nan")}])
async def test_a_payload_that_is_not_json_is_a_configuration_error(payload: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match="the webhook payload cannot be written as JSON"):
        await post_json("https://alerts.example/hook", payload)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("", None), ("7", 7.0), ("3600", 60.0), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_is_read_in_seconds_or_as_a_date_and_capped(header: str | None, seconds: float | None) -> None:
    assert _retry_after_s(header) == seconds
