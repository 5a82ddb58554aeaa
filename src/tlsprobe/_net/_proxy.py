"""HTTP CONNECT tunnels (RFC 9110 9.3.6): ask the proxy for a tunnel to the server, read its status line.

A 2xx opens the tunnel; 407 means the proxy wants (other) credentials; anything else is a refusal, quoted.
"""

from __future__ import annotations

import base64

from tlsprobe._model._config import HttpProxy
from tlsprobe._net._negotiation import Negotiator, ProxyAuthenticationError, ProxyError, quote


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class HttpConnectNegotiator(Negotiator):
    """The client's side of a CONNECT request."""

    protocol = "HTTP CONNECT"
    error_class = ProxyError

    def __init__(self, proxy: HttpProxy, host: str, port: int) -> None:
        super().__init__()
        self._proxy = proxy
        self._authority = _authority(host, port)
        self.protocol = f"HTTP proxy {_authority(proxy.host, proxy.port)}"

    def start(self) -> bytes:
        lines = [f"CONNECT {self._authority} HTTP/1.1", f"Host: {self._authority}"]
        if self._proxy.username is not None:
            secret = f"{self._proxy.username}:{self._proxy.password or ''}".encode()
            lines.append(f"Proxy-Authorization: Basic {base64.b64encode(secret).decode('ascii')}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _advance(self) -> bytes:
        data = self.peek()
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return b""
        self.take_bytes(end + 4)
        status_line = data[: data.find(b"\r\n")]
        self.last_reply = status_line
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ProxyError(f"{self.protocol} did not answer CONNECT in HTTP: {quote(status_line)}")
        status = int(parts[1])
        if status == 407 or (status == 401 and self._proxy.username is not None):  # tinyproxy: 401 for bad ones
            given = "rejected the credentials given" if self._proxy.username is not None else "requires credentials"
            raise ProxyAuthenticationError(
                f"{self.protocol} {given} (http://user:password@host:port): {quote(status_line)}"
            )
        if not 200 <= status < 300:
            raise ProxyError(f"{self.protocol} refused the tunnel to {self._authority}: {quote(status_line)}")
        self.done = True
        return b""
