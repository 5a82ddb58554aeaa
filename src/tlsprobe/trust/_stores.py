"""Trust stores: the Mozilla root store (shipped by certifi), the operating system's bundle, a user's CA file.

A store is inert data: the root certificates and where they came from. Loading reads one PEM (or DER) file and
parses every certificate in it; the Mozilla store is loaded once per process, like the system store. Certificates
that ``cryptography`` cannot parse are left out and counted (``skipped``) rather than making the whole bundle
unusable: OS bundles can hold an odd root that a future ``cryptography`` refuses.
"""

from __future__ import annotations

import datetime
import enum
import functools
import re
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Final, final

import attrs
import certifi
from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from tlsprobe._exceptions import ConfigurationError

__all__ = [
    "SYSTEM_BUNDLE_PATHS",
    "TrustStore",
    "TrustStoreName",
    "find_system_store",
    "load_ca_file",
    "mozilla_store",
    "system_store",
]

SYSTEM_BUNDLE_PATHS: Final[tuple[Path, ...]] = (
    Path("/etc/ssl/certs/ca-certificates.crt"),  # Debian, Ubuntu, Arch, Gentoo, Alpine
    Path("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"),  # RHEL, Fedora, CentOS 7+
    Path("/etc/pki/tls/certs/ca-bundle.crt"),  # older RHEL and CentOS
    Path("/etc/ssl/ca-bundle.pem"),  # openSUSE
    Path("/etc/ssl/cert.pem"),  # Alpine, macOS, OpenBSD
    Path("/opt/homebrew/etc/ca-certificates/cert.pem"),  # Homebrew on Apple silicon
    Path("/usr/local/etc/ca-certificates/cert.pem"),  # Homebrew on Intel macOS
    Path("/usr/local/share/certs/ca-root-nss.crt"),  # FreeBSD
)
"""Where operating systems keep their PEM bundle of trusted roots, searched in this order."""

_PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


class TrustStoreName(enum.Enum):
    """Which trust store a validation used."""

    MOZILLA = "mozilla"
    """Mozilla's root store, as shipped by certifi."""
    SYSTEM = "system"
    """The operating system's bundle (one of ``SYSTEM_BUNDLE_PATHS``)."""
    CA_FILE = "ca_file"
    """A CA file the user supplied (``--ca-file``)."""


@final
@attrs.frozen(kw_only=True)
class TrustStore:
    """A set of trusted root certificates and where they came from."""

    name: TrustStoreName
    """Which store this is."""
    version: str | None
    """The store's version: certifi's version for the Mozilla store (it is the date of Mozilla's data); else None."""
    date: datetime.date | None
    """The date of the data: Mozilla's release for the Mozilla store, the bundle file's last modification for the
    system store; None for a CA file."""
    certificates: tuple[x509.Certificate, ...] = attrs.field(repr=lambda certs: f"<{len(certs)} certificates>")
    """The trusted certificates, in file order (never empty)."""
    source: Path
    """The file they were read from."""
    skipped: int = 0
    """PEM blocks in the file that could not be parsed as certificates and were left out."""


_WARNING_FILTERS_LOCK = threading.Lock()


def _parse_certificates(data: bytes) -> tuple[list[x509.Certificate], int]:
    """Every certificate of a PEM bundle, or of a single DER certificate; and how many blocks failed to parse."""
    # A handful of Mozilla roots have a serial number of zero: cryptography warns (and may one day refuse). The
    # warning filters are process-wide: stores loaded in two threads at once must not restore them under each
    # other, which let the warning through.
    with _WARNING_FILTERS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        if b"-----BEGIN" not in data:
            return [x509.load_der_x509_certificate(data)], 0
        certificates: list[x509.Certificate] = []
        skipped = 0
        for block in _PEM_CERTIFICATE.finditer(data):
            try:
                certificates.append(x509.load_pem_x509_certificate(block.group()))
            except ValueError:
                skipped += 1
        return certificates, skipped


def _load_bundle(path: Path, name: TrustStoreName) -> TrustStore | None:
    """A store from a system bundle, or None when the file is absent, unreadable or holds no certificate."""
    try:
        data = path.read_bytes()
        modified = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC).date()
        certificates, skipped = _parse_certificates(data)
    except (OSError, ValueError):
        return None
    if not certificates:
        return None
    return TrustStore(
        name=name, version=None, date=modified, certificates=tuple(certificates), source=path, skipped=skipped
    )


def _certifi_date(version: str) -> datetime.date | None:
    """certifi's versions are the dates of Mozilla's data: ``2026.05.20``."""
    try:
        year, month, day = (int(part) for part in version.split(".")[:3])
        return datetime.date(year, month, day)
    except ValueError:
        return None


@functools.cache
def mozilla_store() -> TrustStore:
    """Mozilla's root store from certifi's ``cacert.pem`` (loaded once per process)."""
    path = Path(certifi.where())
    certificates, skipped = _parse_certificates(path.read_bytes())
    version: str = certifi.__version__
    return TrustStore(
        name=TrustStoreName.MOZILLA,
        version=version,
        date=_certifi_date(version),
        certificates=tuple(certificates),
        source=path,
        skipped=skipped,
    )


def find_system_store(candidates: Sequence[Path] = SYSTEM_BUNDLE_PATHS) -> TrustStore | None:
    """The first of ``candidates`` that exists and holds certificates, as the system store; None if there is none."""
    for path in candidates:
        store = _load_bundle(path, TrustStoreName.SYSTEM)
        if store is not None:
            return store
    return None


@functools.cache
def system_store() -> TrustStore | None:
    """The operating system's trust store from its well-known bundle path (loaded once per process).

    None when the machine has none of ``SYSTEM_BUNDLE_PATHS`` (Windows, minimal containers). The environment
    (``SSL_CERT_FILE``) is deliberately not consulted: this is what the OS ships, not what a user redirected.
    """
    return find_system_store()


def load_ca_file(path: Path | str) -> TrustStore:
    """A store from a user's CA file: PEM with one or more certificates, or a single DER certificate.

    Raises ``ConfigurationError`` (quoting the path) for a missing, unreadable or empty file, or one that holds
    no certificate that can be parsed.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"CA file {str(path)!r} cannot be read: {exc.strerror or exc}") from exc
    if not data.strip():
        raise ConfigurationError(f"CA file {str(path)!r} is empty")
    try:
        certificates, skipped = _parse_certificates(data)
    except ValueError as exc:
        raise ConfigurationError(
            f"CA file {str(path)!r} is neither PEM certificates nor a DER certificate: {exc}"
        ) from exc
    if not certificates:
        raise ConfigurationError(f"CA file {str(path)!r} holds no certificate that can be read")
    return TrustStore(
        name=TrustStoreName.CA_FILE,
        version=None,
        date=None,
        certificates=tuple(certificates),
        source=path,
        skipped=skipped,
    )
