"""A scripted fake server: run a check, unchanged, against answers given as data, with no socket at all.

``ScriptedServer`` replaces the *server*, never the check: its ``context()`` is a ``ServerContext`` (a subclass
overriding every one of its doors) whose probes are answered by scripts, functions of what the check sent:

- ``hello``: ``ClientHelloSpec`` to ``HelloAccepted`` or ``HelloRejected`` (``tls_server`` builds one from a
  few facts: versions, suites, extensions; ``accepted`` and ``rejected`` build single answers);
- ``react``: what the server sends after its flight in a conversation (``converse``), as a ``ServerReaction``:
  its records, then whether it closed, reset or stayed silent. The conversation reads it the way the real one
  reads a socket: up to the first fatal alert, or the first record the check's ``stop`` wants;
- ``tls13_flight``, ``sslv2_hello``, ``blocking`` (``run_blocking``'s handshakes) likewise.

A script may raise what the real prober raises once its retries are spent (``ResponseTimeoutError``,
``ConnectionRejectedError``...); a probe with no script raises ``ScriptError``, which no check catches. As the
real prober does, a scripted acceptance of a suite the hello did not offer is a ``MalformedServerResponseError``,
and a conversation's hello answered with TLS 1.3 (no ServerHelloDone ever comes) is one too.

Every connection a check would open is recorded (``ScriptedConnection``: what kind, the hello, the records sent
after it, the reactions read), per context and for the whole server, so a test can assert what a check sent and
what it would cost. Retries are not modelled: one probe, one connection. Observations shared between checks
(``shared``) are shared between the contexts of one ``ScriptedServer``, and cost the context that gathered them,
as in a scan.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Literal, TypeAlias, TypeVar, TypeVarTuple, Unpack, cast

import anyio.lowlevel
import attrs

from tlsprobe._exceptions import MalformedServerResponseError
from tlsprobe._model._config import ServerTarget
from tlsprobe._model._results import ClientAuthRequirement, ServerProfile
from tlsprobe._probing._context import ServerContext, SharedObservations
from tlsprobe._probing._conversation import Conversation
from tlsprobe.wire import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    AlertDescription,
    AlertLevel,
    ClientHelloSpec,
    ContentType,
    ExtensionType,
    Record,
)
from tlsprobe.wire._answers import FirstContact, HelloAccepted, HelloOutcome, HelloRejected, SSL2Outcome, Tls13Flight
from tlsprobe.wire._reactions import ReactionEnd, ServerReaction, is_fatal_alert
from tlsprobe.wire._records import RecordReader
from tlsprobe.wire._server import Alert, ServerHello, ephemeral_key_for_tls13_group
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import (
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
    TLS_FALLBACK_SCSV,
    cipher_suite_by_code,
    suites_for_version,
)

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
_SENTINELS = {TLSVersion.TLS1_2: DOWNGRADE_TLS12, TLSVersion.TLS1_1: DOWNGRADE_TLS11}


class ScriptError(AssertionError):
    """The check sent something the script has no answer for. An ``AssertionError``, so that no check mistakes
    it for the server's doing."""


@attrs.frozen(kw_only=True)
class Exchange:
    """What a conversation's server has received when it is asked to react: the reaction script's argument."""

    spec: ClientHelloSpec
    """The hello of the connection."""
    accepted: HelloAccepted
    """The server's answer to it."""
    received: tuple[Record, ...]
    """The records the check sent since the server last reacted (first those sent right behind the hello)."""


@attrs.frozen(kw_only=True)
class BlockingCall:
    """A blocking handshake a check asked for (``run_blocking``): the function and its arguments after the
    socket. The ``blocking`` script returns what ``fn`` would have."""

    fn: Callable[..., object]
    """The function ``run_blocking`` would have run in a worker thread."""
    args: tuple[object, ...]
    """Its arguments after the socket."""


HelloScript: TypeAlias = Callable[[ClientHelloSpec], HelloOutcome]
Tls13Script: TypeAlias = Callable[[ClientHelloSpec], Tls13Flight | HelloRejected]
ReactionScript: TypeAlias = Callable[[Exchange], ServerReaction]
SSL2Script: TypeAlias = Callable[[tuple[int, ...]], SSL2Outcome]
BlockingScript: TypeAlias = Callable[[BlockingCall], object]
ConnectionKind = Literal["hello", "tls13_flight", "converse", "sslv2_hello", "run_blocking"]


