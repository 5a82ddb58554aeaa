"""Checks: one module per check, each a frozen ``<Thing>Check`` whose ``run`` gathers through a ServerContext."""

from tlsprobe._probing._context import ServerContext
from tlsprobe.checks._base import Check
from tlsprobe.checks._registry import DEFAULT_CHECKS, check_by_name
from tlsprobe.checks.alpn import ALPNCheck, ALPNResult
from tlsprobe.checks.ccs_injection import CCSInjectionCheck, CCSInjectionResult
from tlsprobe.checks.certificate import (
    CertificateCheck,
    CertificateDeployment,
    CertificateResult,
    CertificateRetrieval,
    OfferedKeyType,
    TrustStoreVerdict,
    WithoutSNI,
)
from tlsprobe.checks.cipher_suites import AcceptedCipherSuite, CipherSuitesCheck, CipherSuitesResult, EnumerationMode
from tlsprobe.checks.client_renegotiation import ClientRenegotiationCheck, ClientRenegotiationResult
from tlsprobe.checks.compression import CompressionCheck, CompressionResult
from tlsprobe.checks.early_data import EarlyDataCheck, EarlyDataResult
from tlsprobe.checks.extensions import (
    ExtendedMasterSecretCheck,
    ExtendedMasterSecretResult,
    SecureRenegotiationCheck,
    SecureRenegotiationResult,
)
from tlsprobe.checks.fallback_scsv import FallbackSCSVCheck, FallbackSCSVResult
from tlsprobe.checks.groups import GroupsAtVersion, SupportedGroupsCheck, SupportedGroupsResult
from tlsprobe.checks.heartbleed import HeartbleedCheck, HeartbleedResult
from tlsprobe.checks.http_headers import HTTPHeadersCheck, HTTPHeadersResult, RedirectEnd, RedirectHop
from tlsprobe.checks.robot import RobotCheck, RobotResponse, RobotResult, RobotVerdict
from tlsprobe.checks.session_resumption import (
    ResumptionAttempts,
    ResumptionSupport,
    SessionResumptionCheck,
    SessionResumptionResult,
)
from tlsprobe.checks.signature_algorithms import (
    SignatureAlgorithmsAtVersion,
    SignatureAlgorithmsCheck,
    SignatureAlgorithmsResult,
)
from tlsprobe.wire._http import StrictTransportSecurity
from tlsprobe.wire._rsa_kex import PaddingVariant

__all__ = [
    "ALPNCheck",
    "ALPNResult",
    "AcceptedCipherSuite",
    "CCSInjectionCheck",
    "CCSInjectionResult",
    "CertificateCheck",
    "CertificateDeployment",
    "CertificateResult",
    "CertificateRetrieval",
    "Check",
    "CipherSuitesCheck",
    "CipherSuitesResult",
    "ClientRenegotiationCheck",
    "ClientRenegotiationResult",
    "CompressionCheck",
    "CompressionResult",
    "DEFAULT_CHECKS",
    "EarlyDataCheck",
    "EarlyDataResult",
    "EnumerationMode",
    "ExtendedMasterSecretCheck",
    "ExtendedMasterSecretResult",
    "FallbackSCSVCheck",
    "FallbackSCSVResult",
    "GroupsAtVersion",
    "HTTPHeadersCheck",
    "HTTPHeadersResult",
    "HeartbleedCheck",
    "HeartbleedResult",
    "OfferedKeyType",
    "PaddingVariant",
    "RedirectEnd",
    "RedirectHop",
    "ResumptionAttempts",
    "ResumptionSupport",
    "RobotCheck",
    "RobotResponse",
    "RobotResult",
    "RobotVerdict",
    "SecureRenegotiationCheck",
    "SecureRenegotiationResult",
    "ServerContext",
    "SessionResumptionCheck",
    "SessionResumptionResult",
    "SignatureAlgorithmsAtVersion",
    "SignatureAlgorithmsCheck",
    "SignatureAlgorithmsResult",
    "StrictTransportSecurity",
    "SupportedGroupsCheck",
    "SupportedGroupsResult",
    "TrustStoreVerdict",
    "WithoutSNI",
    "check_by_name",
]
