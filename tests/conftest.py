"""Shared fixtures. The logic lives in ``tests/servers``; this file only wires it into pytest."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tlsprobe.testing import LocalTLSServer, TestPKI, generate_test_pki


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """tlsprobe is asyncio-native: run anyio tests on asyncio only."""
    return "asyncio"


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """One throw-away CA with RSA, ECDSA and client certificates for the whole session."""
    directory: Path = tmp_path_factory.mktemp("pki")
    return generate_test_pki(directory)


@pytest.fixture
def web_server(test_pki: TestPKI) -> Iterator[LocalTLSServer]:
    """A Python ssl server on 127.0.0.1: TLS 1.2 and 1.3, RSA, answering HTTP requests."""
    with LocalTLSServer(
        certfile=test_pki.rsa_chain,
        keyfile=test_pki.rsa_key,
        minimum_version=ssl.TLSVersion.TLSv1_2,
        http_response=True,
    ) as server:
        yield server
