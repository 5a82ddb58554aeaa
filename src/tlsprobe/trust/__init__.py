"""Trust: trust stores, path validation, host name matching, certificate facts, OCSP stapling, Certificate
Transparency and EV, all pure (no network).

The ``certificate`` check gathers the server's chain; everything here judges it.
"""

from tlsprobe.trust._ev import EVStatus, ev_status
from tlsprobe.trust._facts import CertificateFacts, ChainFacts, KeyType
from tlsprobe.trust._ocsp import (
    OCSPCertStatus,
    OCSPResponseStatus,
    OCSPStapling,
    StapledOCSP,
    has_must_staple,
    interpret_ocsp_stapling,
    parse_stapled_ocsp,
)
from tlsprobe.trust._sct import (
    SCTCounts,
    SCTSource,
    SignedCertificateTimestamp,
    embedded_scts,
    parse_sct_list,
    sct_counts,
)
from tlsprobe.trust._stores import (
    SYSTEM_BUNDLE_PATHS,
    TrustStore,
    TrustStoreName,
    find_system_store,
    load_ca_file,
    mozilla_store,
    system_store,
)
from tlsprobe.trust._validation import HostnameValidation, PathValidation, match_hostname, validate_chain

__all__ = [
    "CertificateFacts",
    "ChainFacts",
    "EVStatus",
    "HostnameValidation",
    "KeyType",
    "OCSPCertStatus",
    "OCSPResponseStatus",
    "OCSPStapling",
    "PathValidation",
    "SCTCounts",
    "SCTSource",
    "SYSTEM_BUNDLE_PATHS",
    "SignedCertificateTimestamp",
    "StapledOCSP",
    "TrustStore",
    "TrustStoreName",
    "embedded_scts",
    "ev_status",
    "find_system_store",
    "has_must_staple",
    "interpret_ocsp_stapling",
    "load_ca_file",
    "match_hostname",
    "mozilla_store",
    "parse_sct_list",
    "parse_stapled_ocsp",
    "sct_counts",
    "system_store",
    "validate_chain",
]
