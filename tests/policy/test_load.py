"""Policy files: the shipped Mozilla profiles, and users' files validated with errors that name the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tlsprobe import ConfigurationError
from tlsprobe.policy import MOZILLA_PROFILES, Vulnerability, load_policy, mozilla_profile, policy_from_json
from tlsprobe.wire._versions import TLSVersion


def _document(**changes: Any) -> dict[str, Any]:
    profile = Path(__file__).parents[2] / "src" / "tlsprobe" / "policy" / "profiles" / "intermediate.json"
    document: dict[str, Any] = json.loads(profile.read_text())
    document.update(changes)
    return document


def test_mozilla_profiles_hold_the_guidelines_values() -> None:
    modern, intermediate, old = (mozilla_profile(name) for name in MOZILLA_PROFILES)
    assert modern.protocol_versions == {TLSVersion.TLS1_3}
    assert intermediate.protocol_versions == {TLSVersion.TLS1_2, TLSVersion.TLS1_3}
    assert old.protocol_versions == {TLSVersion.TLS1_0, TLSVersion.TLS1_1, TLSVersion.TLS1_2, TLSVersion.TLS1_3}
    # Guidelines 6.0 put the post-quantum hybrid first for modern and intermediate; old (5.8) predates it.
    assert "X25519MLKEM768" in (modern.groups or ()) and "X25519MLKEM768" in (intermediate.groups or ())
    assert "X25519MLKEM768" not in (old.groups or ())
    assert modern.cipher_suites == frozenset() and modern.certificate_key_types == {"ec"}
    assert intermediate.min_rsa_key_size == 2048 and intermediate.min_dh_size == 2048
    assert len(intermediate.cipher_suites or ()) == 6 and len(old.cipher_suites or ()) == 26
    assert (modern.max_certificate_lifespan_days, intermediate.max_certificate_lifespan_days) == (90, 366)
    assert old.server_cipher_order and not intermediate.server_cipher_order
    assert Vulnerability.HEARTBLEED in intermediate.forbidden_vulnerabilities
    assert intermediate.hsts_min_age == 63072000 and intermediate.ocsp_stapling


def test_an_unknown_profile_is_a_configuration_error() -> None:
    expected = "no Mozilla profile 'strict': choose one of modern, intermediate, old"
    with pytest.raises(ConfigurationError, match=expected):
        mozilla_profile("strict")


def test_a_custom_policy_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(_document(name="ours", protocol_versions=["tls1_3"], hsts_min_age=None)))
    policy = load_policy(path)
    assert (policy.name, policy.protocol_versions, policy.hsts_min_age) == ("ours", {TLSVersion.TLS1_3}, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"protocol_versions": ["TLS 1.2"]},
            "protocol_versions: unknown protocol version 'TLS 1.2' (use tls1_2, tls1_3...)",
        ),
        ({"protocol_versions": []}, "protocol_versions: must list at least one version"),
        ({"cipher_suites": ["TLS_MADE_UP"]}, "cipher_suites: unknown cipher suite 'TLS_MADE_UP'"),
        ({"groups": ["prime256v1"]}, "groups: unknown group 'prime256v1'"),
        ({"min_rsa_key_size": "2048"}, 'min_rsa_key_size: expected int, got "2048"'),
        ({"min_rsa_key_size": -1}, "min_rsa_key_size: must not be negative, got -1"),
        ({"ocsp_stapling": 1}, "ocsp_stapling: expected bool, got 1"),
        ({"forbidden_vulnerabilities": ["poodle"]}, "forbidden_vulnerabilities: unknown vulnerability 'poodle'"),
        ({"certificate_key_types": ["ecdsa"]}, "certificate_key_types: unknown key type 'ecdsa'"),
        ({"colour": "blue"}, "unknown field 'colour'"),
    ],
)
def test_bad_fields_are_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        policy_from_json(_document(**changes), source="p.json")
    assert str(raised.value) == f"policy p.json: {message}"


def test_a_missing_field_is_an_error_not_a_default() -> None:
    document = _document()
    del document["hsts_min_age"]
    with pytest.raises(ConfigurationError, match="missing field 'hsts_min_age' \\(use null for 'not checked'\\)"):
        policy_from_json(document, source="p.json")


def test_unreadable_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_policy(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigurationError, match="not JSON"):
        load_policy(broken)
