"""The exceptions tlsprobe raises. Inside the engine they are control flow; outside, they become data.

Users of the scanning API see exceptions only for their own mistakes (``ConfigurationError``); everything that
goes wrong with a server is reported as data in the result (``ConnectivityFailed``, ``CheckFailed``).

    TLSProbeError
    ├── ConfigurationError(ValueError)      a target, targets file line or option is invalid; raised at once
    ├── ConnectivityError                   the server could not be reached or spoken to at all
    │   ├── DNSResolutionError              the name does not resolve
    │   ├── ConnectionRejectedError         TCP connection refused or reset, or no route to the address
    │   └── ConnectTimeoutError(TimeoutError)   the TCP connection did not complete in time
    ├── ServerResponseError                 the server answered, but not in a way the probe could use
    │   ├── MalformedServerResponseError    bytes that are not valid TLS (garbage, HTTP, truncated structures)
    │   ├── ResponseTimeoutError(TimeoutError)  the server stopped answering mid-exchange
    │   ├── ConnectionClosedError           the server closed or reset the connection mid-exchange
    │   ├── ServerStalledError(TimeoutError)    an exchange outlived its deadline (bytes dripped); not retried
    │   └── ServerOverloadedError           hang-ups among other connections, retries ran out before one alone
    ├── HandshakeError                      a full (nassl) handshake failed in a way the check did not expect
    │   └── ClientCertificateRequiredError  the server requires a client certificate and none was given
    └── CheckNotApplicable                  a check does not apply to this server; becomes CheckSkipped
"""

from __future__ import annotations


class TLSProbeError(Exception):
    """Base class of every tlsprobe exception."""


class ConfigurationError(TLSProbeError, ValueError):
    """A target string, targets-file line, or option is invalid. The message names the offending text."""


class ConnectivityError(TLSProbeError):
    """The server could not be reached at all."""


class DNSResolutionError(ConnectivityError):
    """The host name did not resolve to any address."""


class ConnectionRejectedError(ConnectivityError):
    """The TCP connection was refused or reset, or the address is unreachable."""


class ConnectTimeoutError(ConnectivityError, TimeoutError):
    """The TCP connection was not established within the connect timeout."""


class ServerResponseError(TLSProbeError):
    """The server answered in a way the probe could not use."""


class MalformedServerResponseError(ServerResponseError):
    """The server sent bytes that are not a valid TLS (or SSL 2.0) response."""


class ResponseTimeoutError(ServerResponseError, TimeoutError):
    """The server did not answer within the read timeout."""


class ConnectionClosedError(ServerResponseError):
    """The server closed or reset the connection before the exchange was complete."""


class ServerStalledError(ServerResponseError, TimeoutError):
    """An exchange with the server outlived its deadline (``Timeouts.exchange_s``) while the server kept it going,
    say a byte now and then: a tarpit, not an overload. Not retried, and the server is not contacted again in this
    scan of it, so that such a server cannot hold the scan (or a worker thread) for long."""


class ServerOverloadedError(ServerResponseError):
    """The server hung up while other connections to it were open, and no retry was left to try the probe alone:
    whether it refused the probe or shed a connection under load is unknown."""


class HandshakeError(TLSProbeError):
    """A full handshake failed in a way the check did not expect."""


class ClientCertificateRequiredError(HandshakeError):
    """The server requires a client certificate and none was configured."""


class CheckNotApplicable(TLSProbeError):  # noqa: N818 - control flow, not an error users handle
    """Raised by a check that does not apply to the server; the message is the reason it was skipped."""
