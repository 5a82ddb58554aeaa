"""Code as a user of tlsprobe would write it; ``test_typing.py`` runs ``mypy --strict`` on it and expects no error.

The lines marked ``type: ignore[...]`` are mistakes the public types must catch: under ``--strict`` an ignore that
is not needed is itself an error, so each one proves that mypy sees a precise type there rather than ``Any``.
"""

from __future__ import annotations

import anyio
from fastapi import FastAPI

import tlsprobe
from tlsprobe import CheckCompleted, CheckFailed, CheckSkipped, ScanConfig, Scanner, ServerScanResult, Timeouts
from tlsprobe.checks import CipherSuitesCheck, CipherSuitesResult
from tlsprobe.integrations.fastapi import ScanServiceLimits, TargetPolicy, create_scan_router


async def accepted_suites(target: str) -> list[str]:
    config = ScanConfig(timeouts=Timeouts(read_s=2.0))
    result = await tlsprobe.scan_server(target, [CipherSuitesCheck(version=tlsprobe.TLSVersion.TLS1_2)], config=config)
    outcome = result.outcome("tls1_2_cipher_suites")
    match outcome:
        case CheckCompleted(result=CipherSuitesResult() as suites):
            return [entry.cipher_suite.name for entry in suites.accepted_cipher_suites]
        case CheckFailed(error=error):
            raise RuntimeError(error.message)
        case CheckSkipped(reason=reason):
            return [reason]
    return []


async def scan_many(targets: list[str]) -> tuple[int, float]:
    scanner = Scanner(ScanConfig())
    seconds = 0.0
    with anyio.move_on_after(30):
        async with scanner.scan(targets) as results:
            async for result in results:
                seconds += result.duration_s
    return scanner.statistics().connections_opened, seconds


def script(target: str) -> str:
    result: ServerScanResult = tlsprobe.scan_server_sync(target, config=ScanConfig())
    return tlsprobe.dumps(result, indent=2)


def web_app() -> FastAPI:
    app = FastAPI()
    router = create_scan_router(
        ScanConfig(),
        policy=TargetPolicy(allowed_networks=["192.0.2.0/24"], allowed_ports=[443]),
        limits=ScanServiceLimits(max_concurrent_scans=2),
    )
    app.include_router(router, prefix="/tls")
    return app


async def mistakes() -> None:
    await tlsprobe.scan_server(443)  # type: ignore[arg-type]
    tlsprobe.scan_server_sync("example.com", checks="heartbleed")  # type: ignore[arg-type]
    Scanner(config=Timeouts())  # type: ignore[arg-type]
    create_scan_router(policy="127.0.0.0/8")  # type: ignore[arg-type]
    ScanServiceLimits(max_concurrent_scans="4")  # type: ignore[arg-type]
    result = await tlsprobe.scan_server("example.com")
    result.duration_s.upper()  # type: ignore[attr-defined]
