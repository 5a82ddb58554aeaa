"""The checks tlsprobe knows, in report order: ``DEFAULT_CHECKS`` is the registry.

A check's line in ``DEFAULT_CHECKS`` gives it its command-line flag (``--<name>``), its place in the JSON Schema
(from its ``result_type``) and its place in every default scan. Presentation and the public API cannot follow from
that line, so a new check needs three more things; ``tests/test_registration.py`` fails when one is missing:

- a renderer for its ``result_type`` in ``RENDERERS`` (``_cli/_render.py``):
  ``test_every_registered_check_has_a_renderer``;
- its check class and result class exported from ``tlsprobe.checks``, with every type its result holds exported
  from ``tlsprobe.checks`` or its own package: ``test_every_registered_check_and_its_result_are_exported`` and
  ``test_every_type_a_result_holds_is_exported``;
- the shipped schema regenerated (``tlsprobe --json-schema > src/tlsprobe/scan-document.schema.json``):
  ``test_the_schema_covers_every_registered_result``.

A check class written in ``tlsprobe.checks`` but left out of ``DEFAULT_CHECKS`` fails
``test_every_check_class_is_registered``.
"""

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
