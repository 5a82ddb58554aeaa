"""Real TLS servers and a throw-away PKI, for tlsprobe's tests and the ``tlsprobe demo`` command.

Everything here listens on loopback only and is meant for testing and demonstration, never for production.
"""

from tlsprobe.testing._pki import TestPKI, generate_test_pki
from tlsprobe.testing._proxy import CountingProxy
from tlsprobe.testing._servers import LocalTLSServer

__all__ = ["CountingProxy", "LocalTLSServer", "TestPKI", "generate_test_pki"]
