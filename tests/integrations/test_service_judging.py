"""How a service judges what it scans: its own trust anchors, its policy, and the policy a request picks.

A real uvicorn serves the router; the servers scanned are Python ssl servers on loopback whose certificates come
from the session's throw-away CA, which no public trust store knows: the private CA of an internal network.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from fastapi import FastAPI

from tests.integrations.helpers import LOOPBACK_ONLY, finished_scan, start_scan, uvicorn_serving
from tlsprobe import ConfigurationError, ScanConfig
from tlsprobe.integrations.fastapi import create_scan_router
from tlsprobe.policy import mozilla_profile
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = pytest.mark.realserver

INTERNAL = attrs.evolve(mozilla_profile("modern"), name="internal-baseline", description="the house rules")
"""A policy a service offers by name."""

VERSIONS = [f"{version}_cipher_suites" for version in ("ssl2", "ssl3", "tls1_0", "tls1_1", "tls1_2", "tls1_3")]
"""What the protocol_versions rule needs, so that a verdict can be told from another."""


@contextmanager
def serving(config: ScanConfig | None = None, **options: Any) -> Iterator[httpx.Client]:
    """The router under /tls, with ``options``, behind a real uvicorn; a client talking to it."""
    app = FastAPI()
    app.include_router(create_scan_router(config or ScanConfig(), policy=LOOPBACK_ONLY, **options), prefix="/tls")
    with uvicorn_serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def finding_ids(server: Mapping[str, Any]) -> list[str]:
    return [finding["id"] for finding in server["findings"]]


def test_a_service_trusting_its_private_ca_does_not_call_its_servers_untrusted(
    tls_server: LocalTLSServer, test_pki: TestPKI
) -> None:
    target = f"localhost:{tls_server.port}"
    with serving() as client:
        [public_only] = finished_scan(client, start_scan(client, [target], ["certificate"])["id"])["results"]
    with serving(ca_file=test_pki.ca_cert) as client:
        [with_ca] = finished_scan(client, start_scan(client, [target], ["certificate"])["id"])["results"]

    assert "certificate_untrusted" in finding_ids(public_only)  # what caps every internal server at F
    assert "certificate_untrusted" not in finding_ids(with_ca)
    [deployment] = with_ca["checks"][0]["result"]["deployments"]
    trust = {verdict["store"]: verdict["trusted"] for verdict in deployment["trust"]}
    assert trust["ca_file"] is True
    assert trust["mozilla"] is False


def test_a_ca_file_that_cannot_be_read_stops_the_router_being_made(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"missing\.pem"):
        create_scan_router(ScanConfig(), ca_file=tmp_path / "missing.pem")


def compliance_of(client: httpx.Client, target: str, **fields: Any) -> tuple[str | None, str | None]:
    """The policy a scan names, and the one its (single) result was judged against."""
    scan = finished_scan(client, start_scan(client, [target], VERSIONS, **fields)["id"])
    [server] = scan["results"]
    judged = server["compliance"]
    return scan["policy"], None if judged is None else judged["policy"]


def test_the_service_policy_judges_every_scan_unless_the_request_picks_another(tls_server: LocalTLSServer) -> None:
    target = f"127.0.0.1:{tls_server.port}"
    with serving() as client:
        assert compliance_of(client, target) == (None, None)
    with serving(compliance_policy=mozilla_profile("old"), named_policies={"internal": INTERNAL}) as client:
        assert compliance_of(client, target) == ("mozilla-old", "mozilla-old")
        assert compliance_of(client, target, mozilla="intermediate") == (
            "mozilla-intermediate",
            "mozilla-intermediate",
        )
        assert compliance_of(client, target, policy="internal") == ("internal-baseline", "internal-baseline")
        # The verdict is the chosen policy's: the server offers TLS 1.2, which "modern" (and so INTERNAL) forbids.
        scan = finished_scan(client, start_scan(client, [target], VERSIONS, policy="internal")["id"])
        [server] = scan["results"]
        assert server["compliance"]["verdict"] == "fail"
        deviations = {deviation["rule"]: deviation["found"] for deviation in server["compliance"]["deviations"]}
        assert deviations["protocol_versions"] == ["TLS 1.2 accepted"], server["compliance"]


@pytest.mark.parametrize(
    ("fields", "loc", "message"),
    [
        ({"policy": "nope"}, ["body", "policy"], "unknown policy 'nope'; this service offers: internal"),
        ({"mozilla": "newest"}, ["body", "mozilla"], "'modern', 'intermediate' or 'old'"),
        ({"mozilla": "old", "policy": "internal"}, ["body"], "choose either mozilla or policy, not both"),
    ],
)
def test_an_unknown_or_ambiguous_policy_is_a_422(fields: dict[str, Any], loc: list[str], message: str) -> None:
    with serving(named_policies={"internal": INTERNAL}) as client:
        response = client.post("/tls/scans", json={"targets": ["127.0.0.1:443"], "checks": VERSIONS, **fields})
    assert response.status_code == 422
    details = response.json()["detail"]
    assert any(detail["loc"] == loc and message in detail["msg"] for detail in details), details


def test_a_service_without_named_policies_says_so() -> None:
    with serving() as client:
        response = client.post("/tls/scans", json={"targets": ["127.0.0.1:443"], "policy": "internal"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "unknown policy 'internal'; this service offers no named policies"


def test_the_policies_on_offer_are_listed() -> None:
    with serving(compliance_policy=INTERNAL, named_policies={"internal": INTERNAL, "old": mozilla_profile("old")}) as (
        client
    ):
        listed = client.get("/tls/policies").json()
    assert listed == {
        "default": "internal-baseline",
        "mozilla": ["modern", "intermediate", "old"],
        "named": {"internal": "internal-baseline", "old": "mozilla-old"},
    }


def test_without_a_service_policy_the_scanners_own_judges(tls_server: LocalTLSServer) -> None:
    with serving(ScanConfig(policy=mozilla_profile("modern"))) as client:
        assert client.get("/tls/policies").json()["default"] == "mozilla-modern"
        assert compliance_of(client, f"127.0.0.1:{tls_server.port}") == ("mozilla-modern", "mozilla-modern")
        assert compliance_of(client, f"127.0.0.1:{tls_server.port}", mozilla="old") == ("mozilla-old", "mozilla-old")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"named_policies": {"": INTERNAL}}, "a named policy needs a name"),
        ({"named_policies": {"internal": "modern"}}, "named_policies['internal'] is not a Policy"),
        ({"compliance_policy": "modern"}, "compliance_policy must be a Policy"),
    ],
)
def test_a_mistaken_judging_option_is_refused_when_the_router_is_made(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        create_scan_router(ScanConfig(), **options)
