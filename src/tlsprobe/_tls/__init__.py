"""The only code that imports nassl: blocking full handshakes, always run in worker threads.

nassl types never leave this package; foreign errors are translated in ``_errors`` at one seam.
"""

from tlsprobe._tls._client_auth import ClientAuthObservation, observe_client_auth
from tlsprobe._tls._renegotiation import count_client_renegotiations

__all__ = [
    "ClientAuthObservation",
    "count_client_renegotiations",
    "observe_client_auth",
]
