"""Headless Chromium (Debian's ``chromium``) for the report's tests and benchmark: load a page from disk and give
the DOM after its scripts ran, or a screenshot. Each run has a profile of its own in a temporary folder and no
background networking; as root, Chromium's sandbox has to be off."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

import pytest

CHROMIUM_TIMEOUT_S: Final = 120
"""How long one run may take before the test fails (a hang, not a slow machine)."""


def chromium() -> str:
    """The chromium binary; the test is skipped, saying why, when there is none."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("no chromium binary on PATH (Debian: apt-get install chromium)")
    return binary


def _run(binary: str, *arguments: str) -> str:
    with tempfile.TemporaryDirectory(prefix="tlsprobe-chromium-") as profile:
        command = [
            binary,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            *(["--no-sandbox"] if os.geteuid() == 0 else []),
            *arguments,
        ]
        finished = subprocess.run(
            command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False, stdin=subprocess.DEVNULL
        )
    assert finished.returncode == 0, finished.stderr[-2000:]
    return finished.stdout


def rendered_dom(page: Path, query: str = "", *, budget_ms: int = 5000) -> str:
    """The page's DOM, serialized, once it loaded and its scripts ran (``query``: a ``?...`` for the URL)."""
    return _run(chromium(), f"--virtual-time-budget={budget_ms}", "--dump-dom", page.resolve().as_uri() + query)


def screenshot(page: Path, image: Path, *, width: int, height: int, query: str = "") -> None:
    """A PNG of the top ``width`` x ``height`` pixels of the page."""
    _run(
        chromium(),
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--screenshot={image}",
        page.resolve().as_uri() + query,
    )
    assert image.stat().st_size > 0
