"""TLS scans as a web service: a FastAPI router with a shared scanner, a target policy and streamed results.

Needs the ``fastapi`` extra: ``pip install 'tlsprobe[fastapi]'``. ::

    from fastapi import FastAPI
    from tlsprobe import ScanConfig
    from tlsprobe.integrations.fastapi import TargetPolicy, create_scan_router

    app = FastAPI()
    app.include_router(create_scan_router(ScanConfig(), policy=TargetPolicy()), prefix="/tls")

``POST /tls/scans`` starts a scan in the background and answers ``202`` with its id; ``GET /tls/scans/{id}``
reads its state and results; ``GET /tls/scans/{id}/stream?format=ndjson|sse`` streams its results as they arrive,
and cancels the scan if the client disconnects first; ``DELETE /tls/scans/{id}`` cancels and forgets it. Results
are the CLI's JSON, one object per server. Targets are vetted by the ``TargetPolicy`` before any connection: by
default only public addresses are scanned, so the service cannot be turned against its own network.
"""

try:
    import fastapi as _fastapi  # noqa: F401 - only to fail early with a helpful message
except ImportError as error:  # pragma: no cover - exercised in a subprocess without the extra
    raise ImportError(
        "tlsprobe.integrations.fastapi needs FastAPI, which is an optional extra: pip install 'tlsprobe[fastapi]'"
    ) from error

from tlsprobe.integrations._fastapi._policy import TargetPolicy, non_public_kind
from tlsprobe.integrations._fastapi._router import ScanRequest, ScanServiceLimits, ScanView, create_scan_router
from tlsprobe.integrations._fastapi._scans import ScanStatus
from tlsprobe.integrations._fastapi._streaming import StreamFormat

__all__ = [
    "ScanRequest",
    "ScanServiceLimits",
    "ScanStatus",
    "ScanView",
    "StreamFormat",
    "TargetPolicy",
    "create_scan_router",
    "non_public_kind",
]
