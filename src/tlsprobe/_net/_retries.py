"""Retrying a probe whose connection failed, so that a server shedding load never reads as one that said no.

Two kinds of failure, told apart by what they can mean:
- **Overload** (connection refused or timed out, no answer in time): the server is struggling. Its permits shrink
  and the probe is tried again after a backoff, up to ``max_retries`` times; then it fails with that error.
- **A hang-up** (closed or reset before the exchange was complete): the server may be refusing the probe (many do
  that rather than send an alert) or may be shedding a connection too many. If other connections of ours were open
  at the time, the probe is tried again alone (an exclusive permit): a hang-up then is the server's answer, and is
  raised for the caller to read as one; an answer instead proves the first try was shed, and the permits shrink.
A probe that ran out of retries before it could be settled fails with ``ServerOverloadedError``, never reads as
a refusal.

Retries learn from the server: no answer in time from a server that has never sent a byte nor hung up on any
connection (``ConnectionPermits.responded``) is silence, not load, and is not retried, the first contact
included; once the server has responded, a timeout is an overload like the others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

import anyio
import attrs

from tlsprobe._exceptions import (
    ConnectionClosedError,
    ConnectionRejectedError,
    ConnectTimeoutError,
    ResponseTimeoutError,
    ServerOverloadedError,
)
from tlsprobe._net._permits import ConnectionPermits, PermitHold

T = TypeVar("T")
BACKOFF_S: Final = (0.25, 0.75, 1.5, 3.0)
"""Pause before the first, second, third and later retries after an overload."""


@attrs.define
class Attempt:
    """One try of a probe: whether it must be alone with the server, and the permit its connection held."""

    exclusive: bool = False
    hold: PermitHold | None = None


async def with_retries(
    permits: ConnectionPermits,
    run: Callable[[Attempt], Awaitable[T]],
    *,
    max_retries: int,
    on_retry: Callable[[], None],
    first_contact: bool = False,
) -> T:
    """``run(attempt)`` until it answers, per the module docstring; ``on_retry`` counts each further try.

    ``first_contact``: nothing else is open to the server, so a refused or timed-out connection says it is not
    there at all; it is raised at once. So is a response timeout on a server that never responded, first contact
    or not (see the module docstring).
    """
    shed: PermitHold | None = None  # a hang-up among other connections, not settled yet
    overloads = 0
    last_error: Exception | None = None
    for number in range(1 + max_retries):
        if number:
            on_retry()
            if shed is None:
                await anyio.sleep(BACKOFF_S[min(overloads - 1, len(BACKOFF_S) - 1)])
        attempt = Attempt(exclusive=shed is not None)
        try:
            result = await run(attempt)
        except ConnectionClosedError as error:
            permits.record_response()  # a hang-up is not silence
            if attempt.hold is None or not attempt.hold.overlapped:
                raise  # alone with the server: it hung up on the probe itself
            shed, last_error = attempt.hold, error
            continue
        except (ConnectTimeoutError, ConnectionRejectedError, ResponseTimeoutError) as error:
            if first_contact and not isinstance(error, ResponseTimeoutError):
                raise
            if isinstance(error, ResponseTimeoutError) and not permits.responded:
                # Accepted, then neither a byte nor a hang-up on any connection so far: silence, not load, and
                # each try would cost one more connection and timeout. Not even the first contact is tried again:
                # nothing else of ours was open when it went out (only the probes its connection then started),
                # so it was not shed under our load; had any connection to the server been answered by now, it
                # would be retried.
                raise
            if attempt.hold is not None:
                permits.record_overload(attempt.hold)
            shed, last_error = None, error
            overloads += 1
            continue
        if shed is not None:
            permits.record_overload(shed)  # alone, the server answered: the hang-up was load shedding
        permits.record_answer()
        return result
    if isinstance(last_error, ConnectionClosedError):
        raise ServerOverloadedError(
            f"{last_error} while other connections to the server were open, and no retry was left to tell a "
            "refusal of the probe from a connection shed under load"
        ) from None
    assert last_error is not None
    raise last_error