@attrs.define(kw_only=True)
class ScriptedConnection:
    """One connection a check opened on a scripted server."""

    kind: ConnectionKind
    """The ``ServerContext`` method that opened it."""
    spec: ClientHelloSpec | None = None
    """Its ClientHello (None for SSL 2.0 hellos and blocking handshakes)."""
    sent: list[bytes] = attrs.Factory(list)
    """What was sent after the hello: the records right behind it (``ahead``), then each ``send`` of a
    conversation."""
    reactions: list[ServerReaction] = attrs.Factory(list)
    """What a conversation read, as the check saw it, in order."""
    cipher_kinds: tuple[int, ...] = ()
    """The cipher kinds of an SSL 2.0 hello."""
    call: BlockingCall | None = None
    """The blocking handshake asked for."""

    @property
    def records_sent(self) -> tuple[Record, ...]:
        """``sent`` read as TLS records."""
        reader = RecordReader()
        reader.feed(b"".join(self.sent))
        records: list[Record] = []
        while (record := reader.next_record()) is not None:
            records.append(record)
        return tuple(records)


def accepted(
    version: TLSVersion,
    cipher_suite: int,
    *,
    extensions: Sequence[tuple[int, bytes]] = (),
    compression_method: int = 0,
    certificates: tuple[bytes, ...] = (),
    key_share_group: int | None = None,
    downgrade_sentinel: TLSVersion | None = None,
) -> HelloAccepted:
    """A server's acceptance: a ServerHello at ``version`` choosing ``cipher_suite``, with ``extensions``
    (type, body) and, below TLS 1.3, the ``certificates`` (DER) of its flight. Under TLS 1.3 the key share's group
    is ``key_share_group`` (x25519 when None)."""
    tls13 = version is TLSVersion.TLS1_3
    group = (key_share_group if key_share_group is not None else 0x001D) if tls13 else None
    hello = ServerHello(
        legacy_version=TLSVersion.TLS1_2.wire_code if tls13 else version.wire_code,
        version=version,
        random=bytes(24) + (bytes(8) if downgrade_sentinel is None else _SENTINELS[downgrade_sentinel]),
        session_id=b"",
        cipher_suite=cipher_suite,
        compression_method=compression_method,
        extensions=tuple(extensions),
        key_share_group=group,
        downgrade_sentinel=downgrade_sentinel,
        alpn_protocol=None,
    )
    return HelloAccepted(
        version=version,
        cipher_suite=cipher_suite,
        server_hello=hello,
        hello_retry_request=None,
        certificates=() if tls13 else certificates,
        ephemeral_key=ephemeral_key_for_tls13_group(group) if group is not None else None,
        certificate_requested=False,
    )


def rejected(description: int | None = AlertDescription.handshake_failure) -> HelloRejected:
    """A server's refusal: a fatal alert, or (None) a close without a word, worded as the real prober words it."""
    if description is None:
        return HelloRejected(alert=None, reason="server closed the connection without answering")
    alert = Alert(level=AlertLevel.fatal, description=description)
    return HelloRejected(alert=alert, reason=f"server sent the alert {alert.description_name}")


def alert_record(description: int, *, level: int = AlertLevel.fatal, version: TLSVersion = TLSVersion.TLS1_2) -> Record:
    """An alert record, for reactions."""
    return Record(content_type=ContentType.alert, version=version.wire_code, payload=bytes((level, description)))


