"""The one door a check has to its server: ``ServerContext``, and the observations checks of one server share.

Each check gets its own context, so what it costs the server (connections, retries) is counted per check; every
probe goes through the native prober (``_prober``) or a blocking handshake in a worker thread (``_net``).
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, TypeVarTuple, Unpack, cast

import anyio
import attrs

from tlsprobe._exceptions import CheckNotApplicable, HandshakeError
from tlsprobe._model._config import ServerTarget
from tlsprobe._model._results import ServerProfile
from tlsprobe._net import ProbeMeter, ServerConnector
from tlsprobe._probing._conversation import Conversation
from tlsprobe._probing._prober import NativeProber
from tlsprobe.wire import ClientHelloSpec, KeyExchange
from tlsprobe.wire._answers import FirstContact, HelloOutcome, HelloRejected, SSL2Outcome, Tls13Flight

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
_NEEDS_A_SECRET = frozenset(
    {
        KeyExchange.PSK,
        KeyExchange.DHE_PSK,
        KeyExchange.ECDHE_PSK,
        KeyExchange.RSA_PSK,
        KeyExchange.SRP,
        KeyExchange.KRB5,
        KeyExchange.ECCPWD,
    }
)
"""Key exchanges whose handshake a client completes only with a secret shared beforehand."""


@attrs.frozen
class EarlyHello:
    """A hello a check will send on any server that answers, handed to the scanner as data: the scanner sends it
    beside the first contact and keeps its answer (or the error that ended it) as the shared observation ``key``,
    which the check then reads with ``ServerContext.shared`` under the same key."""

    key: str
    """The shared observation the answer is kept as."""
    spec: ClientHelloSpec
    """The hello."""


class SharedObservations:
    """Observations several checks of one server need, gathered once: the first check to ask pays for them."""

    def __init__(self) -> None:
        self._done: dict[str, anyio.Event] = {}
        self._values: dict[str, Any] = {}
        self._errors: dict[str, Exception] = {}
        self._early: set[str] = set()

    def expect_early(self, keys: Iterable[str]) -> None:
        """Announce the observations the scanner gathers itself, before any check runs (``provide_early``): from
        now on ``get`` waits for them, and ``early`` tells them."""
        for key in keys:
            self._done.setdefault(key, anyio.Event())
            self._early.add(key)

    async def provide_early(self, key: str, gather: Callable[[], Awaitable[object]]) -> None:
        """Gather an observation announced by ``expect_early``."""
        try:
            self._values[key] = await gather()
        except Exception as error:
            self._errors[key] = error
        finally:
            self._done[key].set()

    async def early(self, key: str) -> object | None:
        """The observation ``key`` when the scanner gathers it early (once it is in), else None without sending
        anything; None too when gathering it failed."""
        if key not in self._early:
            return None
        await self._done[key].wait()
        return self._values.get(key)

    async def get(self, key: str, gather: Callable[[], Awaitable[T]]) -> T:
        if key in self._done:
            await self._done[key].wait()
        else:
            self._done[key] = anyio.Event()
            try:
                self._values[key] = await gather()
            except Exception as error:  # shared with every check that asks, then re-raised to each
                self._errors[key] = error
            finally:
                self._done[key].set()
        if key in self._errors:
            raise self._errors[key]
        if key not in self._values:
            raise RuntimeError(f"gathering {key!r} was cancelled")  # the first asker was cancelled
        return cast("T", self._values[key])


class ServerContext:
    """Everything a check may use: the target, its profile, native probes and blocking handshakes.

    Each check gets its own context, so what it costs the server (connections, retries) is counted per check.
    """

    def __init__(
        self,
        *,
        target: ServerTarget,
        profile: ServerProfile,
        prober: NativeProber,
        connector: ServerConnector,
        meter: ProbeMeter,
        shared: SharedObservations,
    ) -> None:
        self._target = target
        self._profile = profile
        self._prober = prober
        self._connector = connector
        self._meter = meter
        self._shared = shared

    @property
    def target(self) -> ServerTarget:
        """The server as the user asked for it."""
        return self._target

    @property
    def profile(self) -> ServerProfile:
        """What the connectivity phase learned."""
        return self._profile

    @property
    def first_contact(self) -> FirstContact | None:
        """The connectivity phase's first accepted hello, with its answer: an observation checks may reuse."""
        return self._prober.first_accepted

    async def hello(self, spec: ClientHelloSpec, *, ahead: bytes = b"") -> HelloOutcome:
        """Send a hand-built ClientHello on a new connection, with the records ``ahead`` right behind it, and
        read the server's first flight."""
        return await self._prober.hello(self._meter, spec, ahead=ahead)

    async def tls13_flight(self, spec: ClientHelloSpec) -> Tls13Flight | HelloRejected:
        """Send a TLS 1.3 ClientHello and decrypt the server's flight (chain, extensions, CertificateVerify)."""
        return await self._prober.tls13_flight(self._meter, spec)

    async def converse(
        self, spec: ClientHelloSpec, script: Callable[[Conversation], Awaitable[T]], *, ahead: bytes = b""
    ) -> T | HelloRejected:
        """Send a hand-built ClientHello (up to TLS 1.2) with the records ``ahead`` right behind it, read the
        flight, then run ``script`` on the connection (``NativeProber.converse``)."""
        return await self._prober.converse(self._meter, spec, script, ahead=ahead)

    async def sslv2_hello(self, cipher_kinds: tuple[int, ...]) -> SSL2Outcome:
        """Send an SSL 2.0 CLIENT-HELLO on a new connection."""
        return await self._prober.sslv2_hello(self._meter, cipher_kinds)

    async def early_shared(self, key: str) -> object | None:
        """The observation ``key`` when the scanner gathers it before the checks (``EarlyHello``), else None: this
        never sends anything, so a check can use an answer that every default scan has anyway."""
        return await self._shared.early(key)

    async def shared(self, key: str, gather: Callable[[ServerContext], Awaitable[T]]) -> T:
        """``gather(context)`` run once per server under ``key``; other checks asking for it get the same value
        (or exception). Its connections count against the check that ran it."""
        return await self._shared.get(key, lambda: gather(self))

    async def run_blocking(self, fn: Callable[[socket.socket, Unpack[Ts]], T], *args: *Ts) -> T:
        """Run ``fn(sock, *args)`` in a worker thread on a new connection (for nassl handshakes).

        On a server reached only with a suite whose handshake needs a secret tlsprobe does not have (a pre-shared
        key, a password, a Kerberos ticket), a failed handshake says nothing about the server: the check is
        skipped (``CheckNotApplicable``) rather than reading the failure as the server's answer."""
        try:
            return await self._connector.run_blocking(self._meter, fn, *args)
        except HandshakeError as error:
            key_exchange = self._profile.cipher_suite.key_exchange
            if type(error) is HandshakeError and key_exchange in _NEEDS_A_SECRET:
                raise CheckNotApplicable(
                    f"a full handshake needs what the server's {key_exchange.value} suites ask of a client (a "
                    f"pre-shared key, a password or a ticket), which tlsprobe does not have ({error})"
                ) from None
            raise
