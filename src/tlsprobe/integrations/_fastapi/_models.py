"""What the routes take and give, as pydantic models: their validation, and their part of the OpenAPI document.

A scan's ``results`` are typed per router (``scan_view_model``): each is one server of the CLI's JSON, described
by the CLI's JSON Schema restricted to the result types of the checks the router offers (``_schema``).
"""

# No ``from __future__ import annotations``: pydantic reads these annotations at run time, and the per-router model
# names a type made at run time.
import datetime
import functools
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from tlsprobe.integrations._fastapi._scans import Scan, ScanStatus
from tlsprobe.integrations._fastapi._schema import server_result_type

_MAX_TARGET_LENGTH: Final = 300

TargetText = Annotated[str, StringConstraints(min_length=1, max_length=_MAX_TARGET_LENGTH)]
CheckName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
PolicyName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MozillaProfile = Literal["modern", "intermediate", "old"]
"""``tlsprobe.policy.MOZILLA_PROFILES`` as a type (a test checks they agree)."""


class ScanRequest(BaseModel):
    """A scan to start."""

    model_config = ConfigDict(extra="forbid")

    targets: list[TargetText] = Field(
        min_length=1,
        description="Servers to scan: host, host:port or [IPv6]:port, optionally pinned to an address (host:port{ip}).",
        examples=[["example.com", "example.org:8443"]],
    )
    checks: list[CheckName] | None = Field(
        default=None,
        description="Names of the checks to run (see GET /checks); all of them when omitted.",
        examples=[["tls1_2_cipher_suites", "tls1_3_cipher_suites"]],
    )
    mozilla: MozillaProfile | None = Field(
        default=None,
        description="Judge every server against this Mozilla profile (each result's `compliance`). At most one of "
        "`mozilla` and `policy`; without either, the service's own policy, if it has one (see GET /policies).",
        examples=["intermediate"],
    )
    policy: PolicyName | None = Field(
        default=None,
        description="Judge every server against this policy of the service's, by name (see GET /policies).",
    )


class ScanView(BaseModel):
    """A scan's state and the results it has produced so far."""

    id: str = Field(
        description="The scan's id: unguessable, so where the service does not list its scans (GET /scans), "
        "knowing it is what grants access to the scan."
    )
    status: ScanStatus = Field(description="running, completed, cancelled or failed.")
    reason: str | None = Field(description="Why the scan was cancelled or failed.")
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    targets: list[str] = Field(description="The targets, each pinned to the address that was checked and scanned.")
    checks: list[str]
    policy: str | None = Field(description="The name of the policy each result's `compliance` judges by, if any.")
    servers_done: int = Field(description="Servers whose result is in `results`.")
    results: list[dict[str, Any]] = Field(description="One object per server, as the CLI's JSON, in arrival order.")


@functools.cache
def scan_view_model(result_types: tuple[type, ...]) -> type[ScanView]:
    """``ScanView`` with ``results`` typed by the CLI's JSON Schema for checks of these result types."""
    server = server_result_type(result_types)
    results = (list[server], ScanView.model_fields["results"])  # type: ignore[valid-type] # a type made at run time
    view: type[ScanView] = create_model("ScanView", __base__=ScanView, __module__=__name__, results=results)
    return view


def scan_view(model: type[ScanView], scan: Scan) -> ScanView:
    return model(
        id=scan.id,
        status=scan.status,
        reason=scan.reason,
        created_at=scan.created_at,
        finished_at=scan.finished_at,
        targets=[str(target) for target in scan.targets],
        checks=[check.name for check in scan.checks],
        policy=None if scan.policy is None else scan.policy.name,
        servers_done=len(scan.results),
        results=list(scan.results),
    )


class ScanSummary(BaseModel):
    """A scan in a listing: its state and counts, without its results."""

    id: str
    status: ScanStatus
    reason: str | None
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    policy: str | None
    target_count: int = Field(description="How many targets the scan was given.")
    servers_done: int = Field(description="How many of them have a result so far.")


def scan_summary(scan: Scan) -> ScanSummary:
    return ScanSummary(
        id=scan.id,
        status=scan.status,
        reason=scan.reason,
        created_at=scan.created_at,
        finished_at=scan.finished_at,
        policy=None if scan.policy is None else scan.policy.name,
        target_count=len(scan.targets),
        servers_done=len(scan.results),
    )


class ScanPage(BaseModel):
    """One page of the service's scans, newest first."""

    scans: list[ScanSummary]
    total: int = Field(description="How many scans match, across all pages.")
    offset: int
    limit: int


class PoliciesOnOffer(BaseModel):
    """The policies a scan request may name."""

    default: str | None = Field(description="The policy a scan is judged against when its request names none.")
    mozilla: list[MozillaProfile] = Field(description="The Mozilla profiles, for a request's `mozilla`.")
    named: dict[str, str] = Field(
        description="The service's own policies, for a request's `policy`: the name to give, and the policy's own."
    )


class ErrorMessage(BaseModel):
    """An error that a sentence explains."""

    detail: str


class Problem(BaseModel):
    """One problem of a request, in the shape of FastAPI's own validation errors."""

    type: str = Field(description="What kind of problem: target_refused, unknown_check, unknown_policy...")
    loc: list[str | int] = Field(description="Where in the request: ['body', 'targets', 0].")
    msg: str
    input: Any


class ProblemList(BaseModel):
    """Every problem of a request, at once."""

    detail: list[Problem]
