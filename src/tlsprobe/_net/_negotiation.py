"""Plaintext exchanges before TLS (STARTTLS, HTTP CONNECT): the sans-I/O contract and its two drivers.

A ``Negotiator`` is a small state machine with no I/O: ``start()`` gives the bytes to send first, ``receive(data)``
takes what the server sent and gives what to send next, until ``done``. It raises when the server refuses or
says something it cannot parse, quoting the server. The drivers move the bytes: ``negotiate`` on an anyio stream
(native probes), ``negotiate_blocking`` on the blocking socket handed to a nassl thread. Both bound every exchange
(one message sent, the reply to it read) by the read timeout, and the negotiator bounds what it buffers.
"""

from __future__ import annotations

import abc
import socket
import time
from collections.abc import Sequence

import anyio
import anyio.abc

from tlsprobe._exceptions import ConnectionRejectedError, ResponseTimeoutError

MAX_NEGOTIATION_BYTES = 64 * 1024
"""The most a server may send during one negotiation: a banner and a capability list are far smaller."""
_RECEIVE_SIZE = 4096
_QUOTE_LENGTH = 300


class NegotiationError(ConnectionRejectedError):
    """A plaintext exchange before TLS failed: refused, cut short, or not the protocol expected.

    The message quotes what the server said.
    """


class StartTLSError(NegotiationError):
    """The server refused to start TLS, or did not speak the STARTTLS protocol expected."""


class ProxyError(NegotiationError):
    """The HTTP CONNECT proxy refused the tunnel, asked for credentials, or could not be reached."""


class ProxyAuthenticationError(ProxyError):
    """The proxy answered ``407 Proxy Authentication Required``: no credentials, or wrong ones."""


class ProxyUnreachableError(ProxyError):
    """The proxy itself could not be connected to."""


def quote(data: bytes | str) -> str:
    """The server's words, printable and short, in quotes."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    if len(text) > _QUOTE_LENGTH:
        text = text[:_QUOTE_LENGTH] + "..."
    return repr(text)


class Negotiator(abc.ABC):
    """One client's side of a plaintext exchange; fed the server's bytes, it says what to send back."""

    protocol: str = "?"
    """The protocol's name, for messages."""
    error_class: type[NegotiationError] = StartTLSError
    """What it raises."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._received = 0
        self.done = False
        self.last_reply = b""
        """The last complete reply, quoted when the connection ends early."""

    @abc.abstractmethod
    def start(self) -> bytes:
        """What to send once connected; empty when the server speaks first."""

    def receive(self, data: bytes) -> bytes:
        """Take bytes from the server; return what to send next (possibly nothing)."""
        self._refuse_if_done(data)
        self._received += len(data)
        if self._received > MAX_NEGOTIATION_BYTES:
            raise self.error_class(
                f"{self.protocol}: the server sent more than {MAX_NEGOTIATION_BYTES} bytes without agreeing to start "
                f"TLS; it began {quote(bytes(self._buffer[:120]))}"
            )
        self._buffer += data
        to_send = self._advance()
        if self.done and self._buffer:
            raise self.error_class(
                f"{self.protocol}: the server sent data after agreeing to start TLS: {quote(bytes(self._buffer))}"
            )
        return to_send

    def _refuse_if_done(self, data: bytes) -> None:
        if self.done:
            raise self.error_class(f"{self.protocol}: the server sent data after agreeing to start TLS: {quote(data)}")

    @abc.abstractmethod
    def _advance(self) -> bytes:
        """Consume what ``_buffer`` holds of complete replies; return what to send next."""

    def closed_error(self) -> NegotiationError:
        """The error for a server that closed the connection before the negotiation was done."""
        said = f"; it last said {quote(self.last_reply)}" if self.last_reply else ""
        pending = f"; unanswered: {quote(bytes(self._buffer))}" if self._buffer else ""
        return self.error_class(f"{self.protocol}: the server closed the connection before TLS started{said}{pending}")

    def take_line(self) -> bytes | None:
        """The next complete line (without its end of line), or None until one has arrived."""
        end = self._buffer.find(b"\n")
        if end < 0:
            return None
        line = bytes(self._buffer[:end]).rstrip(b"\r")
        del self._buffer[: end + 1]
        return line

    def take_bytes(self, count: int) -> bytes | None:
        """The next ``count`` bytes, or None until they have all arrived."""
        if len(self._buffer) < count:
            return None
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def peek(self) -> bytes:
        """What is buffered and not yet consumed."""
        return bytes(self._buffer)


async def negotiate(stream: anyio.abc.ByteStream, negotiators: Sequence[Negotiator], read_timeout_s: float) -> None:
    """Run each negotiator in turn on ``stream``; each exchange must complete within ``read_timeout_s``."""
    for negotiator in negotiators:
        to_send = negotiator.start()
        while True:
            try:
                with anyio.fail_after(read_timeout_s):
                    if to_send:
                        await stream.send(to_send)
                    if negotiator.done:
                        break
                    to_send = b""
                    while not to_send and not negotiator.done:
                        try:
                            data = await stream.receive(_RECEIVE_SIZE)
                        except (anyio.EndOfStream, anyio.BrokenResourceError):
                            raise negotiator.closed_error() from None
                        to_send = negotiator.receive(data)
            except TimeoutError:
                raise _timeout(negotiator, read_timeout_s) from None
            except OSError as error:
                raise negotiator.error_class(
                    f"{negotiator.protocol}: the connection failed before TLS started: {error.strerror or error}"
                ) from None


def negotiate_blocking(sock: socket.socket, negotiators: Sequence[Negotiator], read_timeout_s: float) -> None:
    """The blocking twin of ``negotiate``, on a socket whose operations time out."""
    for negotiator in negotiators:
        to_send = negotiator.start()
        while True:
            deadline = time.monotonic() + read_timeout_s
            try:
                if to_send:
                    sock.settimeout(read_timeout_s)
                    sock.sendall(to_send)
                if negotiator.done:
                    break
                to_send = b""
                while not to_send and not negotiator.done:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError
                    sock.settimeout(remaining)
                    data = sock.recv(_RECEIVE_SIZE)
                    if not data:
                        raise negotiator.closed_error()
                    to_send = negotiator.receive(data)
            except TimeoutError:
                raise _timeout(negotiator, read_timeout_s) from None
            except OSError as error:
                raise negotiator.error_class(
                    f"{negotiator.protocol}: the connection failed before TLS started: {error.strerror or error}"
                ) from None
            finally:
                sock.settimeout(read_timeout_s)


def _timeout(negotiator: Negotiator, read_timeout_s: float) -> ResponseTimeoutError:
    said = f" (it last said {quote(negotiator.last_reply)})" if negotiator.last_reply else ""
    return ResponseTimeoutError(
        f"{negotiator.protocol}: no answer from the server within {read_timeout_s:g} s before TLS started{said}"
    )
