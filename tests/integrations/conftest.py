"""Fixtures of the integration tests: a local TLS server and a silent one."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest

from tests.integrations.helpers import SilentServer
from tlsprobe.testing import LocalTLSServer, TestPKI


@pytest.fixture(scope="module")
def tls_server(test_pki: TestPKI) -> Iterator[LocalTLSServer]:
    """A modern TLS server on 127.0.0.1: a scan of its TLS 1.2 suites takes a few connections and well under 1 s."""
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, minimum_version=ssl.TLSVersion.TLSv1_2
    ) as server:
        yield server


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    """A TCP server that never answers: scans of it run until they are cancelled (or time out)."""
    with SilentServer() as server:
        yield server
