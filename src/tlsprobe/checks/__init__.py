"""Checks: one module per check, each a frozen ``<Thing>Check`` whose ``run`` gathers through a ServerContext."""

from tlsprobe.checks._base import Check, ServerContext
from tlsprobe.checks._registry import DEFAULT_CHECKS, check_by_name
from tlsprobe.checks.cipher_suites import (
    AcceptedCipherSuite,
    CipherSuitesCheck,
    CipherSuitesResult,
    EnumerationMode,
)

__all__ = [
    "AcceptedCipherSuite",
    "Check",
    "CipherSuitesCheck",
    "CipherSuitesResult",
    "DEFAULT_CHECKS",
    "EnumerationMode",
    "ServerContext",
    "check_by_name",
]
