"""The client table: real clients' ClientHellos and what they accept, as data (``clients/clients.json``).

Each entry is transcribed from a ClientHello recorded from the real client (testssl.sh's
``etc/client-simulation.txt``, most of whose hellos come from Qualys SSL Labs): the versions, suites, groups, key
shares, signature schemes and ALPN protocols it offers, in its order, whether it sends SNI, and the limits it puts
on the server's keys. The entry's ``source`` names the record it was read from. Codes the catalogues do not name
are kept as ``0x...`` so that the client's offer stays whole (a server never picks them: it was never offered them).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any, Final, TypeVar, final

import attrs

from tlsprobe.wire import signature_scheme_by_code
from tlsprobe.wire._sigalgs import SIGNATURE_SCHEMES
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import cipher_suite_by_name, named_group_by_name

T = TypeVar("T")

_SCHEMES_BY_NAME: Final = {scheme.name: scheme.code for scheme in SIGNATURE_SCHEMES}


@final
@attrs.frozen(kw_only=True)
class ClientProfile:
    """A real client's ClientHello and the limits it puts on the server's keys."""

    id: str
    """A stable identifier (``chromium_137_win11``)."""
    name: str
    """For people (``Chromium 137 (Windows 11)``)."""
    source: str
    """Where the facts come from."""
    versions: frozenset[TLSVersion]
    """The protocol versions it accepts."""
    cipher_suites: tuple[int, ...]
    """The suites it offers, in its order of preference (TLS 1.3 suites included)."""
    groups: tuple[int, ...]
    """supported_groups, in its order; empty when the hello has no such extension."""
    key_shares: tuple[int, ...]
    """The groups it sends a TLS 1.3 key share for, in its order."""
    signature_algorithms: tuple[int, ...]
    """signature_algorithms, in its order; empty when the hello has no such extension."""
    sends_sni: bool
    """Whether it sends server_name."""
    alpn: tuple[str, ...]
    """The application protocols it offers, in its order."""
    min_dh_bits: int | None
    """The smallest finite-field DH prime it accepts (None: no limit)."""
    max_dh_bits: int | None
    """The largest finite-field DH prime it accepts (None: no limit)."""
    min_rsa_bits: int | None
    """The smallest RSA certificate key it accepts (None: no limit)."""
    max_rsa_bits: int | None
    """The largest RSA certificate key it accepts (None: no limit)."""
    min_ecdsa_bits: int | None
    """The smallest EC certificate key it accepts (None: no limit)."""
    requires_sha2: bool
    """Whether it refuses a leaf certificate signed over SHA-1 or MD5."""

    def describe_versions(self) -> str:
        """``TLS 1.0-TLS 1.2``, or the one version."""
        ordered = sorted(self.versions, key=list(TLSVersion).index)
        if not ordered:
            return "none"
        return ordered[0].label if len(ordered) == 1 else f"{ordered[0].label}-{ordered[-1].label}"


class _Entry:
    """One entry of the table, read with errors that name it and the field."""

    def __init__(self, document: Mapping[str, Any], index: int) -> None:
        self._document = document
        self._label = f"client {document.get('id', index)!r}"

    def error(self, field: str, message: str) -> ValueError:
        return ValueError(f"clients.json: {self._label}: {field}: {message}")

    def value(self, field: str, kind: type[T]) -> T:
        value = self._document.get(field)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(field, f"expected {kind.__name__}, got {json.dumps(value)}")
        return value

    def limit(self, field: str) -> int | None:
        return None if self._document.get(field) is None else self.value(field, int)

    def names(self, field: str, code_of: Callable[[str], int | None]) -> tuple[int, ...]:
        codes = []
        for name in self.value(field, list):
            code = _code(name) if isinstance(name, str) and name.startswith("0x") else None
            if code is None and isinstance(name, str):
                code = code_of(name)
            if code is None:
                raise self.error(field, f"unknown name {json.dumps(name)}")
            codes.append(code)
        return tuple(codes)

    def strings(self, field: str) -> tuple[str, ...]:
        values = self.value(field, list)
        if not all(isinstance(value, str) for value in values):
            raise self.error(field, "expected strings")
        return tuple(values)


def _code(text: str) -> int | None:
    try:
        return int(text, 16)
    except ValueError:
        return None


def _suite_code(name: str) -> int | None:
    suite = cipher_suite_by_name(name)
    return None if suite is None else suite.code


def _group_code(name: str) -> int | None:
    group = named_group_by_name(name)
    return None if group is None else group.code


def _version(entry: _Entry, name: object) -> TLSVersion:
    try:
        return TLSVersion(name)
    except ValueError:
        raise entry.error("versions", f"unknown version {json.dumps(name)}") from None


def client_profile_from_json(document: Mapping[str, Any], index: int = 0) -> ClientProfile:
    """One entry of the table; ``ValueError`` naming the entry and the field when it is malformed."""
    entry = _Entry(document, index)
    return ClientProfile(
        id=entry.value("id", str),
        name=entry.value("name", str),
        source=entry.value("source", str),
        versions=frozenset(_version(entry, name) for name in entry.value("versions", list)),
        cipher_suites=entry.names("cipher_suites", _suite_code),
        groups=entry.names("groups", _group_code),
        key_shares=entry.names("key_shares", _group_code),
        signature_algorithms=entry.names("signature_algorithms", _SCHEMES_BY_NAME.get),
        sends_sni=entry.value("sends_sni", bool),
        alpn=entry.strings("alpn"),
        min_dh_bits=entry.limit("min_dh_bits"),
        max_dh_bits=entry.limit("max_dh_bits"),
        min_rsa_bits=entry.limit("min_rsa_bits"),
        max_rsa_bits=entry.limit("max_rsa_bits"),
        min_ecdsa_bits=entry.limit("min_ecdsa_bits"),
        requires_sha2=entry.value("requires_sha2", bool),
    )


@functools.cache
def client_profiles() -> tuple[ClientProfile, ...]:
    """The built-in client table, in its order (read once)."""
    text = resources.files("tlsprobe.policy").joinpath("clients/clients.json").read_text(encoding="utf-8")
    return tuple(client_profile_from_json(entry, index) for index, entry in enumerate(json.loads(text)["clients"]))


def scheme_name(code: int) -> str:
    """A signature scheme's IANA name, or its code."""
    scheme = signature_scheme_by_code(code)
    return scheme.name if scheme is not None else f"0x{code:04x}"
