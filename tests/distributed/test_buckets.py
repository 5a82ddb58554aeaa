"""Bucketing: the rendezvous hash of an address, and what the driver's plan makes of a target list (no cluster)."""

from __future__ import annotations

import collections
import ipaddress

import anyio
import pytest

from tlsprobe import ScanConfig, Scanner, ServerTarget
from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._config import HttpProxy
from tlsprobe._model._json import to_jsonable
from tlsprobe.distributed import bucket_count, bucket_of, plan_scan

pytestmark = pytest.mark.anyio

BUCKETS = bucket_count(2)


def test_the_bucket_count_is_a_square_of_at_least_the_buckets_asked_for() -> None:
    assert bucket_count(2) == 144  # 128 asked for: 12 x 12
    assert bucket_count(1, per_worker=1) == 1
    assert bucket_count(64) == 4096
    with pytest.raises(ValueError, match="at least 1"):
        bucket_count(0)


def test_a_bucket_count_that_is_not_a_square_is_refused() -> None:
    with pytest.raises(ValueError, match="square"):
        bucket_of("127.0.0.1", 128)


def test_every_bucket_gets_its_share_of_many_addresses() -> None:
    counts = collections.Counter(bucket_of(str(ipaddress.IPv4Address(0x0A000000 + n)), BUCKETS) for n in range(7_200))
    assert set(counts) == set(range(BUCKETS))  # 50 addresses per bucket on average: every one is used
    assert max(counts.values()) < 2 * 50 and min(counts.values()) > 50 // 2


def test_a_bucket_is_within_the_count_and_the_same_every_time() -> None:
    buckets = [bucket_of(f"192.0.2.{n}", 4096) for n in range(256)]
    assert all(0 <= bucket < 4096 for bucket in buckets)
    assert buckets == [bucket_of(f"192.0.2.{n}", 4096) for n in range(256)]


async def test_every_name_and_port_of_one_address_lands_in_one_bucket() -> None:
    spellings = [
        "a.test:443{127.0.0.9}",
        "b.test:8443{127.0.0.9}",
        "127.0.0.9:25",
        "smtp://127.0.0.9:587",
        "[::ffff:127.0.0.9]:443",  # an IPv4-mapped IPv6 literal is the same server
        "c.test:443{::ffff:127.0.0.9}",
    ]
    plan = await plan_scan(spellings, ScanConfig(), BUCKETS)
    assert len(plan.units) == 1
    assert [planned.target for planned in plan.units[0].targets] == [ServerTarget.parse(s) for s in spellings]
    # What keying by the name would have done instead: the same server in several buckets, several workers.
    assert len({bucket_of(spelling, BUCKETS) for spelling in spellings}) > 1


async def test_a_name_is_resolved_once_on_the_driver_and_the_worker_gets_it_pinned() -> None:
    plan = await plan_scan(["localhost:8443"], ScanConfig(), BUCKETS)
    (unit,) = plan.units
    (planned,) = unit.targets
    assert planned.target == ServerTarget(host="localhost", port=8443)  # the result names it as listed
    assert planned.scan_target.ip is not None and planned.scan_target.ip.is_loopback
    assert planned.scan_target == ServerTarget(host="localhost", port=8443, ip=planned.scan_target.ip)
    assert unit.bucket == bucket_of(str(planned.scan_target.ip), BUCKETS)


async def test_with_all_ips_each_address_is_its_own_pinned_target() -> None:
    infos = await anyio.getaddrinfo("localhost", 443)
    addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    plan = await plan_scan(["localhost:443"], ScanConfig(all_ips=True), BUCKETS)
    planned = [each for unit in plan.units for each in unit.targets]
    assert {each.target.ip for each in planned} == addresses
    assert all(each.target == each.scan_target and each.target.host == "localhost" for each in planned)


async def test_through_an_https_proxy_names_are_bucketed_by_name_and_not_looked_up() -> None:
    config = ScanConfig(https_tunnel=HttpProxy(host="127.0.0.1", port=3128))
    plan = await plan_scan(["intranet.invalid:443", "INTRANET.invalid:8443"], config, BUCKETS)
    assert not plan.unresolved
    (unit,) = plan.units  # one name, one bucket, whatever its case and port
    assert unit.bucket == bucket_of("intranet.invalid", BUCKETS)
    assert all(planned.scan_target == planned.target for planned in unit.targets)


async def test_a_target_listed_twice_is_planned_once_and_units_come_largest_first() -> None:
    targets = ["127.0.0.9:1", "127.0.0.9:1", "127.0.0.9:2", "127.0.0.10:1"]
    plan = await plan_scan(targets, ScanConfig(), BUCKETS)
    assert plan.targets == 3
    if len(plan.units) == 2:  # the two addresses may share a bucket
        assert [len(unit.targets) for unit in plan.units] == [2, 1]


async def test_a_target_that_does_not_parse_stops_the_plan_before_any_lookup() -> None:
    with pytest.raises(ConfigurationError, match="invalid target"):
        await plan_scan(["localhost:443", "bad target:x"], ScanConfig(), BUCKETS)


async def test_a_name_that_does_not_resolve_fails_as_the_scanner_fails_it() -> None:
    target = "no-such-host.invalid:443"
    plan = await plan_scan([target], ScanConfig(), BUCKETS)
    assert plan.units == ()
    (planned,) = plan.unresolved
    async with Scanner().scan([target]) as results:
        (scanned,) = [result async for result in results]
    assert _stable(to_jsonable(planned)) == _stable(to_jsonable(scanned))
    assert planned.connectivity.error.kind.value == "dns"  # type: ignore[union-attr]


def _stable(document: object) -> object:
    """A result's JSON form without what differs between two runs: times and durations."""
    if isinstance(document, dict):
        return {key: _stable(value) for key, value in document.items() if key not in ("started_at", "duration_s")}
    if isinstance(document, list):
        return [_stable(value) for value in document]
    return document


def test_the_public_names_are_exported_sorted() -> None:
    import types

    import tlsprobe.distributed

    public = {
        name
        for name, value in vars(tlsprobe.distributed).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert tlsprobe.distributed.__all__ == sorted(public)
