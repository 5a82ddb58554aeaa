"""Module-level conveniences over a default ``Scanner``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tlsprobe._config import ScanConfig, ServerTarget
from tlsprobe._models import ServerScanResult
from tlsprobe._scanner import Scanner
from tlsprobe.checks._base import Check
from tlsprobe.checks._registry import DEFAULT_CHECKS


async def scan_server(
    target: ServerTarget | str,
    checks: Sequence[Check[Any]] = DEFAULT_CHECKS,
    *,
    config: ScanConfig | None = None,
) -> ServerScanResult:
    """Scan one server with a scanner of its own: ``await tlsprobe.scan_server("example.com:443")``."""
    return await Scanner(config).scan_server(target, checks)
