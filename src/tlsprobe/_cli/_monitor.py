"""``tlsprobe monitor``: scan a target list, record it in the store, and report what got worse since the
previous scan of the same list; optionally alert a webhook and write Prometheus metrics.

Made to run unattended (cron, a systemd timer, a Kubernetes CronJob): the exit code says whether anything got
worse, the store keeps every result as it arrives (an interrupted run keeps what it scanned, marked
interrupted, and the next run compares with the last completed one).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import anyio

from tlsprobe._cli._errors import InputError, quoted, report_input_error, say
from tlsprobe._cli._exit import EXIT_FAILED, EXIT_OK
from tlsprobe._cli._options import build_parser
from tlsprobe._cli._outputs import OutputFailed, check_output_path, write_to
from tlsprobe._cli._recording import Recording, list_key
from tlsprobe._cli._scan_command import scan, scan_inputs
from tlsprobe._cli._sources import default_store_location
from tlsprobe._cli._text import colour_wanted, width_of
from tlsprobe._exceptions import ConfigurationError, TLSProbeError
from tlsprobe._version import __version__
from tlsprobe.store import open_store

if TYPE_CHECKING:
    from tlsprobe.monitoring import ScanDiff
    from tlsprobe.store import ResultStore, ScanRecord, ScanStatus

EXIT_NOTHING_WORSE: Final = 0
EXIT_WORSE: Final = 1
EXIT_USAGE: Final = 2
EXIT_ALERT_UNDELIVERED: Final = 3

MONITOR_EPILOG: Final = """\
The scan is recorded in the store and compared with the previous completed scan of the same target list (the
same --name, or without one the same set of targets).

