"""Native probes: send a hand-built hello on an async socket, read the server's first flight, close.

A probe waits for the server's close before its permit goes back (``_net``), which costs a round trip after the
answer. Where the server has shown it answers a half-closed connection exactly as a normal one
(``NativeProber.learn_half_close``), a hello whose connection has nothing more to say is sent with our FIN right
behind it, so the server's close follows its answer instead of a round trip later. The hellos sent beside the
first contact go half-closed before that is known, and go again fully closed if it turns out otherwise. A probe
retried alone (after a hang-up among other connections) is never half-closed, so a hang-up it gets is the
server's answer to the hello. The first contact itself goes fully closed (it is the reference), but its answer is
handed back as soon as it is in, while its close goes on holding its permit.

Only a few probes go beside the first contact before the server has responded at all (a byte, a hang-up): with it,
four connections. The others wait for its first byte, so a server that accepts connections and never answers
costs those four, none of them retried (``_net/_retries``), and fails with a clear timeout.

A probe's answer is data: accepted (with what the server chose) or rejected (with the alert, if any). A probe
that could not get an answer is retried as ``_net/_retries`` says: a refused or timed-out connection with backoff
and fewer permits, a hang-up among other connections alone. A server that closes (or resets) the connection
without a word is a rejection only when it does so to a probe that was alone with it; a failed probe never reads
as a rejection. One that breaks its answer off (some bytes, then a close or a reset) is retried the same way, but
alone with the server that is a malformed answer, quoted, never a refusal.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final, TypeVar

import anyio
import attrs
from anyio.abc import SocketStream

from tlsprobe._exceptions import (
    ConnectionClosedError,
    MalformedServerResponseError,
    ResponseTimeoutError,
    TLSProbeError,
)
from tlsprobe._model._config import Timeouts
from tlsprobe._net import Attempt, ProbeMeter, ServerConnector
from tlsprobe._probing._conversation import Conversation
from tlsprobe.wire import (
    Alert,
    AlertLevel,
    ClientHelloSpec,
    HelloRetryRequest,
    ServerFlightReader,
    ServerHello,
    ServerHelloDone,
    SSL2ServerHello,
    Tls13FlightDecryptor,
    Tls13UnsupportedError,
    build_client_hello,
    build_sslv2_client_hello,
    supports_decryption,
)
from tlsprobe.wire._answers import (
    FirstContact,
    HelloAccepted,
    HelloOutcome,
    HelloRejected,
    SSL2Accepted,
    SSL2Outcome,
    Tls13Flight,
    interpret_tls13_flight,
    interpret_tls_flight,
)
from tlsprobe.wire._versions import TLSVersion

T = TypeVar("T")
_BESIDE_BEFORE_RESPONSE: Final = 3
"""Probes beside the first contact (the learning hello first, then the newest early hellos) that go before the
server has responded; the others wait for its first byte. Three: with the first contact, a silent server's whole
cost is four connections; on a server that answers, these are the ones the checks need first (the learning decides
how every later hello goes, TLS 1.2's answer is the baseline most checks wait for); the others wait at a small
cost on such a server (ARCHITECTURE.md, "Retries")."""
Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]]], object]
"""Starts a task (a task group's ``start_soon``)."""
_RECEIVE_SIZE = 65536


class _SilentClose(ConnectionClosedError):  # noqa: N818 - control flow
    """The server closed or reset the connection without sending anything."""

    def __init__(self) -> None:
        super().__init__("server closed the connection without answering")


class _CutShort(ConnectionClosedError):  # noqa: N818 - control flow
    """The server closed or reset the connection in the middle of its answer: retried alone like any hang-up (it
    may be load), but alone with the server it is a malformed answer, never a refusal."""


def _hang_up(reader: ServerFlightReader | None, *, reset: bool) -> ConnectionClosedError:
    """What a close (or reset) before any complete answer was: silence, or an answer broken off (with evidence)."""
    if reader is None:
        return _SilentClose()
    return _CutShort(f"server {'reset' if reset else 'closed'} the connection {reader.cut_short()}")


class NativeProber:
    """Sends hand-built hellos to one server, with bounded retries."""

    def __init__(self, connector: ServerConnector, timeouts: Timeouts) -> None:
        self._connector = connector
        self._timeouts = timeouts
        self._half_close = False
        self._first_contact: FirstContact | None = None
        self.first_connection_made = anyio.Event()
        """Set once the first contact has a connection (set up: proxy tunnel, STARTTLS): the server is there."""
        self._on_first_connection: Callable[[], None] | None = None
        self._first_hello: tuple[bytes, ClientHelloSpec] | None = None  # its bytes, and what it offered
        self._first_contact_done = anyio.Event()  # set once its answer is in (its close may still be under way)
        self._learning = False  # learn_half_close has started
        self._learned = anyio.Event()  # ... and has decided, either way
        self._spawn: Spawn | None = None
        self._beside_before_response = _BESIDE_BEFORE_RESPONSE

    def on_first_connection(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` (say, to start tasks) as soon as the first contact has a connection; never for a
        server that is not there, so nothing is started, and nothing left to cancel, for it. None forgets it (a
        callback holding what holds this prober is a reference cycle until then)."""
        self._on_first_connection = callback

    def finish_closes_with(self, spawn: Spawn | None) -> None:
        """Let ``first_contact`` hand its answer back before its connection is closed, the close going on in a
        task started with ``spawn`` (a task group's ``start_soon``; it still holds the permit till the server has
        closed). None: the close is waited for."""
        self._spawn = spawn

    @property
    def first_accepted(self) -> FirstContact | None:
        """The first contact's hello and answer, when the server accepted it."""
        return self._first_contact

    @property
    def half_closes(self) -> bool:
        """Whether hellos are sent half-closed (see the module docstring)."""
        return self._half_close

    async def learn_half_close(self, meter: ProbeMeter) -> None:
        """Send the first hello once more, half-closed, and half-close later hellos (``half_closes``) only if the
        server answers it with the same version and suite as the first contact got. It goes out as soon as the
        first contact has a connection, beside it (the server is known to be there, and has permits to spare),
        and is compared once the first contact is answered; nothing is learned when that was refused.

        Retried like any probe (a refusal with backoff, a hang-up among other connections alone, and half-closed
        still): a server that refuses connections beyond a few must not lose half-closing to its refusal, while
        one that hangs up on a half-closed hello when alone with it does not get it. Any other failure (a timeout
        after the retries, another answer) leaves hellos fully closed."""
        self._learning = True
        try:
            await self._learn_half_close(meter)
        finally:
            self._learned.set()

    async def _learn_half_close(self, meter: ProbeMeter) -> None:
        await self.first_connection_made.wait()
        await self._beside_turn()
        assert self._first_hello is not None
        hello, first_spec = self._first_hello

        async def exchange(attempt: Attempt) -> list[object]:
            async with self._connector.connect(meter, attempt) as stream:
                return await self._send_and_read_flight(stream, hello, sslv2=False, half_close=True)

        try:
            events = await self._settled(meter, exchange)
            answer = events if isinstance(events, HelloRejected) else interpret_tls_flight(events, first_spec)
        except TLSProbeError:
            return
        await self._first_contact_done.wait()
        if self._first_contact is None:
            return
        expected = self._first_contact.answer
        self._half_close = (
            isinstance(answer, HelloAccepted)
            and answer.version is expected.version
            and answer.cipher_suite == expected.cipher_suite
        )

    async def _beside_turn(self) -> None:
        """Wait, if need be, before a probe beside the first contact: the first ``_BESIDE_BEFORE_RESPONSE`` go at
        once, the others once the server has responded (the first contact's first byte, on most servers). On a
        silent server they never go: the scan's failure cancels them."""
        if self._beside_before_response:
            self._beside_before_response -= 1
            return
        await self._connector.permits.wait_response()

    def _half_closes(self, attempt: Attempt) -> bool:
        return self._half_close and not attempt.exclusive

    async def hello(
        self, meter: ProbeMeter, spec: ClientHelloSpec, *, ahead: bytes = b"", ahead_of_learning: bool = False
    ) -> HelloOutcome:
        """Send one ClientHello built from ``spec``, with the records ``ahead`` right behind it (say a
        close_notify); see the module docstring for retries.

        ``ahead_of_learning``: sent while ``learn_half_close`` has not decided yet, the hello goes half-closed
        all the same, and its answer stands only if the learning then allows half-closing; otherwise it is sent
        again, fully closed. The hellos sent beside the first contact save their closing round trip this way on
        every server that answers half-closed hellos alike (most), at one more hello each on the others. Such a
        hello goes beside the first contact: only a few go before the server has responded (``_beside_turn``)."""
        hello = build_client_hello(spec) + ahead
        if ahead_of_learning:
            await self._beside_turn()

        async def as_learned(attempt: Attempt) -> list[object]:
            return await self._exchange(meter, attempt, hello, sslv2=False)

        if ahead_of_learning and self._learning and not self._learned.is_set():
            sent_half_closed = False

            async def optimistic(attempt: Attempt) -> list[object]:
                nonlocal sent_half_closed
                sent_half_closed = not attempt.exclusive
                return await self._exchange(meter, attempt, hello, sslv2=False, half_close=sent_half_closed)

            outcome = await self._settled(meter, optimistic)
            await self._learned.wait()
            if sent_half_closed and not self._half_close:
                outcome = await self._settled(meter, as_learned)
        else:
            outcome = await self._settled(meter, as_learned)
        if isinstance(outcome, HelloRejected):
            return outcome
        return interpret_tls_flight(outcome, spec)

    async def first_contact(self, meter: ProbeMeter, spec: ClientHelloSpec) -> tuple[HelloOutcome, Tls13Flight | None]:
        """The first hello to a server (retried as a first contact, see ``_net/_retries``), which is also the
        reference ``learn_half_close`` sends again. When the server answers with TLS 1.3 and a key share this
        process can decrypt, its flight is decrypted on the same connection: it shows whether the server requests
        a client certificate. The flight is None when it could not be read (another version, a
        HelloRetryRequest, a flight cut short or not understood): the answer to the hello stands all the same."""
        hello = build_client_hello(spec)
        self._first_hello = (hello, spec)
        answered: list[tuple[list[object], Tls13Flight | None]] = []
        ready = anyio.Event()  # the answer is in (its connection may still be closing), or the probe has ended

        async def exchange(attempt: Attempt) -> tuple[list[object], Tls13Flight | None]:
            async with self._connector.connect(meter, attempt) as stream:
                if not self.first_connection_made.is_set():
                    self.first_connection_made.set()
                    if self._on_first_connection is not None:
                        callback, self._on_first_connection = self._on_first_connection, None
                        callback()
                received = bytearray()
                events = await self._send_and_read_flight(stream, hello, sslv2=False, received=received)
                server_hello = next((event for event in events if isinstance(event, ServerHello)), None)
                flight = None
                if server_hello is not None and server_hello.version is TLSVersion.TLS1_3:
                    flight = await self._flight_if_readable(stream, hello, server_hello, bytes(received))
                answered.append((events, flight))
                ready.set()
                return events, flight

        try:
            outcome = await self._settled_first_contact(meter, exchange, answered, ready)
            if isinstance(outcome, HelloRejected):
                return outcome, None
            events, flight = outcome
            answer = interpret_tls_flight(events, spec)
            if isinstance(answer, HelloAccepted):
                self._first_contact = FirstContact(spec=spec, answer=answer, flight=flight)
            return answer, flight
        finally:
            self._first_contact_done.set()

    async def _settled_first_contact(
        self,
        meter: ProbeMeter,
        exchange: Callable[[Attempt], Awaitable[T]],
        answered: list[T],
        ready: anyio.Event,
    ) -> T | HelloRejected:
        """The first contact's outcome; with ``finish_closes_with``, as soon as ``exchange`` has put its answer
        in ``answered`` (and set ``ready``), while its connection closes in the background. The checks start a
        round trip sooner: the learning and early hellos beside it, half-closed, are done by then."""
        if self._spawn is None:
            return await self._settled(meter, exchange, first_contact=True)
        ended: list[T | HelloRejected | Exception] = []

        async def settle() -> None:
            try:
                ended.append(await self._settled(meter, exchange, first_contact=True))
            except Exception as error:  # raised to the caller below
                ended.append(error)
            finally:
                ready.set()

        self._spawn(settle)
        await ready.wait()
        if answered:
            return answered[0]
        outcome = ended.pop()  # emptied: the error's traceback holds settle's frame, which holds ``ended``
        if not isinstance(outcome, Exception):
            return outcome
        try:
            raise outcome
        finally:
            del outcome  # nor may this frame, which the traceback holds too, keep the error

    async def _flight_if_readable(
        self, stream: SocketStream, hello: bytes, server_hello: ServerHello, received: bytes
    ) -> Tls13Flight | None:
        group = server_hello.key_share_group
        if group is None or not supports_decryption(group):
            return None
        try:
            with anyio.fail_after(self._timeouts.read_s):
                flight = interpret_tls13_flight(await _rest_of_tls13_flight(stream, hello, received), server_hello)
        except (TimeoutError, anyio.BrokenResourceError, OSError, TLSProbeError, ValueError):
            return None  # the flight was only a bonus: the nassl handshake of the connectivity phase tells
        return None if isinstance(flight, HelloRejected) else flight

    async def tls13_flight(self, meter: ProbeMeter, spec: ClientHelloSpec) -> Tls13Flight | HelloRejected:
        """Send a TLS 1.3 ClientHello whose key shares this process can decrypt, and decrypt the server's flight.

        A HelloRetryRequest for a group the probe can decrypt is answered by one more hello on a new connection,
        with a key share for that group; one for any other group (ML-KEM) is a refusal for this purpose.
        """
        for _ in range(2):
            outcome = await self._settled(meter, functools.partial(self._exchange_tls13, meter, spec))
            if not isinstance(outcome, HelloRetryRequest):
                return outcome
            group = outcome.selected_group
            if group is None or not supports_decryption(group) or group in spec.key_share_groups:
                break
            spec = attrs.evolve(spec, key_share_groups=(group,))
        return HelloRejected(alert=None, reason="server wants a key share this probe cannot decrypt with")

    async def _exchange_tls13(
        self, meter: ProbeMeter, spec: ClientHelloSpec, attempt: Attempt
    ) -> Tls13Flight | HelloRejected | HelloRetryRequest:
        hello = build_client_hello(spec)
        async with self._connector.connect(meter, attempt) as stream:
            received = bytearray()
            try:
                with anyio.fail_after(self._timeouts.read_s):
                    await stream.send(hello)
                    if self._half_closes(attempt):
                        await stream.send_eof()
                    first = await _first_answer(stream, received)
                    if not isinstance(first, ServerHello):
                        return first
                    if first.version is not TLSVersion.TLS1_3:
                        return HelloRejected(alert=None, reason=f"server answered with {first.version.label}")
                    events = await _rest_of_tls13_flight(stream, hello, bytes(received))
            except TimeoutError:
                if not received:
                    raise self._silence() from None
                self._connector.permits.record_response()  # what came counts, for the retry
                raise ResponseTimeoutError(
                    f"no complete TLS 1.3 flight from the server within {self._timeouts.read_s:g} s"
                ) from None
            except (anyio.BrokenResourceError, OSError):
                if not received:
                    raise _SilentClose from None
                raise _CutShort(
                    f"server reset the connection after {len(received)} bytes, during its TLS 1.3 flight"
                ) from None
            except Tls13UnsupportedError as error:
                raise MalformedServerResponseError(f"cannot follow the server's TLS 1.3 flight: {error}") from None
        return interpret_tls13_flight(events, first)

    async def converse(
        self,
        meter: ProbeMeter,
        spec: ClientHelloSpec,
        script: Callable[[Conversation], Awaitable[T]],
        *,
        ahead: bytes = b"",
    ) -> T | HelloRejected:
        """Send a ClientHello (SSL 3.0 to TLS 1.2), read the server's whole flight up to ServerHelloDone, then let
        ``script`` go on talking on the same connection. Reaching the end of the flight is retried like a hello;
        the script is not. ``ahead``: records sent right behind the hello, before the flight came (a server
        reads records in order, so it meets them where it would have after its flight, a round trip sooner);
        what the server sent after its flight is the start of the script's first reaction."""
        hello = build_client_hello(spec) + ahead

        async def run(attempt: Attempt) -> T | HelloRejected:
            async with self._connector.connect(meter, attempt) as stream:
                unread = bytearray()
                events = await self._send_and_read_flight(stream, hello, sslv2=False, unread=unread)
                outcome = interpret_tls_flight(events, spec)
                if isinstance(outcome, HelloRejected):
                    return outcome
                if not any(isinstance(event, ServerHelloDone) for event in events):
                    raise MalformedServerResponseError(
                        f"server did not end its {outcome.version.label} handshake flight with ServerHelloDone"
                    )
                return await script(Conversation(stream, outcome, self._timeouts, unread=bytes(unread)))

        return await self._settled(meter, run)

    async def sslv2_hello(self, meter: ProbeMeter, cipher_kinds: tuple[int, ...]) -> SSL2Outcome:
        """Send one SSL 2.0 CLIENT-HELLO offering ``cipher_kinds``."""
        hello = build_sslv2_client_hello(cipher_kinds)
        outcome = await self._settled(meter, lambda attempt: self._exchange(meter, attempt, hello, sslv2=True))
        if isinstance(outcome, HelloRejected):
            return outcome
        for event in outcome:
            if isinstance(event, SSL2ServerHello):
                return SSL2Accepted(cipher_kinds=event.cipher_kinds, certificate=event.certificate)
            if isinstance(event, Alert):
                return HelloRejected(alert=event, reason=f"server sent the TLS alert {event.description_name}")
        return HelloRejected(alert=None, reason="server did not answer the SSL 2.0 hello with a SERVER-HELLO")

    async def _settled(
        self, meter: ProbeMeter, run: Callable[[Attempt], Awaitable[T]], *, first_contact: bool = False
    ) -> T | HelloRejected:
        try:
            return await self._connector.retrying(meter, run, first_contact=first_contact)
        except _CutShort as error:  # alone with the server, it broke off its answer: that is no refusal
            raise MalformedServerResponseError(str(error)) from None
        except ConnectionClosedError as error:  # raised only for a probe alone with the server: its refusal
            return HelloRejected(alert=None, reason=str(error))

    async def _exchange(
        self, meter: ProbeMeter, attempt: Attempt, hello: bytes, *, sslv2: bool, half_close: bool | None = None
    ) -> list[object]:
        if half_close is None:
            half_close = self._half_closes(attempt)
        async with self._connector.connect(meter, attempt) as stream:
            return await self._send_and_read_flight(stream, hello, sslv2=sslv2, half_close=half_close)

    async def _send_and_read_flight(
        self,
        stream: SocketStream,
        hello: bytes,
        *,
        sslv2: bool,
        half_close: bool = False,
        received: bytearray | None = None,
        unread: bytearray | None = None,
    ) -> list[object]:
        """The events of the server's answer up to the end of its cleartext flight; ``received``, when given,
        gets every byte read, and ``unread`` those read past the flight's end."""
        events: list[object] = []
        reader: ServerFlightReader | None = None
        last_byte_at = 0.0
        try:
            with anyio.fail_after(self._timeouts.read_s):
                await stream.send(hello)
                if half_close:
                    await stream.send_eof()
                while reader is None or not reader.done:
                    try:
                        data = await stream.receive(_RECEIVE_SIZE)
                    except anyio.EndOfStream:
                        break
                    last_byte_at = anyio.current_time()
                    if received is not None:
                        received += data
                    if reader is None:
                        # The first byte: the server is not silent (the probes beside the first contact that
                        # wait for this go now, and a timeout from now on is retried as load).
                        self._connector.permits.record_response()
                        # Servers that do not speak SSL 2.0 answer its hello with a TLS alert record.
                        reader = ServerFlightReader(sslv2=sslv2 and data[0] not in (0x15, 0x16))
                    events.extend(reader.feed(data))
        except TimeoutError:
            if reader is None:
                raise self._silence() from None
            if anyio.current_time() - last_byte_at < self._timeouts.read_s / 2:
                # Bytes were still coming when the time was up: a drip (a tarpit), not a server that stalled under
                # load. Retrying would only feed it more connections and time.
                raise self._connector.note_stall(
                    f"the server was still dripping its answer when the read timeout of {self._timeouts.read_s:g} s "
                    "passed"
                ) from None
            raise ResponseTimeoutError(
                f"no complete answer from the server within {self._timeouts.read_s:g} s"
            ) from None
        except (anyio.BrokenResourceError, OSError):
            # A reset before any answer is the same refusal as a silent close (which of the two a client
            # sees depends on timing); a reset mid-answer keeps what arrived.
            if not events:
                raise _hang_up(reader, reset=True) from None
        if not events:
            raise _hang_up(reader, reset=False)
        if unread is not None and reader is not None:
            unread += reader.take_unread()
        return events

    def _silence(self) -> ResponseTimeoutError:
        return ResponseTimeoutError(
            f"the server accepted the connection but sent nothing within {self._timeouts.read_s:g} s"
        )


async def _rest_of_tls13_flight(stream: SocketStream, hello: bytes, received: bytes) -> list[object]:
    """The decrypted events of a TLS 1.3 flight to its end, ``received`` being every byte of it read so far."""
    decryptor = Tls13FlightDecryptor(hello)
    events: list[object] = list(decryptor.feed(received))
    while not decryptor.done:
        try:
            events += decryptor.feed(await stream.receive(_RECEIVE_SIZE))
        except anyio.EndOfStream:
            raise MalformedServerResponseError(
                "server closed the connection before the end of its TLS 1.3 flight"
            ) from None
    return events


async def _first_answer(stream: SocketStream, received: bytearray) -> ServerHello | HelloRetryRequest | HelloRejected:
    """Read until the server's first answer is known, keeping every byte received (for the decryptor)."""
    reader = ServerFlightReader()
    while True:
        try:
            data = await stream.receive(_RECEIVE_SIZE)
        except anyio.EndOfStream:
            if not received:
                raise _SilentClose from None
            raise MalformedServerResponseError("server closed the connection in the middle of its answer") from None
        received += data
        for event in reader.feed(data):
            if isinstance(event, ServerHello | HelloRetryRequest):
                return event
            if isinstance(event, Alert) and event.level != AlertLevel.warning:
                return HelloRejected(alert=event, reason=f"server sent the alert {event.description_name}")
