"""The IANA catalogues as data: cipher suites (with the SSL 2.0 cipher kinds) and named groups.

See ``_suites`` and ``_groups`` for where the facts come from.
"""

from __future__ import annotations

from tlsprobe.wire._catalogue_types import CipherSuite, GroupKind, KeyExchange, NamedGroup
from tlsprobe.wire._groups import NAMED_GROUPS, groups_for_version, named_group_by_code, named_group_by_name
from tlsprobe.wire._suites import (
    CIPHER_SUITES,
    SSL2_CIPHER_SUITES,
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
    TLS_FALLBACK_SCSV,
    cipher_suite_by_code,
    cipher_suite_by_name,
    suites_for_version,
)
from tlsprobe.wire._versions import TLSVersion

__all__ = [
    "CIPHER_SUITES",
    "CipherSuite",
    "GroupKind",
    "KeyExchange",
    "NAMED_GROUPS",
    "NamedGroup",
    "SSL2_CIPHER_SUITES",
    "TLSVersion",
    "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
    "TLS_FALLBACK_SCSV",
    "cipher_suite_by_code",
    "cipher_suite_by_name",
    "groups_for_version",
    "named_group_by_code",
    "named_group_by_name",
    "suites_for_version",
]