def tls_server(
    versions: Collection[TLSVersion],
    *,
    cipher_suites: Sequence[int] | None = None,
    server_order: bool = True,
    compression_methods: Sequence[int] = (0,),
    extended_master_secret: bool = True,
    secure_renegotiation: bool = True,
    heartbeat: bool = False,
    fallback_scsv: bool = True,
    certificates: tuple[bytes, ...] = (),
) -> HelloScript:
    """A hello script for a plain server that speaks ``versions`` (SSL 3.0 to TLS 1.3).

    Its answer: the highest version both sides speak (a hello below TLS 1.3 offers every version up to its own, a
    TLS 1.3 hello those from its own down to its ``min_version``), or the alert ``protocol_version``. A suite of
    its ``cipher_suites`` that the hello offers, its own first choice (``server_order``) or the client's; None:
    any suite of that version, the client's first; else ``handshake_failure``. The first of its
    ``compression_methods`` the hello offers. The extended master secret, renegotiation_info (for the SCSV too)
    and heartbeat extensions, when both sides want them. With ``fallback_scsv`` it refuses a hello carrying
    TLS_FALLBACK_SCSV below its highest version (``inappropriate_fallback``); below its highest, it sets the
    RFC 8446 downgrade sentinel."""
    speaks = frozenset(versions)
    if not speaks or TLSVersion.SSL2 in speaks:
        raise ValueError("a scripted TLS server speaks at least one version from SSL 3.0 to TLS 1.3, and not SSL 2.0")
    highest = max(speaks)

    def answer(spec: ClientHelloSpec) -> HelloOutcome:
        if spec.version is TLSVersion.TLS1_3:
            lowest = spec.min_version or TLSVersion.TLS1_0
            common = [version for version in speaks if lowest <= version <= TLSVersion.TLS1_3]
        else:
            common = [version for version in speaks if version <= spec.version]
        if not common:
            return rejected(AlertDescription.protocol_version)
        version = max(common)
        if fallback_scsv and TLS_FALLBACK_SCSV in spec.cipher_suites and version < highest:
            return rejected(AlertDescription.inappropriate_fallback)
        suite = _pick_suite(spec.cipher_suites, cipher_suites, version, server_order=server_order)
        if suite is None:
            return rejected(AlertDescription.handshake_failure)
        if version is TLSVersion.TLS1_3:
            if not spec.key_share_groups:
                return rejected(AlertDescription.missing_extension)
            return accepted(version, suite, key_share_group=spec.key_share_groups[0])
        extensions: list[tuple[int, bytes]] = []
        client_extensions = spec.version is not TLSVersion.SSL3  # an SSL 3.0 hello carries none
        if secure_renegotiation and (
            (client_extensions and spec.renegotiation_info) or TLS_EMPTY_RENEGOTIATION_INFO_SCSV in spec.cipher_suites
        ):
            extensions.append((ExtensionType.renegotiation_info, b"\x00"))  # RFC 5746: under SSL 3.0 too
        if client_extensions and version is not TLSVersion.SSL3:
            if extended_master_secret and spec.extended_master_secret:
                extensions.append((ExtensionType.extended_master_secret, b""))
            if heartbeat and spec.heartbeat:
                extensions.append((ExtensionType.heartbeat, b"\x01"))
        compression = next((method for method in compression_methods if method in spec.compression_methods), 0)
        sentinel = None  # RFC 8446 §4.1.3
        if highest is TLSVersion.TLS1_3 and version is TLSVersion.TLS1_2:
            sentinel = TLSVersion.TLS1_2
        elif highest >= TLSVersion.TLS1_2 and version <= TLSVersion.TLS1_1:
            sentinel = TLSVersion.TLS1_1
        return accepted(
            version,
            suite,
            extensions=extensions,
            compression_method=compression,
            certificates=certificates,
            downgrade_sentinel=sentinel,
        )

    return answer


def _pick_suite(
    offered: Sequence[int], server_suites: Sequence[int] | None, version: TLSVersion, *, server_order: bool
) -> int | None:
    def usable(code: int) -> bool:
        suite = cipher_suite_by_code(code)
        return suite is not None and version in suite.versions

    if server_suites is None:
        return next((code for code in offered if usable(code)), None)
    first, second = (server_suites, offered) if server_order else (offered, server_suites)
    return next((code for code in first if code in second and usable(code)), None)


