"""Prometheus metrics of scan summaries, read back with prometheus-client's own parser: the values, the labels
(escaped in the text, exact once parsed), and the atomic file for node_exporter's textfile collector."""

from __future__ import annotations

import ast
import datetime
import math
import os
import stat
from collections.abc import Iterable
from pathlib import Path

import attrs
import pytest
from prometheus_client.parser import text_string_to_metric_families

import tlsprobe.monitoring._metrics
from tests.monitoring.scans import MODERN_SUITES, Config, leaf, scan
from tlsprobe import TLSVersion, __version__
from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._summary import ServerSummary, summarize
from tlsprobe.monitoring import metrics_registry, metrics_text, write_metrics_file

STARTED = datetime.datetime(2026, 11, 30, 2, 30, tzinfo=datetime.UTC)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: bytes) -> Samples:
    """Every sample, by name and sorted labels, as prometheus-client's parser reads the text."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text.decode("utf-8"))
        for sample in family.samples
    }


def labels(summary: ServerSummary, **more: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"target": summary.target, "host": summary.host, "port": str(summary.port), **more}.items()))


@pytest.fixture(scope="module")
def fleet(ca_directory: Path) -> list[ServerSummary]:
    """A good server, a weaker one (TLS 1.0, untrusted, certificate expiring) and one that did not answer."""
    weaker = Config(
        versions=frozenset({TLSVersion.TLS1_0, TLSVersion.TLS1_2}),
        suites=(*MODERN_SUITES, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
        certificate=leaf(days_left=12),
        trusted=False,
    )
    return [
        summarize(scan(Config(), ca_directory)),  # its certificate is for server.test, the scripted host
        summarize(scan(weaker, ca_directory, host="weak.test")),
        summarize(scan(Config(reachable=False), ca_directory, host="down.test")),
    ]


def test_every_metric_reads_back_with_its_value(fleet: list[ServerSummary]) -> None:
    good, weak, down = fleet
    read = samples(metrics_text(fleet, scan_started_at=STARTED))
    for summary in fleet:
        assert read["tlsprobe_reachable", labels(summary)] == (1 if summary.reachable else 0)
        assert read["tlsprobe_scan_duration_seconds", labels(summary)] == summary.duration_s
        assert read["tlsprobe_scan_connections", labels(summary)] == summary.connections
        for severity, count in summary.findings.items():
            assert read["tlsprobe_findings", labels(summary, severity=severity)] == count
    assert read["tlsprobe_grade", labels(good)] == 7  # A
    assert read["tlsprobe_grade", labels(weak)] == 1  # F: untrusted
    assert read["tlsprobe_grade", labels(down)] == 0  # no grade
    assert good.certificate_not_after is not None and weak.certificate_not_after is not None
    assert read["tlsprobe_certificate_expiry_timestamp_seconds", labels(good)] == good.certificate_not_after.timestamp()
    assert read["tlsprobe_certificate_expiry_timestamp_seconds", labels(weak)] == weak.certificate_not_after.timestamp()
    assert ("tlsprobe_certificate_expiry_timestamp_seconds", labels(down)) not in read  # left out, not faked
    assert read["tlsprobe_certificate_trusted", labels(good)] == 1
    assert read["tlsprobe_certificate_trusted", labels(weak)] == 0
    assert ("tlsprobe_certificate_trusted", labels(down)) not in read
    assert sum(read["tlsprobe_findings", labels(weak, severity=s)] for s in weak.findings) >= 2
    assert read["tlsprobe_server_info", labels(good, grade="A", highest_version="tls1_3")] == 1
    assert read["tlsprobe_server_info", labels(down, grade="?", highest_version="")] == 1  # not graded
    assert read["tlsprobe_last_scan_timestamp_seconds", ()] == STARTED.timestamp()
    assert read["tlsprobe_scan_info", (("tlsprobe_version", __version__),)] == 1


def test_the_series_per_server_stay_few(fleet: list[ServerSummary]) -> None:
    read = samples(metrics_text(fleet, scan_started_at=STARTED))
    per_server = [key for key in read if ("target", fleet[0].target) in key[1]]
    assert len(per_server) <= 16
    label_names = {name for _, pairs in read for name, _ in pairs}
    assert label_names == {"target", "host", "port", "severity", "grade", "highest_version", "tlsprobe_version"}


def test_a_server_given_twice_counts_once(fleet: list[ServerSummary]) -> None:
    good = fleet[0]
    later = attrs.evolve(good, duration_s=99.0)
    read = samples(metrics_text([good, later], scan_started_at=STARTED))
    assert read["tlsprobe_scan_duration_seconds", labels(good)] == good.duration_s


@pytest.mark.parametrize("host", ['quo"te', "back\\slash", "new\nline", 'all\\"\n"\\', "ünïcødé\u202e"])
def test_label_values_are_escaped_in_the_text_and_exact_once_parsed(fleet: list[ServerSummary], host: str) -> None:
    summary = attrs.evolve(fleet[0], host=host, target=f"{host}:443")
    text = metrics_text([summary], scan_started_at=STARTED)
    assert b"\nnew\nline" not in text  # a raw newline would end the sample line
    read = samples(text)
    assert read["tlsprobe_reachable", labels(summary)] == 1
    assert {pairs for name, pairs in read if name == "tlsprobe_reachable"} == {labels(summary)}


def test_a_scan_of_no_servers_still_says_when_it_ran() -> None:
    read = samples(metrics_text([], scan_started_at=STARTED))
    assert read == {
        ("tlsprobe_last_scan_timestamp_seconds", ()): STARTED.timestamp(),
        ("tlsprobe_scan_info", (("tlsprobe_version", __version__),)): 1.0,
    }
    naive = STARTED.replace(tzinfo=None)  # taken as UTC, as tlsprobe writes every time
    assert samples(metrics_text([], scan_started_at=naive)) == read


def test_the_registry_is_apart_from_the_default_one(fleet: list[ServerSummary]) -> None:
    from prometheus_client import REGISTRY, generate_latest

    registry = metrics_registry(fleet, scan_started_at=STARTED)
    assert registry is not REGISTRY
    assert generate_latest(registry) == generate_latest(registry)  # collected again, the same
    assert b"tlsprobe_" not in generate_latest(REGISTRY)


def test_no_value_is_nan(fleet: list[ServerSummary]) -> None:
    assert not any(math.isnan(value) for value in samples(metrics_text(fleet, scan_started_at=STARTED)).values())


# --- the file ------------------------------------------------------------------------------------------------------


def leftovers(directory: Path, keep: Iterable[str]) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name not in set(keep))


def test_the_file_is_written_whole_readable_by_all_and_replaces_the_old_one(
    tmp_path: Path, fleet: list[ServerSummary]
) -> None:
    path = tmp_path / "tlsprobe.prom"
    path.write_bytes(b"# an older scan\n")
    os.chmod(path, 0o600)
    write_metrics_file(path, fleet, scan_started_at=STARTED)
    assert path.read_bytes() == metrics_text(fleet, scan_started_at=STARTED)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert leftovers(tmp_path, ["tlsprobe.prom"]) == []  # no temporary file left behind
    write_metrics_file(str(path), fleet[:1], scan_started_at=STARTED)
    assert samples(path.read_bytes()).keys() == samples(metrics_text(fleet[:1], scan_started_at=STARTED)).keys()


def test_a_directory_that_cannot_be_written_is_one_clear_error(tmp_path: Path, fleet: list[ServerSummary]) -> None:
    with pytest.raises(ConfigurationError, match=r"^cannot write the metrics file .*missing/tlsprobe\.prom: "):
        write_metrics_file(tmp_path / "missing" / "tlsprobe.prom", fleet, scan_started_at=STARTED)
    target = tmp_path / "a-directory.prom"
    target.mkdir()  # os.replace cannot put a file over a directory: the temporary file must go
    with pytest.raises(ConfigurationError, match="cannot write the metrics file"):
        write_metrics_file(target, fleet, scan_started_at=STARTED)
    assert leftovers(tmp_path, ["a-directory.prom"]) == []


def test_prometheus_client_is_imported_only_when_metrics_are_made() -> None:
    """At module level only under TYPE_CHECKING: importing tlsprobe.monitoring must not need it."""
    tree = ast.parse(Path(tlsprobe.monitoring._metrics.__file__).read_text(encoding="utf-8"))
    top_level = [
        node
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(
            name.startswith("prometheus_client")
            for name in ([node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names])
        )
    ]
    assert top_level == []
