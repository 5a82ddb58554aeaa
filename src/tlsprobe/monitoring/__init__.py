"""Fleet monitoring, the pure parts: what changed between two scans (``diff_scans``), Prometheus metrics of a
scan (``metrics_text``, ``write_metrics_file``), and a webhook sender (``post_json``).

They read scans in their JSON form (``to_jsonable`` of each ``ServerScanResult``) and summaries of it
(``tlsprobe._model._summary``), so that scans read back from files and from the results store are treated alike.
"""

from tlsprobe.monitoring._changes import Change, ChangeKind, Direction, ScanDiff, ScanSide, TargetDiff
from tlsprobe.monitoring._diff import diff_scans, folded_changes
from tlsprobe.monitoring._metrics import metrics_registry, metrics_text, write_metrics_file
from tlsprobe.monitoring._rules import suite_weaknesses
from tlsprobe.monitoring._webhook import WebhookDelivery, post_json

__all__ = [
    "Change",
    "ChangeKind",
    "Direction",
    "ScanDiff",
    "ScanSide",
    "TargetDiff",
    "WebhookDelivery",
    "diff_scans",
    "folded_changes",
    "metrics_registry",
    "metrics_text",
    "post_json",
    "suite_weaknesses",
    "write_metrics_file",
]
