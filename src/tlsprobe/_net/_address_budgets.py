"""What one scanner may open, keyed by what a server really is: its address, not the way a target spells it.

A target list may name one server many times (repeated, ``127.1`` beside ``127.0.0.1``, a name beside its address,
an IPv4-mapped IPv6 literal), several scans of one scanner may run at once, and a web service runs every user's
scans on one scanner. So the per-server permits belong to the scanner and are keyed by the resolved address and
port: every target, spelling, scan and caller that reaches that address shares them, native probes and nassl
threads alike. A second, wider budget caps the connections to one IP across all its ports.

Entries live while a scan of their address is under way (counted leases), so memory follows the servers in
progress, not the number of targets.

Fair shares: each scan in progress gets an equal share of the scanner's worker threads and connection slots, so
one request of a service cannot take them all while another user's scan waits. A scan alone has them all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

import anyio
import attrs

from tlsprobe._net._permits import ConnectionPermits

K = TypeVar("K")


def canonical_address(host: str) -> str:
    """One spelling per address: the compressed form of an IP literal, IPv4 for an IPv4-mapped IPv6 address, and
    a lower-case name for a host that only a proxy resolves."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower().rstrip(".")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


@attrs.frozen
class ServerBudget:
    """The permits of one server address, and of its IP across ports."""

    permits: ConnectionPermits
    """At most ``Limits.max_connections_per_server`` open to this IP and port, adaptive below that."""
    ip_permits: ConnectionPermits
    """At most ``Limits.max_connections_per_ip`` open to this IP, whatever the port."""


class AddressBudgets:
    """The permits of every server address one scanner is talking to (see the module docstring)."""

    def __init__(self, per_server: int, per_ip: int, min_interval_s: float = 0.0) -> None:
        self._servers = _Leases[tuple[str, int]](lambda: ConnectionPermits(per_server, min_interval_s))
        self._ips = _Leases[str](lambda: ConnectionPermits(per_ip))

    @contextmanager
    def lease(self, host: str, port: int) -> Iterator[ServerBudget]:
        """The budget of ``host`` (an address, or a name a proxy resolves) and ``port`` while the block runs."""
        address = canonical_address(host)
        with self._servers.lease((address, port)) as permits, self._ips.lease(address) as ip_permits:
            yield ServerBudget(permits=permits, ip_permits=ip_permits)

    @property
    def addresses_in_use(self) -> int:
        """Server addresses with a scan under way (entries do not outlive their scans)."""
        return len(self._servers)


class _Leases(Generic[K]):
    """Permits per key, made at the first lease of a key and dropped with its last."""

    def __init__(self, make: Callable[[], ConnectionPermits]) -> None:
        self._make = make
        self._entries: dict[K, tuple[ConnectionPermits, int]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @contextmanager
    def lease(self, key: K) -> Iterator[ConnectionPermits]:
        permits, leases = self._entries.get(key) or (self._make(), 0)
        self._entries[key] = (permits, leases + 1)
        try:
            yield permits
        finally:
            permits, leases = self._entries[key]
            if leases == 1:
                del self._entries[key]
            else:
                self._entries[key] = (permits, leases - 1)


@attrs.define
class ScanShare:
    """One scan's share of the scanner's worker threads and connection slots."""

    threads: anyio.CapacityLimiter
    connections: anyio.CapacityLimiter


class FairShares:
    """Equal shares of threads and connection slots among the scans in progress (see the module docstring)."""

    def __init__(self, threads: int, connections: int) -> None:
        self._threads = threads
        self._connections = connections
        self._shares: list[ScanShare] = []

    @contextmanager
    def share(self) -> Iterator[ScanShare]:
        """A share for one scan while the block runs; the others' shrink to make room and grow back after."""
        share = ScanShare(threads=anyio.CapacityLimiter(self._threads), connections=anyio.CapacityLimiter(1))
        self._shares.append(share)
        self._rebalance()
        try:
            yield share
        finally:
            self._shares.remove(share)
            self._rebalance()

    def _rebalance(self) -> None:
        # A lowered total only holds back new acquisitions: what a scan holds already is never taken away.
        count = max(1, len(self._shares))
        for share in self._shares:
            share.threads.total_tokens = max(1, self._threads // count)
            share.connections.total_tokens = max(1, self._connections // count)
