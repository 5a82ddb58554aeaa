"""TLS scans as a web service: a FastAPI router with a shared scanner, a target policy and streamed results.

Needs the ``fastapi`` extra: ``pip install 'tlsprobe[fastapi]'``. ::

    from fastapi import FastAPI
    from tlsprobe import ScanConfig
    from tlsprobe.integrations.fastapi import TargetPolicy, create_scan_router, serve_docs_offline

    app = FastAPI()
    app.include_router(create_scan_router(ScanConfig(), policy=TargetPolicy()), prefix="/tls")
    serve_docs_offline(app)  # /docs and /redoc with no CDN

``POST /tls/scans`` starts a scan in the background and answers ``202`` with its id; ``GET /tls/scans`` lists the
scans; ``GET /tls/scans/{id}`` reads its state and results; ``GET /tls/scans/{id}/stream?format=ndjson|sse``
streams its results as they arrive, then how it ended, and cancels the scan if the client disconnects first;
``DELETE /tls/scans/{id}`` cancels and forgets it. Results are the CLI's JSON, one object per server, typed in the
OpenAPI document by the CLI's JSON Schema. Targets are vetted by the ``TargetPolicy`` before any connection: by
default only public addresses are scanned, so the service cannot be turned against its own network. The router's
options also set the CAs the service trusts and the policies it judges by (``create_scan_router``).
"""

try:
    import fastapi as _fastapi  # noqa: F401 - only to fail early with a helpful message
except ImportError as error:  # pragma: no cover - exercised in a subprocess without the extra
    raise ImportError(
        "tlsprobe.integrations.fastapi needs FastAPI, which is an optional extra: pip install 'tlsprobe[fastapi]'"
    ) from error

from tlsprobe.integrations._fastapi._docs import serve_docs_offline
from tlsprobe.integrations._fastapi._models import ScanPage, ScanRequest, ScanSummary, ScanView
from tlsprobe.integrations._fastapi._policy import TargetPolicy, non_public_kind
from tlsprobe.integrations._fastapi._router import create_scan_router
from tlsprobe.integrations._fastapi._scans import ScanStatus
from tlsprobe.integrations._fastapi._service import ScanServiceLimits
from tlsprobe.integrations._fastapi._streaming import StreamFormat

__all__ = [
    "ScanPage",
    "ScanRequest",
    "ScanServiceLimits",
    "ScanStatus",
    "ScanSummary",
    "ScanView",
    "StreamFormat",
    "TargetPolicy",
    "create_scan_router",
    "non_public_kind",
    "serve_docs_offline",
]
