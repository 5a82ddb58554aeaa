"""Policies from JSON: the built-in Mozilla profiles and users' own files, validated with errors that name the field.

The format is ``Policy``'s fields as JSON: versions by their JSON value (``tls1_2``), suites by IANA name, groups
by catalogue name, ``null`` for "not checked". Every field must be present: a policy that forgot a rule should not
pass servers silently. ``profiles/*.json`` are the reference examples.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, Final, TypeVar

from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._assessment import Policy, Vulnerability
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import cipher_suite_by_name, named_group_by_name

T = TypeVar("T")
MOZILLA_PROFILES: Final = ("modern", "intermediate", "old")
"""The names of the built-in Mozilla profiles."""
_KEY_TYPES: Final = frozenset({"rsa", "ec", "ed25519", "ed448", "dsa"})


class _Fields:
    """Reads one policy document's fields, raising ``ConfigurationError`` that names the source and the field."""

    def __init__(self, document: object, source: str) -> None:
        if not isinstance(document, dict):
            raise ConfigurationError(f"policy {source}: the document must be a JSON object")
        unknown = sorted(set(document) - _FIELD_NAMES)
        if unknown:
            raise ConfigurationError(f"policy {source}: unknown field {unknown[0]!r}")
        missing = sorted(_FIELD_NAMES - set(document))
        if missing:
            raise ConfigurationError(f"policy {source}: missing field {missing[0]!r} (use null for 'not checked')")
        self._document: dict[str, Any] = document
        self._source = source

    def error(self, field: str, message: str) -> ConfigurationError:
        return ConfigurationError(f"policy {self._source}: {field}: {message}")

    def value(self, field: str, kind: type[T]) -> T:
        value = self._document[field]
        # bool is an int in Python, never in a policy.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(field, f"expected {kind.__name__}, got {json.dumps(value)}")
        return value

    def optional_str(self, field: str) -> str | None:
        return None if self._document[field] is None else self.value(field, str)

    def optional_int(self, field: str) -> int | None:
        if self._document[field] is None:
            return None
        number = self.value(field, int)
        if number < 0:
            raise self.error(field, f"must not be negative, got {number}")
        return number

    def names(self, field: str, known: Callable[[str], bool], what: str, hint: str = "") -> frozenset[str] | None:
        if self._document[field] is None:
            return None
        items = self.value(field, list)
        for item in items:
            if not isinstance(item, str):
                raise self.error(field, f"expected a list of strings, got {json.dumps(item)}")
            if not known(item):
                raise self.error(field, f"unknown {what} {item!r}{hint}")
        return frozenset(items)


_FIELD_NAMES: Final = frozenset(field.name for field in Policy.__attrs_attrs__)


def _suite(name: str) -> bool:
    return cipher_suite_by_name(name) is not None


def _version(name: str) -> bool:
    return name in {version.value for version in TLSVersion}


def policy_from_json(document: object, *, source: str = "<json>") -> Policy:
    """A ``Policy`` from a parsed JSON document; ``ConfigurationError`` names the first bad field."""
    fields = _Fields(document, source)
    versions = fields.names("protocol_versions", _version, "protocol version", " (use tls1_2, tls1_3...)")
    if not versions:
        raise fields.error("protocol_versions", "must list at least one version")
    vulnerabilities = fields.names(
        "forbidden_vulnerabilities", lambda name: name in {v.value for v in Vulnerability}, "vulnerability"
    )
    return Policy(
        name=fields.value("name", str),
        description=fields.value("description", str),
        source=fields.optional_str("source"),
        protocol_versions=frozenset(TLSVersion(name) for name in versions),
        tls1_3_cipher_suites=fields.names(
            "tls1_3_cipher_suites", lambda name: cipher_suite_by_name(name) is not None, "cipher suite"
        ),
        cipher_suites=fields.names(
            "cipher_suites", lambda name: cipher_suite_by_name(name) is not None, "cipher suite"
        ),
        groups=fields.names("groups", lambda name: named_group_by_name(name) is not None, "group"),
        certificate_key_types=fields.names("certificate_key_types", _KEY_TYPES.__contains__, "key type"),
        certificate_curves=fields.names("certificate_curves", lambda name: bool(name), "curve"),
        certificate_signatures=fields.names("certificate_signatures", lambda name: bool(name), "signature"),
        min_rsa_key_size=fields.optional_int("min_rsa_key_size"),
        max_certificate_lifespan_days=fields.optional_int("max_certificate_lifespan_days"),
        min_dh_size=fields.optional_int("min_dh_size"),
        min_ecdh_size=fields.optional_int("min_ecdh_size"),
        hsts_min_age=fields.optional_int("hsts_min_age"),
        ocsp_stapling=fields.value("ocsp_stapling", bool),
        server_cipher_order=fields.value("server_cipher_order", bool),
        trusted_certificate=fields.value("trusted_certificate", bool),
        forbidden_vulnerabilities=frozenset(Vulnerability(name) for name in vulnerabilities or ()),
    )


def load_policy(path: Path | str) -> Policy:
    """A policy from a JSON file (``--policy FILE``); ``ConfigurationError`` for an unreadable or invalid one."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(f"policy file {str(path)!r} cannot be read: {error.strerror or error}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"policy {path}: not JSON: {error}") from None
    return policy_from_json(document, source=str(path))


@functools.cache
def mozilla_profile(name: str) -> Policy:
    """Mozilla's ``modern``, ``intermediate`` or ``old`` profile, shipped with tlsprobe."""
    if name not in MOZILLA_PROFILES:
        raise ConfigurationError(f"no Mozilla profile {name!r}: choose one of {', '.join(MOZILLA_PROFILES)}")
    text = resources.files("tlsprobe.policy").joinpath("profiles", f"{name}.json").read_text(encoding="utf-8")
    return policy_from_json(json.loads(text), source=f"mozilla {name}")
