"""One HTTP request over a full nassl handshake: the blocking half of the ``http_headers`` check.

nassl's own ``read()`` waits for new bytes from the socket before it looks at what OpenSSL has already decrypted,
so a response that arrives in one segment with the handshake's last records would stall it; this module drives
the BIO pair itself (as ``_client_auth`` does), and bounds the whole response by one deadline.
"""

from __future__ import annotations

import socket
import time

from nassl._nassl import OpenSSLError, WantReadError
from nassl.ssl_client import BaseSslClient, ClientCertificateRequested

from tlsprobe._exceptions import ClientCertificateRequiredError, ConnectionClosedError, ResponseTimeoutError
from tlsprobe._tls._clients import new_client
from tlsprobe._tls._errors import _openssl_reason, translated_errors
from tlsprobe.wire._http import HTTPResponse, HTTPResponseParser
from tlsprobe.wire._versions import TLSVersion

_READ_SIZE = 16384
_DEFAULT_TIMEOUT_S = 5.0
# OpenSSL's words for the alerts a server sends when it wanted a client certificate.
_CLIENT_CERTIFICATE_ALERTS = ("certificate required", "alert bad certificate", "alert certificate unknown")


def fetch_http_response(
    sock: socket.socket, version: TLSVersion, server_name: str | None, request: bytes
) -> HTTPResponse:
    """Handshake at ``version`` (SNI ``server_name`` when not None), send ``request``, and parse the response.

    The handshake's reads use the socket's timeout; the whole response head must then arrive within that same
    timeout, counted from the request. A client-certificate request is answered with no certificate.

    :raises ClientCertificateRequiredError: the server wants a client certificate.
    :raises MalformedServerResponseError: the answer is not HTTP, or its head is too large.
    :raises ConnectionClosedError: the server closed, reset or sent an alert before the head was complete.
    :raises ResponseTimeoutError: the head did not arrive in time.
    """
    timeout_s = sock.gettimeout() or _DEFAULT_TIMEOUT_S
    with translated_errors():
        client = new_client(sock, version, server_name, ignore_client_auth=True)
        try:
            client.do_handshake()
        except ClientCertificateRequested:
            raise _client_certificate_required() from None
    _send(client, sock, request)
    parser = HTTPResponseParser()
    deadline = time.monotonic() + timeout_s
    while not parser.is_complete:
        try:
            data = _read(client, sock, deadline)
        except TimeoutError:
            if parser.headers_complete:
                break  # the head is all that matters: a slow body is not a failure
            raise _timeout(parser, timeout_s) from None
        except (ConnectionClosedError, OSError) as error:
            if parser.headers_complete:
                break
            if isinstance(error, ConnectionClosedError):
                raise
            raise ConnectionClosedError(
                f"the server reset the connection instead of answering the HTTP request: {error}"
            ) from None
        if not data:
            parser.feed_eof()
            break
        parser.feed(data)
    return parser.response()


def _send(client: BaseSslClient, sock: socket.socket, data: bytes) -> None:
    # nassl's write() hands the records to socket.send(), which may send only part of them; sendall() may not.
    try:
        client._ssl.write(data)
        while pending := client._network_bio.pending():
            sock.sendall(client._network_bio.read(pending))
    except OpenSSLError as error:
        raise ConnectionClosedError(f"the HTTP request could not be sent: {_openssl_reason(error)}") from None
    except TimeoutError:
        raise ResponseTimeoutError("the server stopped reading before the HTTP request was sent") from None
    except OSError as error:
        raise ConnectionClosedError(f"the HTTP request could not be sent: {error}") from None


def _read(client: BaseSslClient, sock: socket.socket, deadline: float) -> bytes:
    """The next decrypted bytes; b"" once the server has closed (close_notify or TCP FIN)."""
    while True:
        try:
            return bytes(client._ssl.read(_READ_SIZE))
        except WantReadError:
            pass  # nothing decrypted yet (or only a TLS 1.3 NewSessionTicket): read from the socket
        except OpenSSLError as error:
            if "shut down by peer" in str(error):
                return b""  # close_notify: a clean end of the response
            reason = _openssl_reason(error)
            if any(alert in str(error) for alert in _CLIENT_CERTIFICATE_ALERTS):
                raise _client_certificate_required() from None
            raise ConnectionClosedError(f"the server ended the connection with a TLS alert: {reason}") from None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        encrypted = sock.recv(_READ_SIZE)
        if not encrypted:
            return b""
        client._network_bio.write(encrypted)


def _timeout(parser: HTTPResponseParser, timeout_s: float) -> ResponseTimeoutError:
    if parser.bytes_received == 0:
        return ResponseTimeoutError(
            f"the server did not answer the HTTP request within {timeout_s:g} s: "
            "the service does not seem to speak HTTP"
        )
    return ResponseTimeoutError(
        f"the HTTP response head was not complete after {timeout_s:g} s ({parser.bytes_received} bytes received)"
    )


def _client_certificate_required() -> ClientCertificateRequiredError:
    return ClientCertificateRequiredError(
        "the server requires a client certificate and tlsprobe has none to present: its HTTP headers cannot be read"
    )
