"""``tlsprobe diff OLD NEW``: what changed between two scans, each a JSON/JSONL file or a scan in the store."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from tlsprobe._cli._sources import default_store_location, open_existing_store, open_source
from tlsprobe._exceptions import ConfigurationError, TLSProbeError

if TYPE_CHECKING:
    from tlsprobe.store import ResultStore

EXIT_SAME_OR_BETTER = 0
EXIT_WORSE = 1
EXIT_USAGE = 2

_EPILOG = """\
each side is a file written by --json-out or --jsonl, or a scan in the store: latest, previous, a scan id (or
its first characters), a date (YYYY-MM-DD: the last scan that day, UTC) or an ISO time (the last scan at or
before it).

exit codes:
  0  nothing got worse
  1  something got worse: a server unreachable, a deprecated version or weak suite enabled, a grade down, a
     new finding, a certificate expiring, expired or no longer trusted
  2  usage or input error
"""


def build_diff_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tlsprobe diff",
        description="Show what changed between two scans, per server, worst first.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("old", metavar="OLD", help="the earlier scan: a file, or a scan in the store")
    parser.add_argument("new", metavar="NEW", help="the later scan: a file, or a scan in the store")
    parser.add_argument(
        "--store",
        metavar="LOCATION",
        help="the results store: an SQLite file or a postgresql:// URL (default: $TLSPROBE_STORE, else "
        f"{default_store_location()})",
    )
    parser.add_argument(
        "--expiry-days",
        type=int,
        default=30,
        metavar="N",
        help="report certificates that expire within N days of the new scan (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the changes as JSON instead of text")
    return parser


def run_diff(arguments: Sequence[str]) -> int:
    """The ``diff`` subcommand; returns its exit code."""
    parser = build_diff_parser()
    options = parser.parse_args(arguments)
    if options.expiry_days < 0:
        return _usage_error("--expiry-days must be 0 or more")
    from tlsprobe.monitoring import diff_scans

    try:
        with _store_when_needed(options) as store:
            old, new = open_source(options.old, store), open_source(options.new, store)
            diff = diff_scans(old.servers, new.servers, expiry_days=options.expiry_days)
    except TLSProbeError as error:
        return _usage_error(str(error))
    if options.json:
        print(json.dumps(diff.to_jsonable(), indent=2, ensure_ascii=False))
    else:
        from tlsprobe._cli._diff_render import render_diff

        colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        print(f"Comparing {old.label} with {new.label}")
        print(render_diff(diff, colour=colour, width=shutil.get_terminal_size().columns))
    return EXIT_WORSE if diff.worse else EXIT_SAME_OR_BETTER


@contextlib.contextmanager
def _store_when_needed(options: argparse.Namespace) -> Iterator[ResultStore | None]:
    """The store, opened only when a side is not a file (a pair of files needs no database)."""
    if options.store is None and all(os.path.exists(side) for side in (options.old, options.new)):
        yield None
        return
    location = options.store or default_store_location()
    if options.store is None and "://" not in location and not os.path.exists(location):
        missing = options.old if not os.path.exists(options.old) else options.new
        raise ConfigurationError(f"{missing}: no such file, and no store at {location} to look a scan up in (--store)")
    with open_existing_store(location) as store:
        yield store


def _usage_error(message: str) -> int:
    print(f"tlsprobe diff: {message}", file=sys.stderr)
    return EXIT_USAGE
