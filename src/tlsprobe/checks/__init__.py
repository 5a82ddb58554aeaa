"""Checks: one module per check, each a frozen ``<Thing>Check`` whose ``run`` gathers through a ServerContext."""

from tlsprobe.checks._base import Check, ServerContext
from tlsprobe.checks._registry import DEFAULT_CHECKS, check_by_name
from tlsprobe.checks.ccs_injection import CCSInjectionCheck, CCSInjectionResult
from tlsprobe.checks.cipher_suites import (
    AcceptedCipherSuite,
    CipherSuitesCheck,
    CipherSuitesResult,
    EnumerationMode,
)
from tlsprobe.checks.client_renegotiation import ClientRenegotiationCheck, ClientRenegotiationResult
from tlsprobe.checks.compression import CompressionCheck, CompressionResult
from tlsprobe.checks.extensions import (
    ExtendedMasterSecretCheck,
    ExtendedMasterSecretResult,
    SecureRenegotiationCheck,
    SecureRenegotiationResult,
)
from tlsprobe.checks.fallback_scsv import FallbackSCSVCheck, FallbackSCSVResult
from tlsprobe.checks.groups import GroupsAtVersion, SupportedGroupsCheck, SupportedGroupsResult
from tlsprobe.checks.heartbleed import HeartbleedCheck, HeartbleedResult
from tlsprobe.checks.robot import RobotCheck, RobotResponse, RobotResult, RobotVerdict
from tlsprobe.wire._rsa_kex import PaddingVariant

__all__ = [
    "AcceptedCipherSuite",
    "CCSInjectionCheck",
    "CCSInjectionResult",
    "Check",
    "CipherSuitesCheck",
    "CipherSuitesResult",
    "ClientRenegotiationCheck",
    "ClientRenegotiationResult",
    "CompressionCheck",
    "CompressionResult",
    "DEFAULT_CHECKS",
    "EnumerationMode",
    "ExtendedMasterSecretCheck",
    "ExtendedMasterSecretResult",
    "FallbackSCSVCheck",
    "FallbackSCSVResult",
    "GroupsAtVersion",
    "HeartbleedCheck",
    "HeartbleedResult",
    "PaddingVariant",
    "RobotCheck",
    "RobotResponse",
    "RobotResult",
    "RobotVerdict",
    "SecureRenegotiationCheck",
    "SecureRenegotiationResult",
    "ServerContext",
    "SupportedGroupsCheck",
    "SupportedGroupsResult",
    "check_by_name",
]
