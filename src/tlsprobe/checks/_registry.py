"""The checks tlsprobe knows. Registering a check is one line in ``DEFAULT_CHECKS``."""

from __future__ import annotations

from typing import Any

from tlsprobe.checks._base import Check
from tlsprobe.checks.alpn import ALPNCheck
from tlsprobe.checks.ccs_injection import CCSInjectionCheck
from tlsprobe.checks.certificate import CertificateCheck
from tlsprobe.checks.cipher_suites import CipherSuitesCheck
from tlsprobe.checks.client_renegotiation import ClientRenegotiationCheck
from tlsprobe.checks.compression import CompressionCheck
from tlsprobe.checks.early_data import EarlyDataCheck
from tlsprobe.checks.extensions import ExtendedMasterSecretCheck, SecureRenegotiationCheck
from tlsprobe.checks.fallback_scsv import FallbackSCSVCheck
from tlsprobe.checks.groups import SupportedGroupsCheck
from tlsprobe.checks.heartbleed import HeartbleedCheck
from tlsprobe.checks.http_headers import HTTPHeadersCheck
from tlsprobe.checks.robot import RobotCheck
from tlsprobe.checks.session_resumption import SessionResumptionCheck
from tlsprobe.checks.signature_algorithms import SignatureAlgorithmsCheck
from tlsprobe.wire._versions import TLSVersion

DEFAULT_CHECKS: tuple[Check[Any], ...] = (
    *(CipherSuitesCheck(version=version) for version in TLSVersion),
    CertificateCheck(),
    CompressionCheck(),
    SecureRenegotiationCheck(),
    ClientRenegotiationCheck(),
    ExtendedMasterSecretCheck(),
    FallbackSCSVCheck(),
    SupportedGroupsCheck(),
    SignatureAlgorithmsCheck(),
    HeartbleedCheck(),
    CCSInjectionCheck(),
    RobotCheck(),
    SessionResumptionCheck(),
    EarlyDataCheck(),
    ALPNCheck(),
    HTTPHeadersCheck(),
)
"""Every check, each with its default options, in report order."""


def check_by_name(name: str) -> Check[Any]:
    """The default check called ``name``; ``KeyError`` when there is none."""
    for check in DEFAULT_CHECKS:
        if check.name == name:
            return check
    raise KeyError(name)
