"""The only code that opens sockets: async TCP for native probes, blocking sockets for nassl worker threads.

Both paths set a connection up the same way before its first TLS byte: an HTTP CONNECT tunnel through a proxy
(``_proxy``), then a STARTTLS upgrade (``starttls/``), each a sans-I/O negotiator run by one of the two drivers of
``_negotiation``.

Every connection, whichever path opens it, first takes a permit from its server's ``ConnectionPermits`` and one
from the scan-wide connection cap, and gives them back only once the socket is really closed. ``_identity`` reads
the user's client certificate once and says, through a context variable, what a worker thread's handshake offers.
"""

from tlsprobe._net._budget import connection_budget
from tlsprobe._net._connector import ConnectionSetup, ProbeMeter, ScanCounters, ServerConnector, chain
from tlsprobe._net._identity import ClientIdentity, HandshakeContext, load_client_identity
from tlsprobe._net._negotiation import (
    NegotiationError,
    ProxyAuthenticationError,
    ProxyError,
    ProxyUnreachableError,
    StartTLSError,
)
from tlsprobe._net._permits import ConnectionPermits, PermitHold
from tlsprobe._net._retries import Attempt

__all__ = [
    "Attempt",
    "ClientIdentity",
    "ConnectionPermits",
    "ConnectionSetup",
    "HandshakeContext",
    "NegotiationError",
    "PermitHold",
    "ProbeMeter",
    "ProxyAuthenticationError",
    "ProxyError",
    "ProxyUnreachableError",
    "ScanCounters",
    "ServerConnector",
    "StartTLSError",
    "chain",
    "connection_budget",
    "load_client_identity",
]
