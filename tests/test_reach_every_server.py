"""Servers whose suites all lie outside the first hello's are reached, scanned and listed; normal ones pay nothing.

Debian's ``openssl s_server`` (OpenSSL 3) plays each: NULL and anonymous suites only, anonymous only without a
certificate, PSK only, CCM_8 only, ARIA and Camellia only. What each one accepts at each version is read from
OpenSSL itself (``openssl ciphers -s`` for the same cipher string and version), keeping the suites the server can
use with the key it was given (an RSA certificate, none, a pre-shared key), so nothing is hard-coded. GnuTLS's
``gnutls-serv`` with PSK and anonymous suites only is an independent implementation of the same (its suites read
from ``gnutls-cli -l``). Not played here: GOST and export-only servers (Debian's OpenSSL 3 has neither; the
OpenSSL 1.0.2 of nassl's wheel refuses its export suites without a temporary RSA key), Kerberos and SRP.
"""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from tests.scanning import accepted_names, cipher_checks
from tests.servers.processes import OPENSSL, start_gnutls_serv, start_openssl_s_server
from tlsprobe import (
    CheckFailed,
    CheckSkipped,
    ConnectivityCompleted,
    ErrorKind,
    ServerScanResult,
    TLSVersion,
    scan_server,
)
from tlsprobe._probing._hello_specs import MAX_HELLO_SUITES, common_suite_codes, remaining_suite_bundles
from tlsprobe.testing import CountingProxy, LocalTLSServer, TestPKI
from tlsprobe.wire.catalogue import cipher_suite_by_code, suites_for_version

pytestmark = [pytest.mark.realserver, pytest.mark.anyio]

_PSK_KEY = "0123456789abcdef0123456789abcdef"
_OPENSSL_VERSION_FLAGS = {TLSVersion.TLS1_0: "-tls1", TLSVersion.TLS1_1: "-tls1_1", TLSVersion.TLS1_2: "-tls1_2"}
_PSK_KEY_EXCHANGES = frozenset({"PSK", "DHEPSK", "ECDHEPSK", "RSAPSK"})

Usable = Callable[[str, str], bool]
"""Whether a suite (its ``Kx=`` and ``Au=`` of ``openssl ciphers -v``) works with the server's key."""


def _rsa_certificate(kx: str, au: str) -> bool:
    return au in ("RSA", "None") and kx not in _PSK_KEY_EXCHANGES


def _anonymous(kx: str, au: str) -> bool:
    return au == "None" and kx not in _PSK_KEY_EXCHANGES


def _pre_shared_key(kx: str, au: str) -> bool:
    return kx in ("PSK", "DHEPSK", "ECDHEPSK")  # RSA_PSK wants a certificate too


@attrs.frozen
class Exotic:
    """A server configuration and the suites it can use."""

    name: str
    args: tuple[str, ...]
    cipher_string: str
    usable: Usable


_EXOTIC = (
    Exotic("null-and-anon", ("-no_tls1_3",), "eNULL:aNULL:@SECLEVEL=0", _rsa_certificate),
    # Without a certificate TLS 1.3 fails too: every hello of the connectivity phase but the anonymous ones.
    Exotic("anon-without-certificate", ("-nocert",), "aNULL:@SECLEVEL=0", _anonymous),
    Exotic("psk-only", ("-nocert", "-psk", _PSK_KEY, "-no_tls1_3"), "PSK:@SECLEVEL=0", _pre_shared_key),
    Exotic("ccm8-only", ("-no_tls1_3",), "AESCCM8:@SECLEVEL=0", _rsa_certificate),
    Exotic("aria-and-camellia", ("-no_tls1_3",), "ARIA:CAMELLIA:@SECLEVEL=0", _rsa_certificate),
)


