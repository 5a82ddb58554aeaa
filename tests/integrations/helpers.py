"""What the integration tests share: a server that never answers, waiting for a condition, uvicorn in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Self

import anyio
import httpx
import uvicorn
from fastapi import FastAPI

from tlsprobe.integrations.fastapi import TargetPolicy

LOOPBACK_ONLY = TargetPolicy(allowed_networks=["127.0.0.0/8", "::1/128"])
"""The explicit allow-list the tests need to scan their own servers; the default policy refuses loopback."""

DEADLINE_S = 10.0
"""How long a test waits for something that should happen at once; a bound, not a measurement."""


class SilentServer:
    """Accepts TCP connections on 127.0.0.1, reads and never answers; closes its side once the client closes.

    A scan of it holds its connections open until the read timeout, so a test can see them closed by cancellation.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self.open_connections = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Self:
        thread = threading.Thread(target=self._accept_loop, name="SilentServer-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stopping.set()
        for thread in list(self._threads):
            thread.join(2)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self.open_connections += 1
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(0.05)
        try:
            while not self._stopping.is_set():
                try:
                    if not connection.recv(65536):
                        break  # the client closed: so does the server
                except TimeoutError:
                    continue
        except OSError:
            pass
        finally:
            connection.close()
            with self._lock:
                self.open_connections -= 1


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` if it does not within ``DEADLINE_S``."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for: {what}"
        time.sleep(0.02)


async def wait_until_async(condition: Callable[[], bool], what: str) -> None:
    """``wait_until`` for async tests: sleeps without blocking the event loop that must make it true."""
    with anyio.move_on_after(DEADLINE_S):
        while not condition():  # noqa: ASYNC110 - the state is the servers' threads' and the scanner's: no event to wait on
            await anyio.sleep(0.02)
    assert condition(), f"still waiting for: {what}"


@contextlib.contextmanager
def uvicorn_serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with a real uvicorn on 127.0.0.1 in a background thread; yields the base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="on", http="h11", ws="none", loop="asyncio", log_level="warning", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="uvicorn", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), "uvicorn to start")
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(DEADLINE_S)
        listener.close()
    assert not thread.is_alive(), "uvicorn did not stop"


def start_scan(client: httpx.Client, targets: list[str], checks: list[str], **fields: Any) -> dict[str, Any]:
    """Start a scan under ``/tls`` and return its state; fails the test unless it is accepted (202)."""
    response = client.post("/tls/scans", json={"targets": targets, "checks": checks, **fields})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def finished_scan(client: httpx.Client, scan_id: str) -> dict[str, Any]:
    """The scan's state once it has ended: its stream returns when the scan does."""
    with client.stream("GET", f"/tls/scans/{scan_id}/stream") as stream:
        for _line in stream.iter_lines():
            pass
    body: dict[str, Any] = client.get(f"/tls/scans/{scan_id}").json()
    assert body["status"] != "running"
    return body
