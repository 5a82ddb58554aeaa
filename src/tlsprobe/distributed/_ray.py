"""Everything that touches Ray: connecting, the worker actors, their result streams, and which failures mean that
a worker died (its unfinished targets are run again) rather than that tlsprobe failed.

Imported only when a distributed scan starts (``tlsprobe.distributed`` imports it lazily), so that neither
``import tlsprobe`` nor the command line's start-up pays for Ray.

Each worker is an async actor holding one ``BucketWorker``, one per CPU of the cluster, spread over the nodes.
A bucket is one call of its async generator method ``scan_unit``, which Ray streams back result by result (a
streaming generator); the stream's backpressure stops the worker's scanner when the driver reads no further.
Ray restarts a worker that dies (``max_restarts``) but retries none of its calls (``max_task_retries=0``): the
driver re-queues only the targets of the bucket it has not received, to whichever worker is free.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Sequence
from typing import Any, Final

import attrs
import ray
import ray.exceptions
from ray.actor import ActorHandle

from tlsprobe._exceptions import TLSProbeError
from tlsprobe._model._config import ScanConfig
from tlsprobe.checks._base import Check
from tlsprobe.distributed._errors import ClusterError
from tlsprobe.distributed._planning import ScanUnit
from tlsprobe.distributed._worker import BucketWorker, WorkerProcess

CONNECT_CHECK_S: Final = 5.0
"""How long the cluster's address may take to accept a TCP connection before the scan gives up."""
WORKER_RESTARTS: Final = 4
"""How often Ray starts a worker again after its process died, before it stays dead."""

WORKER_DIED: Final[tuple[type[Exception], ...]] = (
    ray.exceptions.RayActorError,  # the worker's process died, or is restarting
    ray.exceptions.WorkerCrashedError,
    ray.exceptions.NodeDiedError,
    ray.exceptions.LocalRayletDiedError,
    ray.exceptions.ObjectLostError,  # a result lost with its node before the driver read it
    ray.exceptions.OutOfMemoryError,  # Ray killed the worker for memory
)
"""Failures after which the targets a worker had not finished are run again, elsewhere."""

RayTaskError: Final = ray.exceptions.RayTaskError
"""A worker's own exception (raised by tlsprobe's code in it), as opposed to its death."""


class ScanActor(BucketWorker):
    """The Ray actor: a ``BucketWorker`` that can also say which node it runs on."""

    async def describe(self, worker: int) -> WorkerProcess:
        """Where this worker runs."""
        return WorkerProcess(worker=worker, pid=os.getpid(), node_id=ray.get_runtime_context().get_node_id())


@attrs.frozen(kw_only=True)
class RaySession:
    """A connection to a cluster, and whether this scan made it (and so ends it)."""

    owned: bool
    """True when the scan connected (or started a local cluster) and must disconnect when it ends."""

    def close(self) -> None:
        """Disconnect, when the scan connected (a local cluster it started stops)."""
        if self.owned and ray.is_initialized():
            ray.shutdown()


def connect(address: str | None) -> RaySession:
    """Connect to the cluster at ``address``, unless this process already is connected (then that cluster is used).

    ``address``: ``auto`` (or None: the cluster ``ray start`` runs on this machine, or ``RAY_ADDRESS``), a head's
    ``host:port``, ``ray://host:port`` (Ray Client, which needs ``ray[client]``), ``local`` (start a cluster in this
    process with every CPU of this machine) or ``local:N`` (with N CPUs).

    :raises ClusterError: Ray could not connect or start, in one line.
    """
    if ray.is_initialized():
        return RaySession(owned=False)
    quiet: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    target = address or "auto"
    try:
        if target == "local" or target.startswith("local:"):
            cpus = _local_cpus(target)
            ray.init(num_cpus=cpus, include_dashboard=False, **quiet)
        else:
            if not target.startswith("ray://"):
                _require_listening(target)
            ray.init(address=target, **quiet)
    except ClusterError:
        raise
    except Exception as error:  # Ray's own: ConnectionError, ValueError, RuntimeError... one line for people
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ClusterError(f"cannot use the Ray cluster at {target}: {reason}") from None
    return RaySession(owned=True)


def _require_listening(address: str) -> None:
    """Fail at once when nothing listens at the cluster's address: Ray itself would retry for minutes."""
    if address == "auto":
        from ray._private.services import canonicalize_bootstrap_address  # where ray.init looks for "auto"

        try:
            found = canonicalize_bootstrap_address(address)
        except ConnectionError:
            found = None
        if found is None:
            raise ClusterError(
                "no Ray cluster runs on this machine and RAY_ADDRESS is not set: start one with `ray start --head`, "
                "or use --ray HOST:PORT or --ray local"
            )
        address = found
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_CHECK_S).close()
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ClusterError(f"cannot use the Ray cluster at {address}: {reason}") from None


def _local_cpus(address: str) -> int:
    _, _, count = address.partition(":")
    if not count:
        return os.cpu_count() or 1
    if not count.isdigit() or int(count) < 1:
        raise ClusterError(f"--ray {address}: expected local or local:N with N a number of CPUs, at least 1")
    return int(count)


def cluster_cpus() -> int:
    """The CPUs of the cluster (at least 1): one worker each by default."""
    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    return max(1, int(resources.get("CPU", 1)))


def start_workers(count: int, config: ScanConfig, checks: Sequence[Check[Any]]) -> list[ActorHandle[ScanActor]]:
    """``count`` worker actors, one CPU each, spread over the nodes."""
    actor = ray.remote(ScanActor)
    options = actor.options(
        num_cpus=1,
        max_restarts=WORKER_RESTARTS,
        max_task_retries=0,
        scheduling_strategy="SPREAD",
    )
    workers: list[ActorHandle[ScanActor]] = []
    for _ in range(count):
        worker = options.remote(config, tuple(checks))
        assert isinstance(worker, ActorHandle)  # Ray's typing allows the class itself, for its local mode
        workers.append(worker)
    return workers


def stream_unit(worker: ActorHandle[ScanActor], unit: ScanUnit, backpressure: int) -> Any:
    """Start a bucket on ``worker``: an ``ObjectRefGenerator`` of its results, at most ``backpressure`` of them
    produced and not yet read by the driver."""
    return worker.scan_unit.options(_generator_backpressure_num_objects=backpressure).remote(unit)


def cancel(stream: Any) -> None:
    """Cancel a bucket's call (its scanner's tasks are cancelled in the worker, its connections closed)."""
    with contextlib.suppress(Exception):  # the worker is gone or the call over: nothing left to cancel
        ray.cancel(stream)


def stop_workers(workers: Sequence[ActorHandle[ScanActor]]) -> None:
    """Kill every worker for good (no restart): a scan that ends, however it ends, leaves no actor behind."""
    for worker in workers:
        with contextlib.suppress(Exception):  # already dead
            ray.kill(worker, no_restart=True)


def task_failure(error: ray.exceptions.RayTaskError) -> Exception:
    """What a worker's own exception (not its death) means here: tlsprobe's own error as it was raised (a client
    certificate file missing on a node is a ``ConfigurationError``), anything else a ``ClusterError`` naming it."""
    cause = error.cause
    if isinstance(cause, TLSProbeError):
        return cause
    return ClusterError(f"a worker failed: {type(cause).__name__}: {cause}")
