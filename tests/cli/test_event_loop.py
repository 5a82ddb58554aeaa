"""The command's event loop: uvloop where installed, the standard loop on request, the same results on both."""

from __future__ import annotations

import json

import pytest

from tests.cli._process import run_cli
from tlsprobe._cli._limits import EVENT_LOOP_VARIABLE, event_loop_options
from tlsprobe.testing import LocalTLSServer


def test_uvloop_is_used_when_installed_unless_asked_for_the_standard_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("uvloop")
    monkeypatch.delenv(EVENT_LOOP_VARIABLE, raising=False)
    assert event_loop_options() == {"use_uvloop": True}
    monkeypatch.setenv(EVENT_LOOP_VARIABLE, " AsyncIO ")
    assert event_loop_options() == {}


def _facts(document: dict[str, object]) -> dict[str, object]:
    """What a scan found, without its costs and times."""
    checks = {}
    for outcome in document["checks"]:  # type: ignore[attr-defined]
        result = outcome.get("result") or {}
        checks[outcome["name"]] = (
            outcome["status"],
            [suite["cipher_suite"]["name"] for suite in result.get("accepted_cipher_suites", [])],
        )
    return {
        "checks": checks,
        "grade": document["grade"]["grade"],  # type: ignore[index]
        "findings": sorted(finding["id"] for finding in document["findings"]),  # type: ignore[attr-defined]
    }


@pytest.mark.realserver
def test_both_event_loops_find_the_same(modern: LocalTLSServer) -> None:
    pytest.importorskip("uvloop")
    target = f"127.0.0.1:{modern.port}"
    found = {}
    for loop in ("uvloop", "asyncio"):
        ran = run_cli(target, "--jsonl", "--no-progress", env={EVENT_LOOP_VARIABLE: loop})
        assert ran.code in (0, 1), ran.stderr
        found[loop] = _facts(json.loads(ran.stdout))
    assert found["uvloop"] == found["asyncio"]
    assert found["uvloop"]["checks"]["tls1_3_cipher_suites"][1]  # type: ignore[index]
