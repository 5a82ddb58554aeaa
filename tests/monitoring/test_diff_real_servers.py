"""``diff_scans`` and the metrics on scans of real servers (Python ssl on loopback, the whole default scan): a
server scanned twice shows no change, and a server that lost TLS 1.3 shows it, worse."""

from __future__ import annotations

import datetime
import ssl
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tlsprobe import ScanConfig, ServerTarget, scan_server
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._summary import summarize
from tlsprobe.checks import DEFAULT_CHECKS, CertificateCheck, Check
from tlsprobe.monitoring import ChangeKind, Direction, diff_scans, metrics_text
from tlsprobe.testing import LocalTLSServer, TestPKI

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def checks(pki: TestPKI) -> list[Check[Any]]:
    """The default checks, the certificate judged against the test CA too."""
    return [CertificateCheck(ca_file=pki.ca_cert) if c.name == "certificate" else c for c in DEFAULT_CHECKS]


async def scan_json(server: LocalTLSServer, pki: TestPKI) -> dict[str, Any]:
    target = ServerTarget(host="localhost", port=server.port, ip=server.host)
    result = await scan_server(target, checks(pki), config=ScanConfig())
    return to_jsonable(result)  # type: ignore[no-any-return]


async def test_a_real_server_scanned_twice_shows_no_change_and_losing_tls13_shows(test_pki: TestPKI) -> None:
    with LocalTLSServer(certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key) as modern:
        first = await scan_json(modern, test_pki)
        second = await scan_json(modern, test_pki)
        port = modern.port
    with LocalTLSServer(
        certfile=test_pki.rsa_chain, keyfile=test_pki.rsa_key, maximum_version=ssl.TLSVersion.TLSv1_2
    ) as older:
        downgraded = await scan_json(older, test_pki)
    assert first["connectivity"]["status"] == "completed"
    assert diff_scans([first], [second]).targets == ()  # nothing in a scan varies from one run to the next
    downgraded["target"]["port"] = port  # the same server, reconfigured (it listened on another port)
    diff = diff_scans([first], [downgraded])
    (target,) = diff.targets
    disabled = [c for c in target.changes if c.kind is ChangeKind.VERSION_DISABLED]
    assert [(c.subject, c.direction) for c in disabled] == [("tls1_3", Direction.WORSE)]
    assert diff.worse
    assert not any(c.kind is ChangeKind.CHECK_FAILED for c in target.changes)

    summaries = [summarize(server) for server in (first,)]
    text = metrics_text(summaries, scan_started_at=datetime.datetime.now(datetime.UTC)).decode()
    values = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples if s.labels}
    assert values["tlsprobe_reachable"] == 1
    assert values["tlsprobe_scan_connections"] == summaries[0].connections > 0
