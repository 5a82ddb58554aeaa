"""A pure-Python TLS server on tlslite-ng: SSL 3.0 to TLS 1.3, and suites modern OpenSSL builds lack.

Why: tlslite-ng is an independent TLS implementation (a second fingerprint next to OpenSSL), it still speaks
SSL 3.0 and RC4/3DES/NULL suites, and, being Python, it is the place for deliberately vulnerable variants.
Without flags the server has no flaws. The flags add them, combinable with each other:

- ``--no-fallback-scsv``: tlslite ignores TLS_FALLBACK_SCSV (RFC 7507);
- ``--heartbleed``: answers heartbeat requests with over-long payloads (CVE-2014-0160);
- ``--ccs-injection``: accepts a ChangeCipherSpec before the ClientKeyExchange (CVE-2014-0224);
- ``--robot weak|strong``: answers malformed RSA ClientKeyExchange padding differently (ROBOT).

The last three sit in a socket wrapper that sees the client's records before tlslite does, and what tlslite
sends (``socket_wrapper`` of :func:`serve`); ``tests/servers/tlslite_flaws.py`` tells exactly what each does
on the wire.

Run it from the repository root::

    python -m tests.servers.tlslite_server --port 0 --cert rsa.chain.pem --key rsa.key --min ssl3 --max tls1.2

It prints ``READY <port>`` once it listens on 127.0.0.1 and serves each connection in its own thread:
handshake, read a little, answer a tiny HTTP response, close. Every socket has a timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tlslite import HandshakeSettings, SessionCache, TLSConnection, X509CertChain, parsePEMKey
from tlslite.constants import CipherSuite
from tlslite.handshakesettings import ALL_CIPHER_NAMES

from tests.servers.sockets import lingering_close
from tests.servers.tlslite_flaws import FlawedSocket, Flaws, rsa_key_numbers

VERSIONS: dict[str, tuple[int, int]] = {
    "ssl3": (3, 0),
    "tls1.0": (3, 1),
    "tls1.1": (3, 2),
    "tls1.2": (3, 3),
    "tls1.3": (3, 4),
}

#: Turns the accepted TCP socket into the object tlslite reads from and writes to. The identity by default;
#: a flawed variant returns a wrapper with the same ``recv``/``send``/``sendall`` interface.
SocketWrapper = Callable[[socket.socket], Any]

_HTTP_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"
_SOCKET_TIMEOUT_S = 5.0
_READ_REQUEST_TIMEOUT_S = 1.0


class ServerConfig:
    """Certificate, key and handshake settings shared by every connection of one server."""

    def __init__(
        self,
        *,
        cert: Path,
        key: Path,
        min_version: str,
        max_version: str,
        ciphers: list[str] | None,
        groups: list[str] | None = None,
    ) -> None:
        chain = X509CertChain()
        chain.parsePemList(cert.read_text())
        self.cert_chain = chain
        self.private_key = parsePEMKey(key.read_text(), private=True)
        settings = HandshakeSettings()
        settings.minVersion = VERSIONS[min_version]
        settings.maxVersion = VERSIONS[max_version]
        if ciphers:
            unknown = sorted(set(ciphers) - set(ALL_CIPHER_NAMES))
            if unknown:
                raise SystemExit(f"tlslite_server: unknown cipher names {unknown}; known: {ALL_CIPHER_NAMES}")
            settings.cipherNames = list(ciphers)
            if "rc4" in ciphers or "null" in ciphers:
                # RC4-MD5 and NULL-MD5 need the MD5 MAC, which tlslite leaves out by default.
                settings.macNames = [*settings.macNames, "md5"]
        if groups:
            # tlslite names; the ML-KEM hybrids (x25519mlkem768...) need the kyber-py package.
            settings.eccCurves = [group for group in groups if not group.startswith("ffdhe")]
            settings.dhGroups = [group for group in groups if group.startswith("ffdhe")]
            settings.keyShares = [group for group in settings.keyShares if group in groups]
        self.settings = settings.validate()
        self.session_cache = SessionCache()


def serve_connection(config: ServerConfig, sock: socket.socket, socket_wrapper: SocketWrapper) -> None:
    """Handshake as the server, answer one tiny HTTP response, close. Never raises."""
    try:
        with sock:
            sock.settimeout(_SOCKET_TIMEOUT_S)
            connection = TLSConnection(socket_wrapper(sock))
            connection.closeSocket = False  # we close, after lingering (see lingering_close)
            try:
                connection.handshakeServer(
                    certChain=config.cert_chain,
                    privateKey=config.private_key,
                    settings=config.settings,
                    sessionCache=config.session_cache,
                )
            except Exception:  # tlslite already sent its alert
                lingering_close(sock)
                return
            sock.settimeout(_READ_REQUEST_TIMEOUT_S)
            with contextlib.suppress(TimeoutError, OSError):
                connection.read(max=4096)  # no request: answer anyway
            connection.write(_HTTP_RESPONSE)
            send_close_notify(connection, sock)
            lingering_close(sock)
    except Exception:  # failed handshakes and resets are expected from a scanner
        pass


def send_close_notify(connection: TLSConnection, sock: socket.socket) -> None:
    """Send close_notify without waiting for the client's (tlslite's close() would wait for it)."""
    sock.setblocking(False)
    closing = connection.closeAsync()
    try:
        for _step in closing:
            break  # 0 = it wants to read the client's close_notify; 1 = send would block
    except Exception:  # best effort
        pass
    finally:
        closing.close()
        sock.settimeout(_SOCKET_TIMEOUT_S)


def serve(config: ServerConfig, port: int, socket_wrapper: SocketWrapper = lambda sock: sock) -> None:
    """Accept forever on 127.0.0.1, one daemon thread per connection."""
    with socket.create_server(("127.0.0.1", port), backlog=128) as listener:
        print(f"READY {listener.getsockname()[1]}", flush=True)
        while True:
            client, _address = listener.accept()
            threading.Thread(target=serve_connection, args=(config, client, socket_wrapper), daemon=True).start()


def build_parser() -> argparse.ArgumentParser:
    """The command line; flawed variants add their own options to it."""
    parser = argparse.ArgumentParser(prog="python -m tests.servers.tlslite_server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert", type=Path, required=True, help="PEM certificate chain (leaf first)")
    parser.add_argument("--key", type=Path, required=True, help="PEM private key (RSA or ECDSA)")
    parser.add_argument("--min", dest="min_version", choices=list(VERSIONS), default="tls1.0")
    parser.add_argument("--max", dest="max_version", choices=list(VERSIONS), default="tls1.3")
    parser.add_argument(
        "--ciphers",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        help=f"comma-separated tlslite cipher names, from: {','.join(ALL_CIPHER_NAMES)}",
    )
    parser.add_argument(
        "--groups",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        help="comma-separated tlslite group names, in the server's order (e.g. x25519mlkem768,x25519)",
    )
    parser.add_argument(
        "--no-fallback-scsv",
        action="store_true",
        help="flaw: ignore TLS_FALLBACK_SCSV (RFC 7507) and accept a downgraded hello",
    )
    parser.add_argument(
        "--heartbleed",
        action="store_true",
        help="flaw: answer heartbeat requests for their declared length, leaking a fake secret (CVE-2014-0160)",
    )
    parser.add_argument(
        "--ccs-injection",
        action="store_true",
        help="flaw: accept a ChangeCipherSpec before the ClientKeyExchange (CVE-2014-0224)",
    )
    parser.add_argument(
        "--robot",
        choices=["weak", "strong"],
        help="flaw: a Bleichenbacher padding oracle on RSA key exchange, weak or strong (ROBOT)",
    )
    return parser


def flawed_socket_wrapper(config: ServerConfig, flaws: Flaws) -> SocketWrapper:
    """The wrapper that adds ``flaws`` on the wire; the identity when there are none."""
    if not flaws.any:
        return lambda sock: sock
    rsa_key = rsa_key_numbers(config.private_key)
    return lambda sock: FlawedSocket(sock, flaws, rsa_key)


def ignore_fallback_scsv() -> None:
    """Make tlslite blind to TLS_FALLBACK_SCSV: it compares client suites with this constant, and no real suite
    has the code -1, so a fallback hello is then handled like any other, as a server without RFC 7507 does."""
    CipherSuite.TLS_FALLBACK_SCSV = -1


def main(argv: list[str] | None = None) -> None:
    options = build_parser().parse_args(argv)
    if options.no_fallback_scsv:
        ignore_fallback_scsv()
    config = ServerConfig(
        cert=options.cert,
        key=options.key,
        min_version=options.min_version,
        max_version=options.max_version,
        ciphers=options.ciphers,
        groups=options.groups,
    )
    flaws = Flaws(heartbleed=options.heartbleed, ccs_injection=options.ccs_injection, robot=options.robot)
    with contextlib.suppress(KeyboardInterrupt):
        serve(config, options.port, flawed_socket_wrapper(config, flaws))
    sys.exit(0)


if __name__ == "__main__":
    main()
