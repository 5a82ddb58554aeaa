"""tlsprobe: an asyncio-native TLS/SSL server-configuration scanner."""

from tlsprobe._api import scan_server
from tlsprobe._config import InvalidTargetLine, Limits, ScanConfig, ServerTarget, Timeouts, parse_target_lines
from tlsprobe._exceptions import (
    CheckNotApplicable,
    ClientCertificateRequiredError,
    ConfigurationError,
    ConnectionClosedError,
    ConnectionRejectedError,
    ConnectivityError,
    ConnectTimeoutError,
    DNSResolutionError,
    HandshakeError,
    MalformedServerResponseError,
    ResponseTimeoutError,
    ServerResponseError,
    TLSProbeError,
)
from tlsprobe._json import SCHEMA_VERSION, dumps, scan_document, to_jsonable
from tlsprobe._json_schema import json_schema
from tlsprobe._models import (
    CheckCompleted,
    CheckError,
    CheckFailed,
    CheckOutcome,
    CheckSkipped,
    ClientAuthRequirement,
    ConnectivityCompleted,
    ConnectivityFailed,
    ErrorKind,
    ProbeCost,
    ServerProfile,
    ServerScanResult,
)
from tlsprobe._scanner import Scanner, ScannerStatistics, ScanResults
from tlsprobe._version import __version__
from tlsprobe.checks import DEFAULT_CHECKS
from tlsprobe.wire._versions import TLSVersion

__all__ = [
    "CheckCompleted",
    "CheckError",
    "CheckFailed",
    "CheckNotApplicable",
    "CheckOutcome",
    "CheckSkipped",
    "ClientAuthRequirement",
    "ClientCertificateRequiredError",
    "ConfigurationError",
    "ConnectTimeoutError",
    "ConnectionClosedError",
    "ConnectionRejectedError",
    "ConnectivityCompleted",
    "ConnectivityError",
    "ConnectivityFailed",
    "DEFAULT_CHECKS",
    "DNSResolutionError",
    "ErrorKind",
    "HandshakeError",
    "InvalidTargetLine",
    "Limits",
    "MalformedServerResponseError",
    "ProbeCost",
    "ResponseTimeoutError",
    "SCHEMA_VERSION",
    "ScanConfig",
    "ScanResults",
    "Scanner",
    "ScannerStatistics",
    "ServerProfile",
    "ServerResponseError",
    "ServerScanResult",
    "ServerTarget",
    "TLSProbeError",
    "TLSVersion",
    "Timeouts",
    "__version__",
    "dumps",
    "json_schema",
    "parse_target_lines",
    "scan_document",
    "scan_server",
    "to_jsonable",
]
