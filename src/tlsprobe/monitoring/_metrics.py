"""Prometheus metrics of a scan, from its servers' summaries: the text exposition format, for a scrape or for
node_exporter's textfile collector (``write_metrics_file``).

Every per-server series has the labels ``target`` (``target_key``), ``host`` and ``port``, and findings one more,
``severity`` (four values): a handful of series per server, nothing that grows with what a server sends. The
metrics (a value that does not exist is left out, never faked):

- ``tlsprobe_reachable``: 1 when the server answered a TLS hello, else 0;
- ``tlsprobe_grade``: the grade as a number growing with quality (F is 1, A+ is 8; ``grade_rank``), and 0 when
  there is no grade (unreachable, or ``?``: a check the grade needs failed). 0 rather than NaN, so that an alert on
  ``tlsprobe_grade < 6`` also fires for a server that lost its grade: NaN compares false with everything;
- ``tlsprobe_certificate_expiry_timestamp_seconds``: when the earliest leaf certificate expires (Unix time), only
  for servers whose certificate was retrieved;
- ``tlsprobe_certificate_trusted``: 1 when every leaf chains to a trusted root, else 0; only with a certificate;
- ``tlsprobe_findings{severity=...}``: findings of each severity (zeros included);
- ``tlsprobe_scan_duration_seconds`` and ``tlsprobe_scan_connections``: what the server's scan took;
- ``tlsprobe_server_info{grade, highest_version}``: the letter grade and the newest version accepted, as labels
  (empty when unknown);
- ``tlsprobe_last_scan_timestamp_seconds``: when the scan started (Unix time), and ``tlsprobe_scan_info`` with
  the ``tlsprobe_version`` that made it.

``prometheus-client`` is imported only when metrics are made: importing tlsprobe does not need it.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._summary import SEVERITIES, ServerSummary, grade_rank
from tlsprobe._version import __version__

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import Collector

_LABELS = ("target", "host", "port")


def metrics_registry(summaries: Iterable[ServerSummary], *, scan_started_at: datetime.datetime) -> CollectorRegistry:
    """A registry holding the metrics of these servers (a target given twice counts once, the first time), apart
    from the process's default registry."""
    from prometheus_client import CollectorRegistry

    unique: dict[str, ServerSummary] = {}
    for summary in summaries:
        unique.setdefault(summary.target, summary)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_collector(list(_families(list(unique.values()), scan_started_at))))
    return registry


def metrics_text(summaries: Iterable[ServerSummary], *, scan_started_at: datetime.datetime) -> bytes:
    """The metrics in the Prometheus text exposition format."""
    from prometheus_client import generate_latest

    return generate_latest(metrics_registry(summaries, scan_started_at=scan_started_at))


def write_metrics_file(
    path: str | os.PathLike[str], summaries: Iterable[ServerSummary], *, scan_started_at: datetime.datetime
) -> None:
    """Write the metrics to ``path`` atomically: into a temporary file of the same directory, then renamed over
    ``path``, so that a collector reading it (node_exporter's textfile collector reads ``*.prom``) never sees half
    a file. The file is readable by all (0644): the collector usually runs as another user. A directory that
    cannot be written raises ``ConfigurationError``."""
    target = Path(path)
    data = metrics_text(summaries, scan_started_at=scan_started_at)
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise ConfigurationError(f"cannot write the metrics file {target}: {error.strerror or error}") from None
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise ConfigurationError(f"cannot write the metrics file {target}: {error.strerror or error}") from None


def _unix_time(moment: datetime.datetime) -> float:
    """Seconds since the epoch; a time without a zone is UTC, as every time tlsprobe writes."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)).timestamp()


def _collector(families: Sequence[Metric]) -> Collector:
    from prometheus_client.registry import Collector

    class Families(Collector):
        """Metric families computed once, handed out at every collection."""

        def collect(self) -> Iterator[Metric]:
            return iter(families)

    return Families()


def _families(summaries: Sequence[ServerSummary], scan_started_at: datetime.datetime) -> Iterator[Metric]:
    from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily

    def gauge(name: str, documentation: str, labels: Sequence[str] = _LABELS) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, documentation, labels=labels)

    reachable = gauge("tlsprobe_reachable", "1 when the server answered a TLS hello, else 0.")
    grade = gauge("tlsprobe_grade", "The letter grade as a number, F=1 to A+=8; 0 when not graded.")
    expiry = gauge(
        "tlsprobe_certificate_expiry_timestamp_seconds", "When the earliest leaf certificate expires (Unix time)."
    )
    trusted = gauge("tlsprobe_certificate_trusted", "1 when every leaf certificate chains to a trusted root.")
    findings = gauge("tlsprobe_findings", "Findings of each severity.", (*_LABELS, "severity"))
    duration = gauge("tlsprobe_scan_duration_seconds", "How long the server's scan took.")
    connections = gauge("tlsprobe_scan_connections", "Connections the server's scan opened.")
    info = InfoMetricFamily(
        "tlsprobe_server", "The letter grade and the newest protocol version accepted.", labels=_LABELS
    )
    for summary in summaries:
        labels = [summary.target, summary.host, str(summary.port)]
        reachable.add_metric(labels, 1 if summary.reachable else 0)
        grade.add_metric(labels, grade_rank(summary.grade) or 0)
        if summary.certificate_not_after is not None:
            expiry.add_metric(labels, _unix_time(summary.certificate_not_after))
        if summary.trusted is not None:
            trusted.add_metric(labels, 1 if summary.trusted else 0)
        for severity in SEVERITIES:
            findings.add_metric([*labels, severity], summary.findings.get(severity, 0))
        duration.add_metric(labels, summary.duration_s)
        connections.add_metric(labels, summary.connections)
        info.add_metric(labels, {"grade": summary.grade or "", "highest_version": summary.highest_version or ""})
    yield from (reachable, grade, expiry, trusted, findings, duration, connections, info)
    last_scan = GaugeMetricFamily(
        "tlsprobe_last_scan_timestamp_seconds", "When the scan started (Unix time).", value=_unix_time(scan_started_at)
    )
    yield last_scan
    yield InfoMetricFamily("tlsprobe_scan", "The tlsprobe that made the scan.", value={"tlsprobe_version": __version__})
