"""Trust stores: Mozilla's (certifi), the system bundle, a user's CA file."""

from __future__ import annotations

import datetime
from pathlib import Path

import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.trust import pem, trust_pki
from tlsprobe._exceptions import ConfigurationError
from tlsprobe.trust import (
    SYSTEM_BUNDLE_PATHS,
    TrustStoreName,
    find_system_store,
    load_ca_file,
    mozilla_store,
    system_store,
)

DEBIAN_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def test_mozilla_store_is_certifis_bundle_with_its_version_and_date() -> None:
    store = mozilla_store()
    assert store.name is TrustStoreName.MOZILLA
    assert len(store.certificates) > 100
    assert all(isinstance(cert, x509.Certificate) for cert in store.certificates)
    assert store.version == certifi.__version__
    year, month, day = (int(part) for part in certifi.__version__.split("."))
    assert store.date == datetime.date(year, month, day)
    assert store.source == Path(certifi.where())
    assert store.skipped == 0
    # Every PEM block of the bundle became a certificate.
    assert len(store.certificates) == Path(certifi.where()).read_bytes().count(b"-----BEGIN CERTIFICATE-----")


def test_mozilla_store_is_loaded_once() -> None:
    assert mozilla_store() is mozilla_store()


def test_mozilla_store_keeps_the_roots_whose_serial_is_zero() -> None:
    # cryptography warns about them (and the tests turn warnings into errors): loading must stay quiet.
    subjects = {cert.subject.rfc4514_string() for cert in mozilla_store().certificates}
    assert any("Starfield Root Certificate Authority - G2" in subject for subject in subjects)


def test_store_repr_does_not_list_every_certificate() -> None:
    assert f"<{len(mozilla_store().certificates)} certificates>" in repr(mozilla_store())


@pytest.mark.skipif(not DEBIAN_BUNDLE.exists(), reason="no Debian CA bundle on this machine")
def test_system_store_is_the_debian_bundle() -> None:
    store = system_store()
    assert store is not None
    assert store.name is TrustStoreName.SYSTEM
    assert store.source == DEBIAN_BUNDLE == SYSTEM_BUNDLE_PATHS[0]
    assert len(store.certificates) == DEBIAN_BUNDLE.read_bytes().count(b"-----BEGIN CERTIFICATE-----")
    assert len(store.certificates) > 100
    assert store.version is None
    assert store.date == datetime.datetime.fromtimestamp(DEBIAN_BUNDLE.stat().st_mtime, datetime.UTC).date()
    assert system_store() is store


def test_no_system_store_when_no_bundle_exists(tmp_path: Path) -> None:
    assert find_system_store([tmp_path / "absent.pem", tmp_path / "also-absent.crt"]) is None


def test_system_store_is_the_first_usable_bundle(tmp_path: Path) -> None:
    pki = trust_pki()
    empty, garbage, directory, good, later = (
        tmp_path / "empty.pem",
        tmp_path / "garbage.pem",
        tmp_path / "a-directory",
        tmp_path / "good.pem",
        tmp_path / "later.pem",
    )
    empty.write_bytes(b"")
    garbage.write_bytes(b"not a certificate at all")
    directory.mkdir()
    good.write_bytes(pem(pki.root.cert, pki.rsa_root.cert))
    later.write_bytes(pem(pki.intermediate.cert))
    store = find_system_store([tmp_path / "absent.pem", empty, garbage, directory, good, later])
    assert store is not None
    assert store.source == good
    assert store.certificates == (pki.root.cert, pki.rsa_root.cert)


def test_ca_file_with_several_pem_certificates(tmp_path: Path) -> None:
    pki = trust_pki()
    path = tmp_path / "ca.pem"
    path.write_bytes(b"# my roots\n" + pem(pki.root.cert) + b"\nsome text between\n" + pem(pki.rsa_root.cert))
    store = load_ca_file(path)
    assert store.name is TrustStoreName.CA_FILE
    assert store.certificates == (pki.root.cert, pki.rsa_root.cert)
    assert (store.version, store.date, store.source, store.skipped) == (None, None, path, 0)


def test_ca_file_as_a_string_path(tmp_path: Path) -> None:
    path = tmp_path / "ca.pem"
    path.write_bytes(pem(trust_pki().root.cert))
    assert load_ca_file(str(path)).source == path


def test_ca_file_with_one_der_certificate(tmp_path: Path) -> None:
    root = trust_pki().root.cert
    path = tmp_path / "ca.der"
    path.write_bytes(root.public_bytes(serialization.Encoding.DER))
    assert load_ca_file(path).certificates == (root,)


def test_ca_file_keeps_the_certificates_of_a_pem_with_a_key_and_a_broken_block(tmp_path: Path) -> None:
    pki = trust_pki()
    key = pki.root.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    broken = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    path = tmp_path / "mixed.pem"
    path.write_bytes(key + broken + pem(pki.root.cert))
    store = load_ca_file(path)
    assert store.certificates == (pki.root.cert,)
    assert store.skipped == 1


def test_missing_ca_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.pem"
    with pytest.raises(ConfigurationError) as caught:
        load_ca_file(path)
    assert str(caught.value) == f"CA file '{path}' cannot be read: No such file or directory"
    assert isinstance(caught.value, ValueError)


def test_ca_file_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_ca_file(tmp_path)
    assert str(caught.value) == f"CA file '{tmp_path}' cannot be read: Is a directory"


@pytest.mark.parametrize("content", [b"", b"\n  \n"])
def test_empty_ca_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.pem"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError) as caught:
        load_ca_file(path)
    assert str(caught.value) == f"CA file '{path}' is empty"


def test_garbage_ca_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.bin"
    path.write_bytes(b"\x00\x01 this is neither PEM nor DER")
    with pytest.raises(ConfigurationError) as caught:
        load_ca_file(path)
    assert str(caught.value).startswith(f"CA file '{path}' is neither PEM certificates nor a DER certificate: ")


@pytest.mark.parametrize(
    "content",
    [
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ],
    ids=["only-a-key", "only-a-broken-certificate"],
)
def test_pem_ca_file_without_a_usable_certificate(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "ca.pem"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError) as caught:
        load_ca_file(path)
    assert str(caught.value) == f"CA file '{path}' holds no certificate that can be read"
