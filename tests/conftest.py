"""Shared fixtures, and the two test layers. The logic lives in ``tests/servers``; this file only wires it into
pytest.

The fast layer (``python -m pytest -m "not slow"``) is every test not marked ``slow``; the full suite runs both.
A test is slow when it starts a server (a listening socket, in a thread or not) or a subprocess, or takes more
than about 0.2 s. It is marked here, at collection, when it is marked ``realserver`` or uses a fixture of
``SERVER_FIXTURES``; otherwise by its module (``pytestmark``) or itself. Any test left unmarked that starts a
server or a subprocess anyway fails, naming what it started, so the fast layer stays fast without anyone timing it.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.servers.postgres import PostgresServer, postgres_server
from tlsprobe.testing import LocalTLSServer, TestPKI, generate_test_pki

SERVER_FIXTURES = frozenset(
    {
        "store_postgres",
        # here and in tests/integrations/conftest.py
        "web_server",
        "tls_server",
        "silent_server",
        # tests/servers/daemons.py
        "postfix_daemon",
        "dovecot_daemon",
        "vsftpd_daemon",
        "prosody_daemon",
        "slapd_daemon",
        "postgres_daemon",
        "xrdp_daemon",
        "tinyproxy_daemon",
        # in test modules
        "clean_tlslite",
        "flawed_tlslite",
        "https_server",
        "legacy",
        "legacy_python_server",
        "modern",
        "modern_server",
        "nassl_legacy_server",
        "nginx_intermediate",
        "nginx_modern",
        "python_servers",
        "python_tls_server",
        "recording_server",
        "requiring_server",
        "scripted_server",
        "tlslite",
    }
)
"""Fixtures that start a server or a subprocess: a test using any of them, even through another fixture, is slow."""


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") is None and (
            item.get_closest_marker("realserver") is not None
            or not SERVER_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
        ):
            item.add_marker(pytest.mark.slow)


@contextlib.contextmanager
def _no_servers(item: pytest.Item) -> Iterator[None]:
    """Fail ``item``, unless it is slow, as soon as it (or a fixture it sets up) listens or starts a process."""
    if item.get_closest_marker("slow") is not None:
        yield
        return

    def refuse(what: str) -> NoReturn:
        pytest.fail(
            f"{item.nodeid} {what}: mark it slow (or its module, or add its fixture to SERVER_FIXTURES in "
            "tests/conftest.py), so that the fast layer stays free of servers",
            pytrace=False,
        )

    def listen(self: socket.socket, *args: Any) -> NoReturn:
        address = self.getsockname()
        self.close()  # its owner never gets it back
        refuse(f"listens on {address}")

    def popen(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> NoReturn:
        refuse(f"starts the process {args!r}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "listen", listen)
        patch.setattr(subprocess.Popen, "__init__", popen)
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with _no_servers(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _no_servers(item):
        return (yield)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """tlsprobe is asyncio-native: run anyio tests on asyncio only."""
    return "asyncio"


@pytest.fixture(scope="session")
def store_postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (tests/servers/postgres.py), for the store's tests and the commands'."""
    with postgres_server() as server:
        yield server


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


@pytest.fixture
def legacy_python_server(test_pki: TestPKI) -> Iterator[LocalTLSServer]:
    """A Python ssl server with every suite its OpenSSL has (``ALL:@SECLEVEL=0``), TLS 1.0 to 1.2, in its own
    order: suites beyond the first bundle of every enumeration."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # ssl.TLSVersion.TLSv1 is deprecated, and wanted here
        minimum = ssl.TLSVersion.TLSv1
    with LocalTLSServer(
        certfile=test_pki.rsa_chain,
        keyfile=test_pki.rsa_key,
        minimum_version=minimum,
        maximum_version=ssl.TLSVersion.TLSv1_2,
        ciphers="ALL:@SECLEVEL=0",
    ) as server:
        yield server