def _openssl_suites(cipher_string: str, version: TLSVersion, usable: Usable) -> set[str]:
    """IANA names of the suites OpenSSL would negotiate at ``version`` with ``cipher_string``, keeping those the
    server's key allows."""
    listing = subprocess.run(
        [OPENSSL, "ciphers", "-stdname", "-v", "-s", "-psk", _OPENSSL_VERSION_FLAGS[version], cipher_string],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = set()
    for line in listing.splitlines():
        fields = line.split()  # IANA name, "-", OpenSSL name, version, Kx=, Au=, Enc=, Mac=
        if fields[3] == "TLSv1.3":
            continue  # -cipher leaves TLS 1.3 alone; each configuration here has none
        kx, au = fields[4].removeprefix("Kx="), fields[5].removeprefix("Au=")
        if usable(kx, au):
            names.add(fields[0])
    return names


def _args(exotic: Exotic) -> list[str]:
    return [*exotic.args, "-cipher", exotic.cipher_string]


def _profile(result: ServerScanResult) -> ConnectivityCompleted:
    assert isinstance(result.connectivity, ConnectivityCompleted), result.connectivity
    return result.connectivity


@pytest.mark.parametrize("exotic", _EXOTIC, ids=lambda exotic: exotic.name)
async def test_the_server_is_scanned_and_its_suites_listed(test_pki: TestPKI, exotic: Exotic) -> None:
    with start_openssl_s_server(_args(exotic), test_pki.rsa_chain, test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}", cipher_checks())
    assert _profile(result).profile.highest_version is TLSVersion.TLS1_2, server.output()
    for version in TLSVersion:
        expected = set()
        if version in _OPENSSL_VERSION_FLAGS:
            expected = _openssl_suites(exotic.cipher_string, version, exotic.usable)
        assert accepted_names(result, version) == expected, (version, server.output())
    assert accepted_names(result, TLSVersion.TLS1_2), "the configuration must leave the server some suite"


@pytest.mark.parametrize("exotic", _EXOTIC[:3], ids=lambda exotic: exotic.name)
async def test_the_extra_hellos_go_one_by_one_until_one_is_accepted(test_pki: TestPKI, exotic: Exotic) -> None:
    with (
        start_openssl_s_server(_args(exotic), test_pki.rsa_chain, test_pki.rsa_key) as server,
        CountingProxy(*server.address) as proxy,
    ):
        result = await scan_server(f"127.0.0.1:{proxy.port}", [])
        counted = proxy.total_connections
    # Which bundle of the rest of the catalogue holds the first suite the server can use.
    tls13 = common_suite_codes(TLSVersion.TLS1_3)
    first_hello = tls13 + common_suite_codes(TLSVersion.TLS1_2, MAX_HELLO_SUITES - len(tls13))
    usable = _openssl_suites(exotic.cipher_string, TLSVersion.TLS1_2, exotic.usable)
    codes = {suite.code for suite in suites_for_version(TLSVersion.TLS1_2) if suite.name in usable}
    bundles = remaining_suite_bundles(TLSVersion.TLS1_2, first_hello)
    reaching = next(index for index, bundle in enumerate(bundles) if codes.intersection(bundle))
    # The first hello and the same one half-closed (both refused), the SSL 3.0 hello (refused by a TLS alert),
    # then the bundles of the rest of the catalogue up to the one that reaches the server.
    assert _profile(result).cost.connections == 3 + reaching + 1
    assert counted == result.connections


_GNUTLS_PRIORITY = (
    "NONE:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0:+PSK:+DHE-PSK:+ECDHE-PSK:+ANON-DH:+ANON-ECDH:+AES-128-GCM:"
    "+AES-256-GCM:+AES-128-CBC:+CAMELLIA-128-CBC:+SHA1:+SHA256:+AEAD:+COMP-NULL:+SIGN-ALL:+GROUP-ALL"
)
_GNUTLS_SUITE = re.compile(r"^\S+\s+0x([0-9a-f]{2}), 0x([0-9a-f]{2})\s+(TLS1\.[0-2])$", re.MULTILINE)


def _gnutls_suites(priority: str, version: TLSVersion) -> set[str]:
    """IANA names of the suites ``gnutls-cli -l`` lists for ``priority`` whose first version is ``version`` or
    older."""
    listing = subprocess.run(["gnutls-cli", "--priority", priority, "-l"], capture_output=True, text=True).stdout
    first_versions = {"TLS1.0": TLSVersion.TLS1_0, "TLS1.1": TLSVersion.TLS1_1, "TLS1.2": TLSVersion.TLS1_2}
    names = set()
    for high, low, first in _GNUTLS_SUITE.findall(listing):
        suite = cipher_suite_by_code(int(high + low, 16))
        assert suite is not None, (high, low)
        if first_versions[first] <= version:
            names.add(suite.name)
    return names


@pytest.fixture
def psk_keys(tmp_path: Path) -> Path:
    """A gnutls-serv PSK password file with one random key."""
    if shutil.which("psktool") is None:
        pytest.skip("psktool is not installed (Debian package gnutls-bin)")
    keys = tmp_path / "keys.psk"
    subprocess.run(["psktool", "-u", "probe", "-p", str(keys)], capture_output=True, check=True)
    return keys


async def test_gnutls_psk_and_anonymous_server(test_pki: TestPKI, psk_keys: Path) -> None:
    server = start_gnutls_serv(
        _GNUTLS_PRIORITY, test_pki.rsa_chain, test_pki.rsa_key, extra_args=["--pskpasswd", str(psk_keys)]
    )
    with server:
        result = await scan_server(f"127.0.0.1:{server.port}", cipher_checks())
    assert _profile(result).profile.highest_version is TLSVersion.TLS1_2, server.output()
    for version in TLSVersion:
        expected = _gnutls_suites(_GNUTLS_PRIORITY, version) if version in _OPENSSL_VERSION_FLAGS else set()
        assert accepted_names(result, version) == expected, (version, server.output())
    assert len(accepted_names(result, TLSVersion.TLS1_2)) > len(accepted_names(result, TLSVersion.TLS1_0)) > 0


async def test_psk_only_server_full_handshakes_are_skipped_not_failed(test_pki: TestPKI) -> None:
    # The server answers a PSK suite with its ServerHello (the identity comes later, in the ClientKeyExchange):
    # that is what "accepted" says. A full handshake needs the key, which tlsprobe does not have: checks built on
    # one are skipped with that reason, never read as the server refusing renegotiation or resumption.
    exotic = _EXOTIC[2]
    with start_openssl_s_server(_args(exotic), test_pki.rsa_chain, test_pki.rsa_key) as server:
        result = await scan_server(f"127.0.0.1:{server.port}")
    skipped = {outcome.name: outcome.reason for outcome in result.checks if isinstance(outcome, CheckSkipped)}
    for name in ("client_renegotiation", "session_resumption", "http_headers"):
        assert "pre-shared key" in skipped[name], (name, skipped.get(name))
    internal = [outcome for outcome in result.checks if isinstance(outcome, CheckFailed)]
    assert not [outcome for outcome in internal if outcome.error.kind is ErrorKind.INTERNAL], internal


@pytest.mark.parametrize(
    ("maximum", "ciphers"),
    [(ssl.TLSVersion.TLSv1_3, None), (ssl.TLSVersion.TLSv1_2, "ECDHE-RSA-AES128-GCM-SHA256")],
    ids=["tls1_2-and-1_3", "tls1_2-one-suite"],
)
async def test_a_normal_server_costs_no_extra_connection(
    test_pki: TestPKI, maximum: ssl.TLSVersion, ciphers: str | None
) -> None:
    with (
        LocalTLSServer(
            certfile=test_pki.rsa_chain,
            keyfile=test_pki.rsa_key,
            maximum_version=maximum,
            ciphers=ciphers,
            http_response=False,
        ) as server,
        CountingProxy(*server.address) as proxy,
    ):
        result = await scan_server(f"127.0.0.1:{proxy.port}", [])
        counted = proxy.total_connections
    # The first hello and the same one half-closed: nothing of the extra bundles.
    assert _profile(result).cost.connections == 2
    assert counted == 2
