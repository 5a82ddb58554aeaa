"""The public surface: what is exported, sorted, and nothing of nassl's leaks into it."""

from __future__ import annotations

import re
import types

import tlsprobe
import tlsprobe.checks
import tlsprobe.distributed
import tlsprobe.integrations.fastapi
import tlsprobe.monitoring
import tlsprobe.policy
import tlsprobe.store
import tlsprobe.testing
import tlsprobe.trust
import tlsprobe.wire
import tlsprobe.wire.catalogue


def _public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }


def test_all_is_sorted_and_complete() -> None:
    for module in (
        tlsprobe,
        tlsprobe.checks,
        tlsprobe.distributed,
        tlsprobe.integrations.fastapi,
        tlsprobe.monitoring,
        tlsprobe.policy,
        tlsprobe.store,
        tlsprobe.testing,
        tlsprobe.trust,
        tlsprobe.wire,
        tlsprobe.wire.catalogue,
    ):
        exported = list(module.__all__)
        assert exported == sorted(exported), module.__name__
        assert set(exported) == _public_names(module) | ({"__version__"} & set(exported)), module.__name__


def test_no_nassl_type_is_exported() -> None:
    for name in tlsprobe.__all__:
        value = getattr(tlsprobe, name)
        assert "nassl" not in getattr(value, "__module__", ""), name


def test_every_default_check_has_a_unique_name_and_a_result_type() -> None:
    # The names come from the registry, not from a list here (adding a check is not a change to this test);
    # that each registered check and its result are exported is tests/test_registration.py's job.
    names = [check.name for check in tlsprobe.DEFAULT_CHECKS]
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name  # a JSON key and, as --name, a CLI flag
    # The report opens with one cipher-suite check per version, oldest first.
    assert names[: len(tlsprobe.TLSVersion)] == [f"{version.value}_cipher_suites" for version in tlsprobe.TLSVersion]
    for check in tlsprobe.DEFAULT_CHECKS:
        assert isinstance(check.result_type, type)
        assert tlsprobe.checks.check_by_name(check.name) is check


def test_connection_settings_and_their_errors_are_exported() -> None:
    assert tlsprobe.STARTTLS_PORTS[25] is tlsprobe.StartTLS.SMTP
    assert issubclass(tlsprobe.StartTLSError, tlsprobe.NegotiationError)
    assert issubclass(tlsprobe.ProxyAuthenticationError, tlsprobe.ProxyError)
    assert issubclass(tlsprobe.ProxyUnreachableError, tlsprobe.ProxyError)
    assert issubclass(tlsprobe.NegotiationError, tlsprobe.ConnectionRejectedError)
