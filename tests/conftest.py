"""Shared fixtures. The logic lives in ``tests/servers``; this file only wires it into pytest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlsprobe.testing import TestPKI, generate_test_pki


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """tlsprobe is asyncio-native: run anyio tests on asyncio only."""
    return "asyncio"


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """One throw-away CA with RSA, ECDSA and client certificates for the whole session."""
    directory: Path = tmp_path_factory.mktemp("pki")
    return generate_test_pki(directory)