exit codes:
  0  nothing got worse (or this is the list's first scan)
  1  something got worse: a server unreachable, a deprecated version or weak suite enabled, a grade down, a
     new finding, a certificate expiring within --expiry-days, expired or no longer trusted
  2  usage or input error
  3  something got worse and the webhook could not be told (after its retries)
"""

_COMPLETED: Final[tuple[ScanStatus, ...]] = ("completed",)


def add_monitor_options(parser: argparse.ArgumentParser) -> None:
    """The options ``monitor`` adds to the scan's (which has ``--store`` and ``--name``)."""
    monitoring = parser.add_argument_group("monitoring")
    monitoring.add_argument(
        "--expiry-days",
        type=int,
        default=30,
        metavar="N",
        help="report certificates that expire within N days (default: %(default)s)",
    )
    monitoring.add_argument(
        "--webhook",
        metavar="URL",
        help="POST the changes as JSON to URL when something got worse (http or https; 3 attempts)",
    )
    monitoring.add_argument(
        "--webhook-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="time allowed for each webhook attempt (default: %(default)s)",
    )
    monitoring.add_argument(
        "--metrics-out",
        metavar="FILE",
        help="write the scan's metrics to FILE in the Prometheus text format (for node_exporter's textfile "
        "collector), replacing it atomically",
    )
    monitoring.add_argument("--diff-json", action="store_true", help="print the changes as JSON instead of text")


def build_monitor_parser() -> argparse.ArgumentParser:
    parser = build_parser("tlsprobe monitor")
    parser.description = (
        "Scan a target list, record it in the store, and report what got worse since the previous scan of the "
        "same list."
    )
    parser.epilog = MONITOR_EPILOG
    add_monitor_options(parser)
    return parser


def _check_monitor_options(options: argparse.Namespace) -> None:
    if options.expiry_days < 0:
        raise ConfigurationError("--expiry-days must be 0 or more")
    if not 0 < options.webhook_timeout <= 3600:
        raise ConfigurationError("--webhook-timeout must be more than 0 and at most 3600 seconds")
    if options.webhook is not None and not options.webhook.startswith(("http://", "https://")):
        raise ConfigurationError(f"--webhook must be an http:// or https:// URL, not {quoted(options.webhook)}")
    if options.metrics_out is not None:
        check_output_path(options.metrics_out, "--metrics-out")


def run_monitor(arguments: Sequence[str]) -> int:
    """The ``monitor`` subcommand: scan, record, compare, alert; returns the exit status."""
    parser = build_monitor_parser()
    options = parser.parse_args(list(arguments))
    try:
        _check_monitor_options(options)
    except (ConfigurationError, InputError, OutputFailed) as error:
        parser.error(str(error))
    quiet = options.quiet
    options.quiet = True  # the scan reports nothing per server: the changes are the report
    try:
        inputs = scan_inputs(parser, options)
        key = list_key(inputs.targets, options.name)
        store = open_store(options.store or default_store_location())
    except (InputError, TLSProbeError) as error:
        return report_input_error(str(error))
    with store:
        try:
            previous = _previous_scan(store, key)
            started_at = datetime.datetime.now(datetime.UTC)
            scan_id = store.begin_scan(
                list_key=key, label=options.name, started_at=started_at, target_count=inputs.targets.total
            )
        except TLSProbeError as error:
            return report_input_error(str(error))
        recording = Recording(store=store, scan_id=scan_id, list_key=key)
        status = scan(inputs, options, recording=recording)
        if status not in (EXIT_OK, EXIT_FAILED):  # interrupted, an output closed or failed, bad targets
            return status
        try:
            return _report_changes(store, scan_id, previous, options, quiet=quiet, started_at=started_at)
        except TLSProbeError as error:
            return report_input_error(str(error))


def _previous_scan(store: ResultStore, key: str) -> ScanRecord | None:
    """The latest completed scan of the list, before this run starts."""
    return next(iter(store.scans(list_key=key, statuses=_COMPLETED, limit=1)), None)


def _report_changes(
    store: ResultStore,
    scan_id: str,
    previous: ScanRecord | None,
    options: argparse.Namespace,
    *,
    quiet: bool,
    started_at: datetime.datetime,
) -> int:
    from tlsprobe.monitoring import diff_scans, write_metrics_file

    if options.metrics_out is not None:
        try:
            write_metrics_file(options.metrics_out, store.summaries(scan_id), scan_started_at=started_at)
        except OSError as error:
            say(f"cannot write --metrics-out {quoted(options.metrics_out)}: {error.strerror or error}")
            return EXIT_USAGE
    if previous is None:
        if not quiet:
            print(f"First scan of this list recorded (scan {scan_id[:12]}); the next run compares with it.")
        return EXIT_NOTHING_WORSE
    diff = diff_scans(store.servers(previous.scan_id), store.servers(scan_id), expiry_days=options.expiry_days)
    if not quiet or diff.worse:
        _print_diff(diff, previous, options)
    if not diff.worse:
        return EXIT_NOTHING_WORSE
    if options.webhook is not None and not _alert(options, store, scan_id, previous, diff):
        return EXIT_ALERT_UNDELIVERED
    return EXIT_WORSE


def _print_diff(diff: ScanDiff, previous: ScanRecord, options: argparse.Namespace) -> None:
    if options.diff_json:
        write_to(sys.stdout, json.dumps(diff.to_jsonable(), indent=2, ensure_ascii=False) + "\n", "stdout")
        return
    from tlsprobe._cli._diff_render import render_diff

    header = f"Compared with the scan of {previous.started_at:%Y-%m-%d %H:%M} UTC ({previous.scan_id[:12]})\n"
    text = render_diff(diff, colour=colour_wanted(sys.stdout), width=width_of(sys.stdout))
    write_to(sys.stdout, header + text + "\n", "stdout")


def _alert(options: argparse.Namespace, store: ResultStore, scan_id: str, previous: ScanRecord, diff: ScanDiff) -> bool:
    """POST the changes to the webhook; False (and one line on stderr) when it could not be delivered."""
    from tlsprobe.monitoring import post_json

    record = store.resolve(scan_id)
    payload = {
        "event": "tlsprobe.monitor.worse",
        "tlsprobe_version": __version__,
        "list": record.list_key,
        "scan_id": scan_id,
        "previous_scan_id": previous.scan_id,
        "changes": diff.to_jsonable(),
    }
    delivery = anyio.run(functools.partial(post_json, options.webhook, payload, timeout_s=options.webhook_timeout))
    if not delivery.delivered:
        say(f"the webhook was not told after {delivery.attempts} attempts: {delivery.error}")
    return delivery.delivered
