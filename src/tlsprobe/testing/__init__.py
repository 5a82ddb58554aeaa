"""Real TLS servers and a throw-away PKI, for tlsprobe's tests and the ``tlsprobe demo`` command; and a scripted
fake server (``ScriptedServer``) that answers a check's probes from data, with no socket, for fast tests of a
check's interpretation.

Everything here listens on loopback only and is meant for testing and demonstration, never for production.
"""

from tlsprobe.testing._pki import TestPKI, generate_test_pki
from tlsprobe.testing._proxy import CountingProxy
from tlsprobe.testing._scripted import (
    BlockingCall,
    Exchange,
    ScriptedConnection,
    ScriptedContext,
    ScriptedConversation,
    ScriptedServer,
    ScriptError,
    accepted,
    alert_record,
    rejected,
    tls_server,
)
from tlsprobe.testing._servers import LocalTLSServer

__all__ = [
    "BlockingCall",
    "CountingProxy",
    "Exchange",
    "LocalTLSServer",
    "ScriptError",
    "ScriptedConnection",
    "ScriptedContext",
    "ScriptedConversation",
    "ScriptedServer",
    "TestPKI",
    "accepted",
    "alert_record",
    "generate_test_pki",
    "rejected",
    "tls_server",
]
