"""Scale-out on Ray: one target list scanned by many machines, with the politeness of one.

::

    from tlsprobe.distributed import DistributedScanner

    scanner = DistributedScanner(ScanConfig(), address="auto")  # or "host:port", "ray://...", "local", "local:4"
    async with scanner.scan(targets) as results:  # the same stream as Scanner.scan gives
        async for result in results:
            ...

The driver resolves every target and puts it in a bucket keyed by its address (a rendezvous hash, many more
buckets than workers), so that every name and port of one IP is scanned by one worker, whose ``Scanner`` holds the
per-address budgets: at most ``Limits.max_connections_per_server`` open to an IP and port, and
``Limits.max_connections_per_ip`` to an IP, across the whole cluster. Buckets stream their results back as each
server finishes; a worker that dies has its unfinished targets run again elsewhere, and each target's result is
given out once. Needs ``pip install 'tlsprobe[ray]'``; importing this module does not import Ray.
"""

from tlsprobe.distributed._buckets import bucket_count, bucket_of
from tlsprobe.distributed._driver import DistributedScanner
from tlsprobe.distributed._errors import ClusterError
from tlsprobe.distributed._planning import Plan, PlannedTarget, ScanUnit, plan_scan
from tlsprobe.distributed._worker import BucketWorker, WorkerProcess, WorkerSnapshot

__all__ = [
    "BucketWorker",
    "ClusterError",
    "DistributedScanner",
    "Plan",
    "PlannedTarget",
    "ScanUnit",
    "WorkerProcess",
    "WorkerSnapshot",
    "bucket_count",
    "bucket_of",
    "plan_scan",
]
