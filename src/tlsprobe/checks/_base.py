"""What a check is, and the one door it has to its server."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Protocol, TypeVar, TypeVarTuple, Unpack, cast

import anyio

from tlsprobe._config import ServerTarget
from tlsprobe._conversation import Conversation
from tlsprobe._models import ServerProfile
from tlsprobe._net import ProbeMeter, ServerConnector
from tlsprobe._probes import FirstContact, HelloOutcome, HelloRejected, NativeProber, SSL2Outcome, Tls13Flight
from tlsprobe.wire import ClientHelloSpec
from tlsprobe.wire._versions import TLSVersion

ResultT_co = TypeVar("ResultT_co", covariant=True)
T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class SharedObservations:
    """Observations several checks of one server need, gathered once: the first check to ask pays for them."""

    def __init__(self) -> None:
        self._done: dict[str, anyio.Event] = {}
        self._values: dict[str, Any] = {}
        self._errors: dict[str, Exception] = {}

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

    async def hello(self, spec: ClientHelloSpec, *, then: bytes = b"") -> HelloOutcome:
        """Send a hand-built ClientHello on a new connection, with the records ``then`` right behind it, and
        read the server's first flight."""
        return await self._prober.hello(self._meter, spec, then=then)

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

    async def shared(self, key: str, gather: Callable[[ServerContext], Awaitable[T]]) -> T:
        """``gather(context)`` run once per server under ``key``; other checks asking for it get the same value
        (or exception). Its connections count against the check that ran it."""
        return await self._shared.get(key, lambda: gather(self))

    async def run_blocking(self, fn: Callable[[socket.socket, Unpack[Ts]], T], *args: *Ts) -> T:
        """Run ``fn(sock, *args)`` in a worker thread on a new connection (for nassl handshakes)."""
        return await self._connector.run_blocking(self._meter, fn, *args)


class Check(Protocol[ResultT_co]):
    """A check: its options are its fields, ``name`` is its JSON key and CLI flag."""

    result_type: ClassVar[type]
    """The class of what ``run`` returns, for the JSON Schema."""

    @property
    def name(self) -> str:
        """Stable identifier: JSON key and CLI flag."""
        ...

    async def run(self, server: ServerContext) -> ResultT_co:
        """Gather observations through ``server`` and interpret them."""
        ...


def probes_in_sequence(check: Check[Any]) -> bool:
    """Whether ``check`` says (a class attribute ``probes_in_sequence = True``, optional) that its probes mostly
    wait for one another, as enumerations do: its connections are then served before independent probes'."""
    return getattr(check, "probes_in_sequence", False) is True


def long_held_probe(check: Check[Any]) -> bool:
    """Whether ``check`` says (a class attribute ``long_held_probe = True``, optional) that its one probe holds its
    connection for many round trips (a handshake, then more): it is then served before other independent probes."""
    return getattr(check, "long_held_probe", False) is True


def early_broad_hellos(check: Check[Any]) -> tuple[TLSVersion, ...]:
    """The versions whose shared broad hello (``_tls12_baseline.broad_answer``) ``check`` says (an optional
    ``early_broad_hellos`` property) it asks for on any server that speaks them: the scanner sends those while
    the first contact is under way, instead of after it."""
    versions = getattr(check, "early_broad_hellos", ())
    return tuple(version for version in versions if isinstance(version, TLSVersion))
