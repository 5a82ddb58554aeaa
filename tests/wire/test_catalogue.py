"""Tests of the cipher-suite and named-group catalogues against the registry facts and real TLS libraries."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest

from tlsprobe.wire import catalogue
from tlsprobe.wire.catalogue import (
    CIPHER_SUITES,
    NAMED_GROUPS,
    SSL2_CIPHER_SUITES,
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
    TLS_FALLBACK_SCSV,
    GroupKind,
    KeyExchange,
    TLSVersion,
    cipher_suite_by_code,
    cipher_suite_by_name,
    groups_for_version,
    named_group_by_code,
    named_group_by_name,
    suites_for_version,
)

PRE_TLS12 = frozenset({TLSVersion.SSL3, TLSVersion.TLS1_0, TLSVersion.TLS1_1, TLSVersion.TLS1_2})
TLS10_TO_12 = frozenset({TLSVersion.TLS1_0, TLSVersion.TLS1_1, TLSVersion.TLS1_2})


# --- the suite table ----------------------------------------------------------------------------------------


def test_suite_codes_and_names_are_unique() -> None:
    all_suites = (*CIPHER_SUITES, *SSL2_CIPHER_SUITES)
    codes = [suite.code for suite in all_suites]
    names = [suite.name for suite in all_suites]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    openssl_names = [suite.openssl_name for suite in CIPHER_SUITES if suite.openssl_name is not None]
    assert len(set(openssl_names)) == len(openssl_names)


def test_tls_suites_are_two_byte_registry_values_without_scsv_or_grease() -> None:
    for suite in CIPHER_SUITES:
        assert 0 <= suite.code <= 0xFFFF
        assert suite.name.startswith("TLS_")
        assert (suite.code & 0x0F0F) != 0x0A0A, "GREASE value"
        assert suite.code >> 8 != 0xFF, "private use"
    codes = {suite.code for suite in CIPHER_SUITES}
    assert TLS_EMPTY_RENEGOTIATION_INFO_SCSV == 0x00FF
    assert TLS_FALLBACK_SCSV == 0x5600
    assert codes.isdisjoint({TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV})
    # 0x0060-0x0066 (OpenSSL's EXP1024 suites) and 0x001C/0x001D (Fortezza) are reserved, not IANA suites.
    assert codes.isdisjoint({0x001C, 0x001D, *range(0x0060, 0x0067)})
    assert cipher_suite_by_code(TLS_FALLBACK_SCSV) is None


def test_registry_coverage() -> None:
    codes = {suite.code for suite in CIPHER_SUITES}
    # Old SSL 3.0 suites, EXPORT, KRB5, PSK, SRP, SEED, Camellia, ARIA, CCM, ChaCha20, ECCPWD, GOST, SM4,
    # TLS 1.3.
    expected = {
        0x0000, 0x0003, 0x0006, 0x0008, 0x000B, 0x000E, 0x0011, 0x0014, 0x0017, 0x0019, 0x001E, 0x002B,
        0x008A, 0x00AF, 0xC01A, 0xC022, 0x0096, 0x0041, 0xC08B, 0xC03C, 0xC071, 0xC09C, 0xC0AF, 0xCCA8,
        0xCCAE, 0xC0B0, 0xC0B3, 0xC100, 0xC106, 0x00C6, 0x00C7, 0xD001, 0xD005, *range(0x1301, 0x1306),
    }  # fmt: skip
    assert expected <= codes
    assert 0xD004 not in codes  # unassigned between the RFC 8442 suites
    assert len(CIPHER_SUITES) >= 340


def test_suite_agrees_with_tlslite_registry_names() -> None:
    constants = pytest.importorskip("tlslite.constants")
    checked = 0
    for name, code in vars(constants.CipherSuite).items():
        if not (isinstance(code, int) and name.startswith("TLS_")) or "SCSV" in name or "draft" in name:
            continue
        suite = cipher_suite_by_code(code)
        assert suite is not None, name
        # tlslite upper-cases "anon"; the IANA spelling is "DH_anon".
        assert suite.name.upper() == name.upper()
        checked += 1
    assert checked > 100


def test_ecdhe_rsa_aes128_gcm_facts() -> None:
    suite = cipher_suite_by_code(0xC02F)
    assert suite is not None
    assert suite.name == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert suite.openssl_name == "ECDHE-RSA-AES128-GCM-SHA256"
    assert suite.key_exchange is KeyExchange.ECDHE
    assert suite.authentication == "RSA"
    assert suite.encryption == "AES_128_GCM"
    assert suite.key_size == 128
    assert suite.mac == "SHA256"
    assert suite.is_aead
    assert not suite.is_export
    assert not suite.is_anonymous
    assert suite.versions == frozenset({TLSVersion.TLS1_2})


def test_legacy_suite_facts() -> None:
    triple_des = cipher_suite_by_code(0x000A)
    assert triple_des is not None
    assert triple_des.name == "TLS_RSA_WITH_3DES_EDE_CBC_SHA"
    assert triple_des.openssl_name == "DES-CBC3-SHA"
    assert triple_des.encryption == "3DES_EDE_CBC"
    assert triple_des.key_size == 112
    assert triple_des.mac == "SHA"
    assert triple_des.versions == PRE_TLS12

    export_rc4 = cipher_suite_by_code(0x0003)
    assert export_rc4 is not None
    assert export_rc4.name == "TLS_RSA_EXPORT_WITH_RC4_40_MD5"
    assert export_rc4.openssl_name == "EXP-RC4-MD5"
    assert export_rc4.is_export
    assert export_rc4.key_size == 40
    assert export_rc4.mac == "MD5"

    single_des = cipher_suite_by_code(0x0009)
    assert single_des is not None
    assert (single_des.key_size, single_des.is_export) == (56, False)

    null_sha = cipher_suite_by_name("TLS_RSA_WITH_NULL_SHA")
    assert null_sha is not None
    assert null_sha.code == 0x0002
    assert null_sha.encryption == "NULL"
    assert null_sha.key_size == 0
    assert not null_sha.is_anonymous  # the server is authenticated, the traffic just is not encrypted

    anon_rc4 = cipher_suite_by_code(0x0018)
    assert anon_rc4 is not None
    assert anon_rc4.name == "TLS_DH_anon_WITH_RC4_128_MD5"
    assert anon_rc4.openssl_name == "ADH-RC4-MD5"
    assert anon_rc4.key_exchange is KeyExchange.DH
    assert anon_rc4.is_anonymous
    assert anon_rc4.key_size == 128

    krb5_export = cipher_suite_by_code(0x0026)
    assert krb5_export is not None
    assert krb5_export.key_exchange is KeyExchange.KRB5
    assert (krb5_export.is_export, krb5_export.key_size) == (True, 40)


def test_version_rules() -> None:
    def versions(code: int) -> frozenset[TLSVersion]:
        suite = cipher_suite_by_code(code)
        assert suite is not None
        return suite.versions

    assert versions(0xC013) == PRE_TLS12  # ECDHE_RSA_WITH_AES_128_CBC_SHA
    assert versions(0x003C) == {TLSVersion.TLS1_2}  # RSA_WITH_AES_128_CBC_SHA256
    assert versions(0x00BA) == {TLSVersion.TLS1_2}  # RSA_WITH_CAMELLIA_128_CBC_SHA256 (RFC 5932)
    assert versions(0x00B2) == TLS10_TO_12  # DHE_PSK_WITH_AES_128_CBC_SHA256 (RFC 5487)
    assert versions(0xC037) == TLS10_TO_12  # ECDHE_PSK_WITH_AES_128_CBC_SHA256 (RFC 5489)
    assert versions(0xCCA9) == {TLSVersion.TLS1_2}
    assert versions(0x1301) == {TLSVersion.TLS1_3}
    assert all(TLSVersion.SSL2 not in suite.versions for suite in CIPHER_SUITES)


def test_aead_flag_matches_the_cipher_mode() -> None:
    for suite in CIPHER_SUITES:
        aead_mode = any(mode in suite.encryption for mode in ("GCM", "CCM", "POLY1305", "MGM", "AEGIS"))
        assert suite.is_aead == aead_mode, suite.name
        if suite.is_aead and suite.key_exchange is not KeyExchange.TLS13:
            assert suite.versions == {TLSVersion.TLS1_2}, suite.name


def test_tls13_suites() -> None:
    tls13 = suites_for_version(TLSVersion.TLS1_3)
    # RFC 8446's five first, then SM4 (RFC 8998), AEGIS, GOST (RFC 9367) and integrity-only (RFC 9150).
    assert [suite.code for suite in tls13[:5]] == [0x1301, 0x1302, 0x1303, 0x1304, 0x1305]
    assert {suite.code for suite in tls13} == {
        *range(0x1301, 0x1308), 0x00C6, 0x00C7, *range(0xC103, 0xC107), 0xC0B4, 0xC0B5,
    }  # fmt: skip
    for suite in tls13:
        assert suite.key_exchange is KeyExchange.TLS13
        assert suite.authentication == "ANY"
        assert suite.versions == {TLSVersion.TLS1_3}
    chacha = cipher_suite_by_code(0x1303)
    assert chacha is not None
    assert (chacha.name, chacha.key_size, chacha.mac, chacha.is_aead) == (
        "TLS_CHACHA20_POLY1305_SHA256",
        256,
        "SHA256",
        True,
    )


def test_suites_per_version() -> None:
    for version in TLSVersion:
        suites = suites_for_version(version)
        assert len(set(suites)) == len(suites)
        if version is TLSVersion.SSL2:
            assert suites == SSL2_CIPHER_SUITES
        else:
            assert set(suites) == {suite for suite in CIPHER_SUITES if version in suite.versions}
    assert len(suites_for_version(TLSVersion.TLS1_2)) > 300
    assert len(suites_for_version(TLSVersion.SSL3)) > 100
    assert len(suites_for_version(TLSVersion.TLS1_0)) > len(suites_for_version(TLSVersion.SSL3))


def test_scan_order_puts_deployed_suites_in_the_first_bundle() -> None:
    tls12 = suites_for_version(TLSVersion.TLS1_2)
    first_bundle = tls12[:128]
    assert tls12[0].key_exchange is KeyExchange.ECDHE
    assert tls12[0].is_aead
    deployed = (
        0xC02F,
        0xC030,
        0xC02B,
        0xCCA8,
        0x009E,
        0xC013,
        0xC014,
        0x009C,
        0x002F,
        0x0035,
        0x000A,
        0x0005,
    )
    for code in deployed:
        assert cipher_suite_by_code(code) in first_bundle, hex(code)
    for suite in first_bundle:
        assert not suite.is_export, suite.name
        assert not suite.is_anonymous, suite.name
        assert suite.encryption != "NULL", suite.name
        assert suite.key_exchange not in {KeyExchange.PSK, KeyExchange.SRP, KeyExchange.KRB5}, suite.name
    position = {suite.code: index for index, suite in enumerate(tls12)}
    assert position[0xC02F] < position[0xC013] < position[0x002F] < position[0x000A]  # AEAD, CBC, RSA, 3DES
    assert position[0x000A] < position[0x008C] < position[0x0003]  # 3DES, then PSK, then EXPORT


def test_ssl2_cipher_kinds() -> None:
    by_code = {suite.code: suite for suite in SSL2_CIPHER_SUITES}
    assert set(by_code) == {0x010080, 0x020080, 0x030080, 0x040080, 0x050080, 0x060040, 0x0700C0}
    for suite in SSL2_CIPHER_SUITES:
        assert suite.versions == {TLSVersion.SSL2}
        assert suite.key_exchange is KeyExchange.RSA
        assert suite.name.startswith("SSL_CK_")
        assert suite.mac == "MD5"
    assert by_code[0x020080].is_export
    assert by_code[0x020080].key_size == 40
    assert by_code[0x0700C0].key_size == 112
    assert by_code[0x060040].key_size == 56
    ssl2_des3 = cipher_suite_by_name("DES-CBC3-MD5")
    assert ssl2_des3 is not None
    assert ssl2_des3.code == 0x0700C0
    # A name shared by an SSL 2.0 kind and a TLS suite gives the TLS suite.
    rc4_md5 = cipher_suite_by_name("RC4-MD5")
    assert rc4_md5 is not None
    assert rc4_md5.code == 0x0004


def test_lookups() -> None:
    iana = cipher_suite_by_name("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")
    assert iana is not None
    assert iana.code == 0xCCA9
    assert cipher_suite_by_name("ECDHE-ECDSA-CHACHA20-POLY1305") is iana
    assert cipher_suite_by_name("tls_ecdhe_ecdsa_with_chacha20_poly1305_sha256") is iana
    anon = cipher_suite_by_name("TLS_DH_ANON_WITH_AES_128_CBC_SHA")  # tlslite's spelling
    assert anon is not None
    assert anon.code == 0x0034
    edh = cipher_suite_by_name("EDH-RSA-DES-CBC3-SHA")  # OpenSSL 1.0.2 spelling
    assert edh is not None
    assert edh.code == 0x0016
    assert edh.openssl_name == "DHE-RSA-DES-CBC3-SHA"
    assert cipher_suite_by_name("NOT-A-SUITE") is None
    assert cipher_suite_by_code(0x1300) is None
    assert cipher_suite_by_code(0x0700C0) is not None


# --- agreement with real OpenSSL builds ---------------------------------------------------------------------


_OPENSSL_V_LINE = re.compile(r"^\s*0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+- (\S+)\s")


def _openssl_ciphers(*args: str) -> list[tuple[int, str, str]]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl binary")
    result = subprocess.run(
        [openssl, "ciphers", "-V", "-stdname", *args], capture_output=True, text=True, check=False, timeout=30
    )
    if result.returncode != 0:
        pytest.skip(f"openssl ciphers failed: {result.stderr.strip()}")
    rows = []
    for line in result.stdout.splitlines():
        match = _OPENSSL_V_LINE.match(line)
        assert match is not None, line
        rows.append((int(match[1] + match[2], 16), match[3], match[4]))
    return rows


@pytest.mark.slow  # runs the openssl binary
def test_openssl_binary_agrees() -> None:
    tls13 = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    tls13 += ":TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"
    rows = _openssl_ciphers("-ciphersuites", tls13, "ALL:COMPLEMENTOFALL:eNULL:@SECLEVEL=0")
    assert len(rows) > 50
    for code, standard_name, openssl_name in rows:
        suite = cipher_suite_by_code(code)
        assert suite is not None, standard_name
        assert suite.name == standard_name
        assert suite.openssl_name == openssl_name


def _client_hello_ciphers(module: Any, method: int, cipher_list: str) -> list[int]:
    """The cipher codes an nassl client puts in its ClientHello for ``cipher_list``."""
    ctx = module.SSL_CTX(method)
    ssl = module.SSL(ctx)
    ssl.set_cipher_list(cipher_list)
    internal, network = module.BIO(), module.BIO()
    module.BIO.make_bio_pair(internal, network)
    ssl.set_bio(internal)
    ssl.set_connect_state()
    try:
        ssl.do_handshake()
    except Exception as exc:  # the handshake stops waiting for the ServerHello
        if type(exc).__name__ != "WantReadError":
            raise
    data: bytes = network.read(network.pending())
    if data[0] & 0x80:  # SSL 2.0 CLIENT-HELLO: 2-byte header, type, version, 3 lengths, then 3-byte kinds
        body = data[2:]
        length = int.from_bytes(body[3:5], "big")
        kinds = body[9 : 9 + length]
        return [int.from_bytes(kinds[i : i + 3], "big") for i in range(0, length, 3)]
    handshake = data[5:]
    offset = 4 + 2 + 32
    offset += 1 + handshake[offset]  # session id
    length = int.from_bytes(handshake[offset : offset + 2], "big")
    suites = handshake[offset + 2 : offset + 2 + length]
    codes = [int.from_bytes(suites[i : i + 2], "big") for i in range(0, length, 2)]
    return [code for code in codes if code not in (TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV)]


def _cipher_names(module: Any, method: int, cipher_list: str) -> list[str]:
    ssl = module.SSL(module.SSL_CTX(method))
    ssl.set_cipher_list(cipher_list)
    names: list[str] = ssl.get_cipher_list()
    return names


_NASSL_BUILDS = [("_nassl", "{}:@SECLEVEL=0"), ("_nassl_legacy", "{}")]  # OpenSSL 1.1.1 and 1.0.2


@pytest.mark.parametrize(("module_name", "cipher_list"), _NASSL_BUILDS)
def test_nassl_openssl_builds_agree(module_name: str, cipher_list: str) -> None:
    pytest.importorskip("nassl")
    from nassl import _nassl, _nassl_legacy
    from nassl.ssl_client import OpenSslVersionEnum

    module = {"_nassl": _nassl, "_nassl_legacy": _nassl_legacy}[module_name]
    tls12 = OpenSslVersionEnum.TLSV1_2.value
    names = _cipher_names(module, OpenSslVersionEnum.SSLV23.value, "ALL:COMPLEMENTOFALL:eNULL")
    ssl2_only = {suite.openssl_name for suite in SSL2_CIPHER_SUITES} - {suite.openssl_name for suite in CIPHER_SUITES}
    checked = 0
    for name in dict.fromkeys(names):
        if name.startswith("TLS_") or name in ssl2_only:
            continue
        try:
            codes = _client_hello_ciphers(module, tls12, cipher_list.format(name))
        except Exception as exc:  # PSK and SRP suites are not offered without credentials
            if "no ciphers available" in str(exc):
                continue
            raise
        if len(codes) != 1:  # OpenSSL 1.1.1 leaves out PSK suites without a PSK callback
            assert codes == [], name
            continue
        suite = cipher_suite_by_code(codes[0])
        assert suite is not None, name
        assert cipher_suite_by_name(name) is suite, name
        if module_name == "_nassl":
            assert suite.openssl_name == name
        checked += 1
    assert checked > 80


def test_nassl_legacy_ssl2_kinds_agree() -> None:
    pytest.importorskip("nassl")
    from nassl import _nassl_legacy
    from nassl.ssl_client import OpenSslVersionEnum

    ssl2 = OpenSslVersionEnum.SSLV2.value
    names = _cipher_names(_nassl_legacy, ssl2, "ALL:COMPLEMENTOFALL")
    assert len(names) == 7
    by_code = {suite.code: suite for suite in SSL2_CIPHER_SUITES}
    for name in names:
        codes = _client_hello_ciphers(_nassl_legacy, ssl2, name)
        assert len(codes) == 1, name
        assert by_code[codes[0]].openssl_name == name


# --- named groups -------------------------------------------------------------------------------------------


def test_group_codes_and_names_are_unique() -> None:
    codes = [group.code for group in NAMED_GROUPS]
    names = [group.name for group in NAMED_GROUPS]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    assert codes == sorted(codes)
    assert all((code & 0x0F0F) != 0x0A0A for code in codes), "GREASE value"
    assert {0x0000, 0xFF01, 0xFF02}.isdisjoint(codes)


def test_group_facts() -> None:
    x25519 = named_group_by_code(29)
    assert x25519 is not None
    assert (x25519.name, x25519.kind, x25519.size, x25519.tls12, x25519.tls13) == (
        "x25519",
        GroupKind.EC,
        253,
        True,
        True,
    )
    ffdhe2048 = named_group_by_name("ffdhe2048")
    assert ffdhe2048 is not None
    assert (ffdhe2048.code, ffdhe2048.kind, ffdhe2048.size) == (256, GroupKind.FFDHE, 2048)
    hybrid = named_group_by_code(0x11EC)
    assert hybrid is not None
    assert hybrid.name == "X25519MLKEM768"
    assert hybrid.kind is GroupKind.HYBRID_PQ
    assert (hybrid.tls13, hybrid.tls12) == (True, False)
    assert hybrid.size == 253
    mlkem768 = named_group_by_code(0x0201)
    assert mlkem768 is not None
    assert (mlkem768.name, mlkem768.kind, mlkem768.tls12) == ("MLKEM768", GroupKind.PQ, False)
    kyber = named_group_by_code(0x6399)
    assert kyber is not None
    assert kyber.name == "X25519Kyber768Draft00"
    brainpool = named_group_by_code(26)
    brainpool13 = named_group_by_code(31)
    assert brainpool is not None
    assert brainpool13 is not None
    assert (brainpool.name, brainpool.tls12, brainpool.tls13) == ("brainpoolP256r1", True, False)
    assert (brainpool13.name, brainpool13.tls12, brainpool13.tls13) == ("brainpoolP256r1tls13", False, True)
    secp521r1 = named_group_by_code(25)
    assert secp521r1 is not None
    assert (secp521r1.name, secp521r1.size) == ("secp521r1", 521)
    assert named_group_by_name("X25519") is x25519
    assert named_group_by_code(0x0A0A) is None
    assert named_group_by_name("P-256") is None


def test_groups_agree_with_tlslite() -> None:
    constants = pytest.importorskip("tlslite.constants")
    checked = 0
    for name, code in vars(constants.GroupName).items():
        if not isinstance(code, int):
            continue
        group = named_group_by_code(code)
        assert group is not None, name
        assert group.name.lower() == name.lower()
        checked += 1
    assert checked > 35


def test_groups_per_version() -> None:
    tls13 = groups_for_version(TLSVersion.TLS1_3)
    tls12 = groups_for_version(TLSVersion.TLS1_2)
    assert groups_for_version(TLSVersion.SSL2) == ()
    assert groups_for_version(TLSVersion.TLS1_0) == tls12
    assert set(tls13) == {group for group in NAMED_GROUPS if group.tls13}
    assert set(tls12) == {group for group in NAMED_GROUPS if group.tls12}
    tls13_names = {group.name for group in tls13}
    tls12_names = {group.name for group in tls12}
    assert {"x25519", "secp256r1", "secp384r1", "ffdhe2048", "X25519MLKEM768", "MLKEM1024"} <= tls13_names
    assert tls13_names.isdisjoint({"sect163k1", "secp192r1", "secp256k1", "brainpoolP256r1"})
    assert "sect571r1" in tls12_names
    assert tls12_names.isdisjoint({"X25519MLKEM768", "MLKEM768", "brainpoolP256r1tls13", "curveSM2"})
    assert [group.name for group in tls13[:2]] == ["x25519", "secp256r1"]


def test_public_module_exports() -> None:
    assert catalogue.__all__ == sorted(catalogue.__all__)
    for name in catalogue.__all__:
        assert hasattr(catalogue, name), name
