"""The worker without Ray: one Scanner scanning a bucket, and results that cross process boundaries intact."""

from __future__ import annotations

import pickle
from ipaddress import ip_address

import attrs
import pytest

from tlsprobe import CheckCompleted, ScanConfig, ServerScanResult, ServerTarget
from tlsprobe._model._json import to_jsonable
from tlsprobe.checks._registry import DEFAULT_CHECKS
from tlsprobe.distributed import BucketWorker, PlannedTarget, ScanUnit
from tlsprobe.policy import mozilla_profile
from tlsprobe.testing import CountingProxy, LocalTLSServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def _scan_unit(worker: BucketWorker, unit: ScanUnit) -> list[ServerScanResult]:
    return [result async for result in worker.scan_unit(unit)]


async def test_two_listings_of_one_pinned_server_are_scanned_once_and_named_as_listed(
    web_server: LocalTLSServer,
) -> None:
    with CountingProxy(*web_server.address) as proxy:
        pinned = ServerTarget(host="127.0.0.1", port=proxy.port)
        listed = [ServerTarget(host="127.0.0.1", port=proxy.port), ServerTarget(host="localhost", port=proxy.port)]
        unit = ScanUnit(bucket=0, targets=tuple(PlannedTarget(target=target, scan_target=pinned) for target in listed))
        worker = BucketWorker(ScanConfig(), DEFAULT_CHECKS)
        results = await _scan_unit(worker, unit)
    assert sorted(str(result.target) for result in results) == sorted(str(target) for target in listed)
    first, second = results
    assert attrs.evolve(first, target=second.target) == second  # one scan, given out under both names
    snapshot = await worker.snapshot()
    assert snapshot.statistics.servers_completed == 1
    assert proxy.total_connections == first.connections == snapshot.statistics.connections_opened


async def test_a_result_with_its_certificates_survives_pickling(web_server: LocalTLSServer) -> None:
    # Ray sends results from the workers to the driver pickled: every field must come back equal.
    target = ServerTarget(host="localhost", port=web_server.port)
    unit = ScanUnit(
        bucket=3, targets=(PlannedTarget(target=target, scan_target=attrs.evolve(target, ip=ip_address("127.0.0.1"))),)
    )
    config = ScanConfig(policy=mozilla_profile("intermediate"))
    (result,) = await _scan_unit(BucketWorker(config, DEFAULT_CHECKS), unit)
    assert isinstance(result.outcome("certificate"), CheckCompleted) and result.compliance is not None
    copy = pickle.loads(pickle.dumps(result))
    assert copy == result
    assert to_jsonable(copy) == to_jsonable(result)
    # And what the driver sends the workers.
    assert pickle.loads(pickle.dumps(unit)) == unit
    assert pickle.loads(pickle.dumps(config)) == config
    assert [check.name for check in pickle.loads(pickle.dumps(DEFAULT_CHECKS))] == [c.name for c in DEFAULT_CHECKS]
