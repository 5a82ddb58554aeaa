"""A real webhook receiver on 127.0.0.1 for the webhook tests: ``http.server`` in a thread, answering each POST as
told (fail the first ones, never answer, drip an answer that never ends, redirect) and recording what came."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from typing import Literal

import attrs

Behaviour = Literal["answer", "silent", "drip"]


@attrs.frozen
class Received:
    """One request as the receiver read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@attrs.define
class Receiver:
    """What the receiver does, and what it got."""

    behaviour: Behaviour = "answer"
    """``answer``: a status; ``silent``: read the request, then say nothing until the test ends; ``drip``: start
    an answer and send one byte of it now and then, never finishing it."""
    failures: int = 0
    """The first this many requests are answered with ``failure_status``."""
    failure_status: int = 503
    status: int = 204
    """The answer to the others."""
    headers: dict[str, str] = attrs.Factory(dict)
    """Headers sent with every answer."""
    received: list[Received] = attrs.Factory(list)
    stop: threading.Event = attrs.Factory(threading.Event)
    """Set when the test ends: a silent or dripping handler gives up."""
    port: int = 0

    def url(self, path: str = "/hooks/tls?token=s3cret") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(receiver: Receiver) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.received.append(Received("POST", self.path, dict(self.headers.items()), body))
            if receiver.behaviour == "silent":
                receiver.stop.wait()
                return
            if receiver.behaviour == "drip":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                while not receiver.stop.wait(0.05):  # the server's pace, not the test's synchronisation
                    self.wfile.write(b"X")
                return
            failing = len(receiver.received) <= receiver.failures
            self.send_response(receiver.failure_status if failing else receiver.status)
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    """``receiver`` listening on a free port of 127.0.0.1 until the block ends."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.port = server.server_address[1]
    # A short poll: shutdown() waits for the loop to notice it.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()
