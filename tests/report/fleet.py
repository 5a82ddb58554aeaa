"""A small fleet for the report's fast tests, made without a socket (tests/store/results.py: the real checks
against a scripted server, real certificates, the real assessment): a modern server, a legacy one with an
expired second certificate, an unreachable one, and one whose every server-controlled string is hostile HTML."""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any, Final

from tests.store.results import LEGACY, MODERN, retarget, scripted_result, unreachable_result
from tests.trust import trust_pki
from tlsprobe import ServerScanResult, ServerTarget
from tlsprobe._model._json import to_jsonable

TITLE_PAYLOAD: Final = "pwned"
HOSTILE: Final = (
    f"<script>document.title='{TITLE_PAYLOAD}'</script>"
    f"<img src=x onerror=\"document.title='{TITLE_PAYLOAD}'\">"
    "</td></tr></table><b id=injected>\u202eDETSURT"
)
"""Markup that, if a page ran it, adds elements (``img``, ``b#injected``), breaks out of a table, and sets the
title; and a bidi override that would show ``TRUSTED``."""
GENERATED_AT: Final = datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC)


def results() -> list[ServerScanResult]:
    """The fleet as records: what each test's expectations are computed from."""
    pki = trust_pki()
    return [
        retarget(scripted_result(versions=MODERN), "modern.example"),
        retarget(scripted_result(versions=LEGACY, leaves=[pki.leaf, pki.expired]), "legacy.example"),
        unreachable_result(target=ServerTarget(host="down.example", port=8443)),
        retarget(scripted_result(versions=LEGACY), "hostile.example"),
    ]


def _hostile(document: dict[str, Any]) -> dict[str, Any]:
    """Every string a server controls, in the JSON a file holds, set to ``HOSTILE`` (and the target's host)."""
    changed = copy.deepcopy(document)
    changed["target"]["host"] = HOSTILE
    (certificate,) = [check for check in changed["checks"] if check["name"] == "certificate"]
    for deployment in certificate["result"]["deployments"]:
        leaf = deployment["chain"]["received_chain"][0]
        leaf["subject"] = leaf["issuer"] = "CN=" + HOSTILE
        leaf["san_dns_names"] = [HOSTILE]
    for finding in changed["findings"]:
        finding["title"] = HOSTILE
        finding["evidence"] = [HOSTILE]
    return changed


def documents() -> list[dict[str, Any]]:
    """The fleet in its JSON form, as a file holds it (the hostile server's strings replaced)."""
    forms: list[dict[str, Any]] = [json.loads(json.dumps(to_jsonable(result))) for result in results()]
    forms[-1] = _hostile(forms[-1])
    return forms
