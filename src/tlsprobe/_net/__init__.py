"""The only code that opens sockets: async TCP for native probes, blocking sockets for nassl worker threads.

Every connection, whichever path opens it, first takes a permit from its server's ``ConnectionPermits`` and one
from the scan-wide connection cap, and gives them back only once the socket is really closed.
"""

from tlsprobe._net._connector import ConnectionPermits, ProbeMeter, ScanCounters, ServerConnector

__all__ = ["ConnectionPermits", "ProbeMeter", "ScanCounters", "ServerConnector"]
