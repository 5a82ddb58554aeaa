"""tlsprobe as a web service: a small FastAPI app around ``tlsprobe.integrations.fastapi``.

Run it from the repository root (``pip install 'tlsprobe[fastapi]' uvicorn``)::

    TLSPROBE_ALLOWED_NETWORKS=127.0.0.0/8 uvicorn --factory examples.fastapi_app:create_app

and, in another shell, scan a TLS server on this machine (``openssl s_server -accept 8443 -cert c.pem -key k.pem``)::

    curl -si localhost:8000/tls/scans -H 'content-type: application/json' \\
         -d '{"targets": ["127.0.0.1:8443"], "checks": ["tls1_2_cipher_suites", "tls1_3_cipher_suites"]}'
    curl -N 'localhost:8000/tls/scans/<id>/stream?format=sse'     # or format=ndjson; Ctrl-C cancels the scan
    curl -s localhost:8000/tls/scans/<id>                          # state and results so far

Configuration, all optional, from the environment (comma-separated lists):

- ``TLSPROBE_ALLOWED_NETWORKS``, ``TLSPROBE_DENIED_NETWORKS``, ``TLSPROBE_ALLOWED_HOSTS``, ``TLSPROBE_DENIED_HOSTS``,
  ``TLSPROBE_ALLOWED_PORTS``: the ``TargetPolicy``. Without any, only public addresses are scanned, so the service
  cannot be turned against the network it runs in (``127.0.0.1`` and ``localhost`` are refused with ``403``).
- ``TLSPROBE_MAX_CONCURRENT_SCANS`` (default 4): one scan more is refused with ``429``.
- ``TLSPROBE_MAX_CONNECTIONS_PER_SERVER`` (default 5): how hard each scanned server is pushed.
- ``TLSPROBE_CA_FILE``: a PEM file of the CAs of your own network, trusted besides the public ones, so that its
  servers are not all reported untrusted (and graded F).
- ``TLSPROBE_POLICY``: the policy every scan is judged against unless its request names one: a Mozilla profile
  (``intermediate``) or a policy file in tlsprobe's JSON format. A request may still pick a Mozilla profile
  (``"mozilla": "modern"``); ``GET /tls/policies`` lists what it may choose.

``/docs`` (Swagger UI) and ``/redoc`` work without Internet access: their scripts come from the app itself.

The app's own lifespan (here it only logs) and the router's (which runs the scans, and cancels them when the app
stops) are combined by FastAPI when the router is included. One ``Scanner`` serves every scan, so its limits on
connections and threads hold for the service as a whole; ``GET /statistics`` shows it at work.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from tlsprobe import Limits, ScanConfig, Scanner, to_jsonable
from tlsprobe.integrations.fastapi import ScanServiceLimits, TargetPolicy, create_scan_router, serve_docs_offline
from tlsprobe.policy import MOZILLA_PROFILES, Policy, load_policy, mozilla_profile

logger = logging.getLogger("tlsprobe.example")


def _list(environ: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in environ.get(name, "").split(",") if item.strip()]


def policy_from_environment(environ: Mapping[str, str] = os.environ) -> TargetPolicy:
    """The target policy that the ``TLSPROBE_*`` variables describe; public addresses only by default."""
    return TargetPolicy(
        allowed_networks=_list(environ, "TLSPROBE_ALLOWED_NETWORKS"),
        denied_networks=_list(environ, "TLSPROBE_DENIED_NETWORKS"),
        allowed_hosts=_list(environ, "TLSPROBE_ALLOWED_HOSTS"),
        denied_hosts=_list(environ, "TLSPROBE_DENIED_HOSTS"),
        allowed_ports=[int(port) for port in _list(environ, "TLSPROBE_ALLOWED_PORTS")],
    )


def compliance_policy_from_environment(environ: Mapping[str, str] = os.environ) -> Policy | None:
    """The policy ``TLSPROBE_POLICY`` names: a Mozilla profile's name, or a policy file; None when unset."""
    chosen = environ.get("TLSPROBE_POLICY", "").strip()
    if not chosen:
        return None
    return mozilla_profile(chosen) if chosen in MOZILLA_PROFILES else load_policy(chosen)


def create_app(
    *,
    scanner: Scanner | None = None,
    policy: TargetPolicy | None = None,
    limits: ScanServiceLimits | None = None,
    environ: Mapping[str, str] = os.environ,
) -> FastAPI:
    """The app; every argument left out comes from the environment (see the module docstring)."""
    if scanner is None:
        per_server = int(environ.get("TLSPROBE_MAX_CONNECTIONS_PER_SERVER", "5"))
        scanner = Scanner(ScanConfig(limits=Limits(max_connections_per_server=per_server)))
    if limits is None:
        limits = ScanServiceLimits(max_concurrent_scans=int(environ.get("TLSPROBE_MAX_CONCURRENT_SCANS", "4")))
    policy = policy or policy_from_environment(environ)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        logger.info("scan service starting; target policy: %s", policy)
        yield
        logger.info("scan service stopped; scanner statistics: %s", scanner.statistics())

    app = FastAPI(title="tlsprobe scan service", lifespan=lifespan)
    serve_docs_offline(app)
    router = create_scan_router(
        scanner,
        policy=policy,
        limits=limits,
        ca_file=environ.get("TLSPROBE_CA_FILE") or None,
        compliance_policy=compliance_policy_from_environment(environ),
    )
    # The router's lifespan, merged into the app's here, runs the scans on the shared scanner.
    app.include_router(router, prefix="/tls")

    @app.get("/statistics")
    async def statistics() -> dict[str, Any]:
        """The shared scanner's counters: servers scanned, connections open right now, retries."""
        result: dict[str, Any] = to_jsonable(scanner.statistics())
        return result

    return app
