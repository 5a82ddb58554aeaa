"""``tlsprobe history TARGET``: one server's grade, findings and certificate over the scans in the store."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tlsprobe._cli._escape import escape
from tlsprobe._cli._sources import default_store_location, open_existing_store
from tlsprobe._exceptions import TLSProbeError
from tlsprobe._model._config import ServerTarget
from tlsprobe._model._json import to_jsonable
from tlsprobe._model._summary import SEVERITIES, target_key

if TYPE_CHECKING:
    from tlsprobe.store import HistoryEntry

EXIT_OK = 0
EXIT_USAGE = 2
_VERSION_NAMES = {
    "ssl2": "SSL 2.0",
    "ssl3": "SSL 3.0",
    "tls1_0": "TLS 1.0",
    "tls1_1": "TLS 1.1",
    "tls1_2": "TLS 1.2",
    "tls1_3": "TLS 1.3",
}


def build_history_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tlsprobe history",
        description="Show one server's grade, versions, certificate and findings over past scans, newest first.",
    )
    parser.add_argument("target", metavar="TARGET", help="the target as it was scanned (host:port, smtp://host...)")
    parser.add_argument(
        "--store",
        metavar="LOCATION",
        help="the results store: an SQLite file or a postgresql:// URL (default: $TLSPROBE_STORE, else "
        f"{default_store_location()})",
    )
    parser.add_argument("--limit", type=int, default=30, metavar="N", help="scans shown (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the history as JSON")
    return parser


def run_history(arguments: Sequence[str]) -> int:
    """The ``history`` subcommand; returns its exit code."""
    options = build_history_parser().parse_args(arguments)
    if options.limit < 1:
        return _usage_error("--limit must be 1 or more")
    try:
        # A key as the summary and `diff` print it (with " sni=..." or " no-sni") is taken as it is.
        key = options.target if " " in options.target else target_key(to_jsonable(ServerTarget.parse(options.target)))
        with open_existing_store(options.store or default_store_location()) as store:
            entries = store.history(key, limit=options.limit)
    except TLSProbeError as error:
        return _usage_error(str(error))
    if options.json:
        print(json.dumps({"target": key, "scans": to_jsonable(entries)}, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not entries:
        print(f"No scan of {escape(key)} in the store.")
        return EXIT_OK
    print(f"History of {escape(key)} (newest first)")
    print(_row("Scan", "Started (UTC)", "Grade", "Versions", "Certificate", "Findings C/H/M/L", "Worst"))
    for entry in entries:
        print(_entry_row(entry))
    return EXIT_OK


def _entry_row(entry: HistoryEntry) -> str:
    if not entry.reachable:
        return _row(entry.scan_id[:8], _when(entry.started_at), "-", "unreachable", "-", "-", "")
    versions = _version_range(entry.versions)
    certificate = "-"
    if entry.certificate_not_after is not None:
        days = (entry.certificate_not_after - entry.started_at).days
        certificate = f"{entry.certificate_not_after:%Y-%m-%d} ({days} d)"
    counts = "/".join(str(entry.findings.get(severity, 0)) for severity in SEVERITIES)
    return _row(
        entry.scan_id[:8],
        _when(entry.started_at),
        entry.grade or "-",
        versions,
        certificate,
        counts,
        escape(entry.worst_finding or ""),
    )


def _version_range(versions: Sequence[str]) -> str:
    """``TLS 1.2``, ``TLS 1.0-1.3``, ``SSL 3.0-TLS 1.2``; a gap is spelled out (``TLS 1.0, TLS 1.2``)."""
    if not versions:
        return "-"
    names = [_VERSION_NAMES.get(version, version) for version in versions]
    order = list(_VERSION_NAMES)
    positions = [order.index(version) if version in order else -1 for version in versions]
    contiguous = -1 not in positions and positions == list(range(positions[0], positions[0] + len(positions)))
    if len(names) == 1 or not contiguous:
        return ", ".join(names)
    first, last = names[0], names[-1]
    if first.split()[0] == last.split()[0]:
        last = last.split()[1]
    return f"{first}-{last}"


def _when(moment: datetime.datetime) -> str:
    return f"{moment.astimezone(datetime.UTC):%Y-%m-%d %H:%M}"


def _row(*cells: str) -> str:
    widths = (8, 16, 5, 16, 20, 16)
    padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=False)]
    return "  ".join([*padded, *cells[len(widths) :]]).rstrip()


def _usage_error(message: str) -> int:
    print(f"tlsprobe history: {message}", file=sys.stderr)
    return EXIT_USAGE
