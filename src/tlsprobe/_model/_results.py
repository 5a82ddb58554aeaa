"""Scan results: frozen records that are also the JSON document (same field names, same types)."""

from __future__ import annotations

import datetime
import enum
from typing import Any, Generic, Literal, TypeVar

import attrs

from tlsprobe._model._assessment import Compliance, Finding, Grade
from tlsprobe._model._config import ServerTarget, StartTLS
from tlsprobe._model._simulation import SimulatedHandshake
from tlsprobe.wire._catalogue_types import CipherSuite
from tlsprobe.wire._dh_groups import ObservedDHGroup
from tlsprobe.wire._versions import TLSVersion

ResultT = TypeVar("ResultT")


class ErrorKind(enum.Enum):
    """Why something could not be observed."""

    INVALID_TARGET = "invalid_target"
    """The target could not be used as given."""
    DNS = "dns"
    """The host name did not resolve."""
    CONNECTION_REJECTED = "connection_rejected"
    """TCP connection refused, reset or unreachable."""
    TIMEOUT = "timeout"
    """A connect or read took longer than its timeout."""
    CONNECTION_CLOSED = "connection_closed"
    """The server closed the connection mid-exchange."""
    MALFORMED_RESPONSE = "malformed_response"
    """The server's bytes were not valid TLS."""
    HANDSHAKE_FAILED = "handshake_failed"
    """The server refused every handshake offered."""
    CLIENT_CERTIFICATE_REQUIRED = "client_certificate_required"
    """The server requires a client certificate and none was configured."""
    INTERNAL = "internal"
    """A bug in tlsprobe; the traceback is kept."""


@attrs.frozen(kw_only=True)
class CheckError:
    """What went wrong, as data."""

    kind: ErrorKind
    """The category of the failure."""
    message: str
    """A sentence for people."""
    exception: str
    """The qualified name of the exception that was raised."""
    traceback: str | None = None
    """Only for ``INTERNAL`` errors: where tlsprobe failed."""


@attrs.frozen(kw_only=True)
class ProbeCost:
    """What a step cost the server."""

    connections: int
    """TCP connections opened."""
    retries: int
    """Probes repeated after a reset, refusal or timeout."""
    duration_s: float
    """Wall time of the step."""


class ClientAuthRequirement(enum.Enum):
    """Whether the server asks for a client certificate."""

    NOT_REQUESTED = "not_requested"
    OPTIONAL = "optional"
    """Requested, but the handshake completes without one."""
    REQUIRED = "required"
    UNKNOWN = "unknown"
    """Could not be determined (the reason is in ``client_auth_note``)."""


@attrs.frozen(kw_only=True)
class ServerProfile:
    """What the connectivity phase learned; every check starts from it."""

    ip_address: str
    """The address connected to (through a proxy: the host name the proxy was asked for, unless pinned)."""
    port: int
    """The TCP port."""
    server_name: str | None
    """The SNI name sent, or None when none is sent (IP-literal targets, ``send_sni`` False)."""
    highest_version: TLSVersion
    """The highest protocol version the server accepted."""
    cipher_suite: CipherSuite
    """A suite the server accepted at ``highest_version``."""
    client_auth: ClientAuthRequirement
    """Whether the server requests or requires a client certificate."""
    client_auth_note: str | None = None
    """Why ``client_auth`` is unknown, when it is."""
    client_certificate: str | None = None
    """The subject of the client certificate tlsprobe presents when asked (``ScanConfig.client_credentials``);
    None when it has none."""
    client_certificate_accepted: bool | None = None
    """Whether a handshake presenting that certificate went through; None when it was not tried (no
    certificate given, or none requested)."""
    starttls: StartTLS = StartTLS.NONE
    """How each connection became TLS (``AUTO`` resolved from the port)."""
    via_proxy: str | None = None
    """The HTTP CONNECT proxy every connection went through (its URL without password), if any."""


@attrs.frozen(kw_only=True)
class ConnectivityCompleted:
    """The server was reached and speaks TLS or SSL."""

    status: Literal["completed"] = "completed"
    profile: ServerProfile
    """What was learned."""
    cost: ProbeCost
    """Connections the phase opened, with the half-closed hello sent alongside the first checks (its duration
    ends when the checks start)."""


@attrs.frozen(kw_only=True)
class ConnectivityFailed:
    """The server could not be scanned at all; no check ran."""

    status: Literal["failed"] = "failed"
    error: CheckError
    """Why."""
    cost: ProbeCost
    """Connections the phase opened."""


@attrs.frozen(kw_only=True)
class CheckCompleted(Generic[ResultT]):
    """A check ran to completion."""

    name: str
    """The check's name (its JSON key and CLI flag)."""
    status: Literal["completed"] = "completed"
    result: ResultT
    """The check's own result record."""
    cost: ProbeCost
    """What the check cost the server."""


@attrs.frozen(kw_only=True)
class CheckFailed:
    """A check could not complete; its observations are not trustworthy and are not reported."""

    name: str
    """The check's name."""
    status: Literal["failed"] = "failed"
    error: CheckError
    """Why it failed."""
    cost: ProbeCost
    """What the check cost the server before it failed."""


@attrs.frozen(kw_only=True)
class CheckSkipped:
    """A check that does not apply to this server."""

    name: str
    """The check's name."""
    status: Literal["skipped"] = "skipped"
    reason: str
    """Why it does not apply."""
    cost: ProbeCost
    """What finding that out cost the server (often nothing: most checks know from the connectivity phase)."""


CheckOutcome = CheckCompleted[Any] | CheckFailed | CheckSkipped


@attrs.frozen(kw_only=True)
class ServerScanResult:
    """Everything learned about one server."""

    target: ServerTarget
    """The server as requested."""
    connectivity: ConnectivityCompleted | ConnectivityFailed
    """The connectivity phase's outcome."""
    checks: tuple[CheckOutcome, ...]
    """One outcome per check requested, in the order requested (empty when connectivity failed)."""
    started_at: datetime.datetime
    """When this server's scan started (UTC)."""
    duration_s: float
    """Wall time of this server's scan."""
    findings: tuple[Finding, ...] = ()
    """What is wrong with the server in plain words, with the evidence, most severe first."""
    grade: Grade | None = None
    """A letter grade with the reason for every cap (None only before the scanner assessed the result)."""
    compliance: Compliance | None = None
    """The verdict against the scan's policy (None when the scan has no policy)."""
    dh_groups: tuple[ObservedDHGroup, ...] = ()
    """Every finite-field Diffie-Hellman group the server used, judged beyond its size (prime, safe prime, what the
    generator generates, known or widely shared), from the answers the checks already had (empty before the scanner
    assessed the result)."""
    client_simulation: tuple[SimulatedHandshake, ...] = ()
    """What each client of the client table would negotiate, computed from the checks' results without connecting
    (empty before the scanner assessed the result, or when connectivity failed)."""

    @property
    def connections(self) -> int:
        """Connections opened to the server by the whole scan."""
        return self.connectivity.cost.connections + sum(outcome.cost.connections for outcome in self.checks)

    def outcome(self, name: str) -> CheckOutcome:
        """The outcome of the check named ``name``; ``KeyError`` when it was not requested."""
        for outcome in self.checks:
            if outcome.name == name:
                return outcome
        raise KeyError(name)
