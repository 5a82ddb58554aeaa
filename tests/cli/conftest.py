"""Servers the command-line tests scan: real TLS servers on loopback, each showing one thing a report must say."""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.servers.hostile import SilentServer
from tests.trust import issue, write_server_files
from tlsprobe.testing import LocalTLSServer, TestPKI

HOSTILE_NAME = "\x1b]0;owned\x07\x1b[2J\x1b[32mTRUSTED\x1b[0m\rgood.example\u202eDETSURT"
"""A certificate subject that, printed raw, sets the window title, clears the screen, prints a green TRUSTED,
returns the cursor to overwrite the line and reverses what follows."""


@pytest.fixture
def modern(test_pki: TestPKI) -> Iterator[LocalTLSServer]:
    """TLS 1.2 and 1.3, RSA, HSTS: an A+ once its CA is trusted (``--ca-file``)."""
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, minimum_version=ssl.TLSVersion.TLSv1_2
    ) as server:
        yield server


@pytest.fixture
def legacy(test_pki: TestPKI) -> Iterator[LocalTLSServer]:
    """TLS 1.0 to 1.2 with every suite the system OpenSSL has, anonymous ones included."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        minimum, maximum = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2
    with LocalTLSServer(
        certfile=test_pki.rsa_chain,
        keyfile=test_pki.rsa_key,
        minimum_version=minimum,
        maximum_version=maximum,
        ciphers="ALL:@SECLEVEL=0",
    ) as server:
        yield server


@pytest.fixture
def static_rsa(test_pki: TestPKI) -> Iterator[LocalTLSServer]:
    """TLS 1.2 only and one suite, RSA key exchange: no forward secrecy."""
    with LocalTLSServer(
        certfile=test_pki.rsa_chain,
        keyfile=test_pki.rsa_key,
        minimum_version=ssl.TLSVersion.TLSv1_2,
        maximum_version=ssl.TLSVersion.TLSv1_2,
        ciphers="AES128-GCM-SHA256",
    ) as server:
        yield server


@pytest.fixture
def hostile_certificate(tmp_path: Path) -> Iterator[LocalTLSServer]:
    """A server whose certificate (and its issuer) is named with terminal control sequences."""
    ca = issue(HOSTILE_NAME + " CA", key=ec.generate_private_key(ec.SECP256R1()), ca=True)
    leaf = issue(HOSTILE_NAME, key=ec.generate_private_key(ec.SECP256R1()), issuer=ca, sans=["127.0.0.1"])
    certfile, keyfile = write_server_files(tmp_path, "hostile", leaf, ca.cert)
    with LocalTLSServer(certfile=certfile, keyfile=keyfile, minimum_version=ssl.TLSVersion.TLSv1_2) as server:
        yield server


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    """Accepts connections and never answers: its scan lasts until its timeouts, or until it is interrupted."""
    with SilentServer() as server:
        yield server