class ScriptedServer:
    """A server whose answers are scripts (see the module docstring); ``context()`` gives a check its door."""

    def __init__(
        self,
        *,
        hello: HelloScript | HelloOutcome | None = None,
        react: ReactionScript | ServerReaction | None = None,
        tls13_flight: Tls13Script | None = None,
        sslv2_hello: SSL2Script | None = None,
        blocking: BlockingScript | None = None,
        target: ServerTarget | None = None,
        profile: ServerProfile | None = None,
        highest_version: TLSVersion = TLSVersion.TLS1_2,
        first_contact: FirstContact | None = None,
    ) -> None:
        """``target`` defaults to ``server.test:443``; ``profile`` to what connectivity would have learned of it
        with ``highest_version`` (and the first suite of that version)."""
        self.target = target if target is not None else ServerTarget(host="server.test")
        self.profile = profile if profile is not None else _profile(self.target, highest_version)
        self.first_contact = first_contact
        self._hello = hello
        self._react = react
        self._tls13_flight = tls13_flight
        self._sslv2_hello = sslv2_hello
        self._blocking = blocking
        self._shared = SharedObservations()
        self._connections: list[ScriptedConnection] = []

    @property
    def connections(self) -> tuple[ScriptedConnection, ...]:
        """Every connection opened on this server, by every context, in order."""
        return tuple(self._connections)

    def context(self) -> ScriptedContext:
        """A new door to this server, as the scanner gives each check its own."""
        return ScriptedContext(self)

    def _opened(self, connection: ScriptedConnection) -> None:
        self._connections.append(connection)

    def _answer(self, spec: ClientHelloSpec) -> HelloOutcome:
        script = self._hello
        if script is None:
            raise ScriptError(f"no hello script for a {spec.version.label} hello")
        outcome = script if isinstance(script, HelloAccepted | HelloRejected) else script(spec)
        if isinstance(outcome, HelloAccepted) and outcome.cipher_suite not in spec.cipher_suites:
            raise MalformedServerResponseError(
                f"server chose cipher suite 0x{outcome.cipher_suite:04x}, which was not offered"
            )
        return outcome

    def _reaction(self, exchange: Exchange) -> ServerReaction:
        script = self._react
        if script is None:
            raise ScriptError("no reaction script for a conversation")
        return script if isinstance(script, ServerReaction) else script(exchange)

    def _flight(self, spec: ClientHelloSpec) -> Tls13Flight | HelloRejected:
        if self._tls13_flight is None:
            raise ScriptError("no TLS 1.3 flight script")
        return self._tls13_flight(spec)

    def _sslv2(self, cipher_kinds: tuple[int, ...]) -> SSL2Outcome:
        if self._sslv2_hello is None:
            raise ScriptError("no SSL 2.0 hello script")
        return self._sslv2_hello(cipher_kinds)

    def _handshake(self, call: BlockingCall) -> object:
        if self._blocking is None:
            raise ScriptError(f"no blocking script for {getattr(call.fn, '__qualname__', call.fn)!r}")
        return self._blocking(call)


def _profile(target: ServerTarget, highest_version: TLSVersion) -> ServerProfile:
    return ServerProfile(
        ip_address=str(target.ip) if target.ip is not None else "192.0.2.1",
        port=target.port,
        server_name=target.server_name,
        highest_version=highest_version,
        cipher_suite=suites_for_version(highest_version)[0],
        client_auth=ClientAuthRequirement.NOT_REQUESTED,
    )


class ScriptedContext(ServerContext):
    """A check's door to a ``ScriptedServer``: every ``ServerContext`` method, answered by the server's scripts.

    It has no prober, connector or meter (``ServerContext.__init__`` is not called): every method is overridden,
    and ``connections`` records what this check opened."""

    def __init__(self, server: ScriptedServer) -> None:
        self._server = server
        self._connections: list[ScriptedConnection] = []

    @property
    def connections(self) -> tuple[ScriptedConnection, ...]:
        """The connections this context opened, in order (shared observations it gathered included)."""
        return tuple(self._connections)

    @property
    def target(self) -> ServerTarget:
        """The server as the user asked for it."""
        return self._server.target

    @property
    def profile(self) -> ServerProfile:
        """What the connectivity phase learned."""
        return self._server.profile

    @property
    def first_contact(self) -> FirstContact | None:
        """The connectivity phase's first accepted hello, as given to the server."""
        return self._server.first_contact

    def _open(self, connection: ScriptedConnection) -> ScriptedConnection:
        self._connections.append(connection)
        self._server._opened(connection)
        return connection

    async def hello(self, spec: ClientHelloSpec, *, ahead: bytes = b"") -> HelloOutcome:
        """The hello script's answer to ``spec``."""
        await anyio.lowlevel.checkpoint()
        self._open(ScriptedConnection(kind="hello", spec=spec, sent=[ahead] if ahead else []))
        return self._server._answer(spec)

    async def tls13_flight(self, spec: ClientHelloSpec) -> Tls13Flight | HelloRejected:
        """The TLS 1.3 flight script's answer to ``spec``."""
        await anyio.lowlevel.checkpoint()
        self._open(ScriptedConnection(kind="tls13_flight", spec=spec))
        return self._server._flight(spec)

    async def converse(
        self, spec: ClientHelloSpec, script: Callable[[Conversation], Awaitable[T]], *, ahead: bytes = b""
    ) -> T | HelloRejected:
        """The hello script's answer to ``spec``; when it accepts, ``script`` runs on a conversation whose
        reactions come from the reaction script."""
        await anyio.lowlevel.checkpoint()
        connection = self._open(ScriptedConnection(kind="converse", spec=spec, sent=[ahead] if ahead else []))
        outcome = self._server._answer(spec)
        if isinstance(outcome, HelloRejected):
            return outcome
        if outcome.version is TLSVersion.TLS1_3:
            raise MalformedServerResponseError("server did not end its TLS 1.3 handshake flight with ServerHelloDone")
        return await script(ScriptedConversation(self._server, connection, spec, outcome, ahead))

    async def sslv2_hello(self, cipher_kinds: tuple[int, ...]) -> SSL2Outcome:
        """The SSL 2.0 script's answer."""
        await anyio.lowlevel.checkpoint()
        self._open(ScriptedConnection(kind="sslv2_hello", cipher_kinds=cipher_kinds))
        return self._server._sslv2(cipher_kinds)

    async def shared(self, key: str, gather: Callable[[ServerContext], Awaitable[T]]) -> T:
        """``gather(self)`` once per scripted server under ``key``; other contexts of the server get its value."""
        return await self._server._shared.get(key, lambda: gather(self))

    async def early_shared(self, key: str) -> object | None:
        """None: a scripted server gets no hello before its checks, as a scan with none announced."""
        return await self._server._shared.early(key)

    async def run_blocking(self, fn: Callable[[socket.socket, Unpack[Ts]], T], *args: *Ts) -> T:
        """What the blocking script returns for ``fn`` and ``args`` (no thread, no socket)."""
        await anyio.lowlevel.checkpoint()
        call = BlockingCall(fn=fn, args=tuple(args))
        self._open(ScriptedConnection(kind="run_blocking", call=call))
        return cast("T", self._server._handshake(call))


