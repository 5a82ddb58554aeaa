"""Translate nassl, OpenSSL and socket errors into tlsprobe's exceptions: the one seam for foreign errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nassl._nassl import OpenSSLError

from tlsprobe._exceptions import (
    ClientCertificateRequiredError,
    ConnectionClosedError,
    HandshakeError,
    ResponseTimeoutError,
)
from tlsprobe._net._identity import current_handshake_context


@contextmanager
def translated_errors() -> Iterator[None]:
    """Map what nassl and the socket raise to tlsprobe exceptions; everything else passes through.

    A handshake that fails on a server known to require a client certificate, when none was given, fails
    with ``ClientCertificateRequiredError``: that, not the alert, is why.
    """
    try:
        yield
    except OpenSSLError as error:
        context = current_handshake_context()
        if context.client_certificate_required and context.identity is None:
            raise ClientCertificateRequiredError(
                "the server requires a client certificate and none was given (--cert and --key): "
                f"TLS handshake failed: {_openssl_reason(error)}"
            ) from None
        raise HandshakeError(f"TLS handshake failed: {_openssl_reason(error)}") from None
    except TimeoutError:
        raise ResponseTimeoutError("the server stopped answering during the handshake") from None
    except OSError as error:
        # nassl raises a bare OSError("... peer did not send data back") when the server hangs up.
        raise ConnectionClosedError(f"the server closed the connection during the handshake: {error}") from None


def _openssl_reason(error: OpenSSLError) -> str:
    text = str(error.args[0]) if error.args else str(error)
    # OpenSSL messages look like "error:14094410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure".
    return text.rsplit(":", 1)[-1].strip() or text
