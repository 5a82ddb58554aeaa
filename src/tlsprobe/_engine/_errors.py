"""Exceptions become data here, and only here."""

from __future__ import annotations

import traceback

from tlsprobe._exceptions import (
    CheckNotApplicable,
    ClientCertificateRequiredError,
    ConfigurationError,
    ConnectionClosedError,
    ConnectionRejectedError,
    ConnectTimeoutError,
    DNSResolutionError,
    HandshakeError,
    MalformedServerResponseError,
    ResponseTimeoutError,
    ServerOverloadedError,
    ServerResponseError,
    ServerStalledError,
)
from tlsprobe._model._results import CheckError, ErrorKind

# Most specific first: the first matching class wins.
_ERROR_KINDS: tuple[tuple[type[Exception], ErrorKind], ...] = (
    (ConfigurationError, ErrorKind.INVALID_TARGET),
    (DNSResolutionError, ErrorKind.DNS),
    (ConnectTimeoutError, ErrorKind.TIMEOUT),
    (ConnectionRejectedError, ErrorKind.CONNECTION_REJECTED),
    (ResponseTimeoutError, ErrorKind.TIMEOUT),
    (ServerStalledError, ErrorKind.TIMEOUT),
    (ConnectionClosedError, ErrorKind.CONNECTION_CLOSED),
    (ServerOverloadedError, ErrorKind.CONNECTION_CLOSED),
    (MalformedServerResponseError, ErrorKind.MALFORMED_RESPONSE),
    (ClientCertificateRequiredError, ErrorKind.CLIENT_CERTIFICATE_REQUIRED),
    (HandshakeError, ErrorKind.HANDSHAKE_FAILED),
    (ServerResponseError, ErrorKind.MALFORMED_RESPONSE),
)


def not_applicable(error: Exception) -> CheckNotApplicable | None:
    """The reason a check does not apply, when ``error`` is one, or ends a task group of the check as the first of
    its own failures (as ``error_from_exception`` reads a group): then the check is skipped, not failed."""
    while isinstance(error, ExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error if isinstance(error, CheckNotApplicable) else None


def error_from_exception(error: Exception) -> CheckError:
    """Describe ``error`` as data; anything unexpected is an internal error and keeps its traceback. A failure
    inside a task group (a check probing several things at once) is described by the first one of its own."""
    while isinstance(error, ExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    exception = f"{type(error).__module__}.{type(error).__qualname__}"
    for error_class, kind in _ERROR_KINDS:
        if isinstance(error, error_class):
            return CheckError(kind=kind, message=str(error), exception=exception)
    return CheckError(
        kind=ErrorKind.INTERNAL,
        message=f"internal error in tlsprobe: {type(error).__name__}: {error}",
        exception=exception,
        traceback="".join(traceback.format_exception(error)),
    )
