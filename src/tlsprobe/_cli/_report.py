"""``tlsprobe report SOURCE -o FILE``: a scan as one self-contained HTML page.

SOURCE is a file written by ``--json-out`` or ``--jsonl``, or a scan in the results store (``latest``, an id, a
date...). A scan from the store gets trends too: the grades and findings of the earlier scans of its target list.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Final

from tlsprobe._cli._errors import report_input_error
from tlsprobe._cli._options import UsageParser
from tlsprobe._cli._sources import default_store_location, open_source
from tlsprobe._exceptions import ConfigurationError, TLSProbeError

if TYPE_CHECKING:
    from tlsprobe.report import TrendPoint
    from tlsprobe.store import ResultStore, ScanRecord

TREND_SCANS: Final = 30
"""How many scans of the list the trends go back, the reported one included."""

_EPILOG = """\
SOURCE is a file written by --json-out or --jsonl, or a scan in the store: latest, previous, a scan id (or its
first characters), a date (YYYY-MM-DD: the last scan that day, UTC) or an ISO time (the last scan at or before
it). A scan from the store also gets trends: grades and findings over the earlier scans of the same target list.

The page needs no network and no server: open it from disk in any browser, or print it.

exit codes:
  0  the report was written
  2  usage or input error (nothing is written)
"""


def build_report_parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog="tlsprobe report",
        description="Write a scan as one self-contained HTML page: a fleet overview, then every server.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", metavar="SOURCE", help="the scan: a file, or a scan in the store")
    parser.add_argument("-o", "--output", metavar="FILE", required=True, help="the HTML file to write")
    parser.add_argument(
        "--store",
        metavar="LOCATION",
        help="the results store: an SQLite file or a postgresql:// URL (default: $TLSPROBE_STORE, else "
        f"{default_store_location()})",
    )
    parser.add_argument("--title", metavar="TEXT", help="the page's title (default: names the scan)")
    return parser


def run_report(arguments: Sequence[str]) -> int:
    """The ``report`` subcommand; returns its exit status."""
    options = build_report_parser().parse_args(list(arguments))
    from tlsprobe.report import write_html_report

    try:
        with _store_when_needed(options) as store:
            source = open_source(options.source, store)
            from_store = store is not None and not os.path.exists(options.source)
            trends = _trends(store, store.resolve(options.source)) if from_store and store is not None else None
            write_html_report(
                options.output,
                source.servers,
                title=options.title or f"TLS report: {source.label}",
                generated_at=datetime.datetime.now(datetime.UTC),
                trends=trends,
                source=source.label,
            )
    except TLSProbeError as error:
        return report_input_error(f"{options.source}: {error}")
    except OSError as error:
        return report_input_error(f"cannot write {options.output}: {error.strerror or error}")
    return 0


def _trends(store: ResultStore, record: ScanRecord) -> list[TrendPoint]:
    """The scans of the record's list up to it (finished ones, and itself), oldest first."""
    from tlsprobe.report import trend_point

    earlier = [
        scan
        for scan in store.scans(list_key=record.list_key, statuses=("completed", "interrupted"), limit=TREND_SCANS * 4)
        if scan.started_at <= record.started_at and scan.scan_id != record.scan_id
    ][: TREND_SCANS - 1]
    scans = [record, *earlier][::-1]
    return [trend_point(scan.scan_id, scan.started_at, store.summaries(scan.scan_id)) for scan in scans]


@contextlib.contextmanager
def _store_when_needed(options: argparse.Namespace) -> Iterator[ResultStore | None]:
    """The store, opened only when the source is not a file."""
    if options.store is None and os.path.exists(options.source):
        yield None
        return
    from tlsprobe.store import open_store

    location = options.store or default_store_location()
    if options.store is None and "://" not in location and not os.path.exists(location):
        raise ConfigurationError(f"no such file, and no store at {location} to look a scan up in (--store)")
    with open_store(location) as store:
        yield store