class ScriptedConversation(Conversation):
    """A conversation with a scripted server: what the check sends is recorded, and each ``reaction`` asks the
    reaction script, then reads its records as ``Conversation.reaction`` reads a socket.

    Once a reaction ended with the connection gone (a fatal alert or a close: closed; a reset: reset), the script
    is not asked again and every later reaction is empty, ending the same way."""

    def __init__(
        self,
        server: ScriptedServer,
        connection: ScriptedConnection,
        spec: ClientHelloSpec,
        accepted: HelloAccepted,
        ahead: bytes,
    ) -> None:
        self.accepted = accepted
        """What the server chose."""
        self._server = server
        self._connection = connection
        self._spec = spec
        self._pending = ahead
        self._gone: ReactionEnd | None = None

    async def send(self, data: bytes) -> None:
        """Record ``data``; the server reads it at the next reaction."""
        await anyio.lowlevel.checkpoint()
        self._connection.sent.append(data)
        self._pending += data

    async def reaction(
        self, *, stop: Callable[[Record], bool] | None = None, wait_s: float | None = None
    ) -> ServerReaction:
        """The script's reaction to what was sent since the last one, read up to the first fatal alert or the
        first record for which ``stop`` is true; after its last record, the script's ending (``closed``,
        ``reset`` or ``silent``; any other is read as ``silent``, the reader having seen no reason to stop).
        ``wait_s`` changes nothing: silence is scripted."""
        await anyio.lowlevel.checkpoint()
        if self._gone is not None:
            reaction = ServerReaction(records=(), end=self._gone)
        else:
            reader = RecordReader()
            reader.feed(self._pending)
            self._pending = b""
            received: list[Record] = []
            while (record := reader.next_record()) is not None:
                received.append(record)
            scripted = self._server._reaction(
                Exchange(spec=self._spec, accepted=self.accepted, received=tuple(received))
            )
            reaction = _read(scripted, stop)
            if reaction.end in (ReactionEnd.fatal_alert, ReactionEnd.closed):
                self._gone = ReactionEnd.closed
            elif reaction.end is ReactionEnd.reset:
                self._gone = ReactionEnd.reset
        self._connection.reactions.append(reaction)
        return reaction


def _read(scripted: ServerReaction, stop: Callable[[Record], bool] | None) -> ServerReaction:
    records: list[Record] = []
    for record in scripted.records:
        records.append(record)
        if is_fatal_alert(record):
            return ServerReaction(records=tuple(records), end=ReactionEnd.fatal_alert)
        if stop is not None and stop(record):
            return ServerReaction(records=tuple(records), end=ReactionEnd.enough)
    ending = (ReactionEnd.closed, ReactionEnd.reset, ReactionEnd.silent)
    return ServerReaction(records=tuple(records), end=scripted.end if scripted.end in ending else ReactionEnd.silent)
