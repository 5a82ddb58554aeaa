"""Which targets a scan service accepts, decided before any connection to them is made.

A public scan service must not become a way to probe the network it runs in, so every target is vetted:

1. its port must be allowed (``allowed_ports``, when given);
2. its host name must match no ``denied_hosts`` pattern and, when ``allowed_hosts`` is given, one of those (an
   IP-literal target, or a target pinning its own address, is then refused);
3. every address it stands for must pass the network rules, in this order:

   - an address in ``denied_networks`` is refused;
   - when ``allowed_networks`` is given, an address must lie in one of them, and one that does is accepted even if
     it is not public (that is how an internal service is allowed to scan its own network);
   - otherwise only public addresses are accepted: unspecified, loopback, link-local, multicast, private,
     IPv6 site-local (``fec0::/10``), shared (carrier-grade NAT) and other special-purpose addresses are refused,
     and so are the IPv6 forms that embed such an IPv4 address (IPv4-mapped, 6to4, NAT64).

A host name is resolved here, once, and every address it resolves to must pass: a name with one internal address
among public ones is refused. The target is then *pinned* to the first address (the one the scanner itself would
pick), so the scanner connects to the address that was checked and never resolves the name again: DNS cannot
answer differently between the check and the connection (DNS rebinding). The name is still sent as SNI.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Final, final

import anyio
import attrs

from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._config import IPAddress, ServerTarget, _validate_host

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_PRIVATE_USE: Final = tuple(
    ipaddress.ip_network(network) for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_SHARED: Final = ipaddress.ip_network("100.64.0.0/10")
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_LOCAL_NAT64: Final = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: translates to any network


def non_public_kind(address: IPAddress) -> str | None:
    """What kind of non-public address ``address`` is ("loopback", "private"...), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return non_public_kind(embedded)
        if address in _LOCAL_NAT64:
            return "local NAT64"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:  # Python calls most multicast ranges global
        return "multicast"
    if any(address in network for network in _PRIVATE_USE):
        return "private"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "site-local"  # fec0::/10: deprecated (RFC 3879), still routed in some networks; "global" to Python
    if address in _SHARED:
        return "shared (carrier-grade NAT)"
    if not address.is_global or address.is_reserved:
        return "special-purpose"
    return None


def _networks(values: Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    if isinstance(values, str):
        raise ConfigurationError(f"expected a sequence of networks, got the single string {values!r}")
    networks: list[IPNetwork] = []
    for value in values:
        if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
            networks.append(value)
            continue
        try:
            # Strict: "10.0.0.1/8" is more likely a mistake than a wish for 10.0.0.0/8, and this is an access rule.
            networks.append(ipaddress.ip_network(value.strip()))
        except ValueError as error:
            raise ConfigurationError(f"invalid network {value!r}: {error}") from None
    return tuple(networks)


def _host_patterns(values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        raise ConfigurationError(f"expected a sequence of host names, got the single string {values!r}")
    patterns: list[str] = []
    for value in values:
        wildcard = value.startswith("*.")
        name = value[2:] if wildcard else value
        try:
            ipaddress.ip_address(name)
        except ValueError:
            pass
        else:
            raise ConfigurationError(f"{value!r} is an address: list addresses in allowed/denied networks")
        normalised = _validate_host(name).rstrip(".")
        patterns.append(f"*.{normalised}" if wildcard else normalised)
    return tuple(patterns)


def _ports(values: Iterable[int]) -> frozenset[int]:
    ports = frozenset(values)
    for port in ports:
        if not 0 < port < 65536:
            raise ConfigurationError(f"port {port} is out of range 1-65535")
    return ports


def _host_matches(name: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return name.endswith(pattern[1:])  # names strictly below the domain, not the domain itself
    return name == pattern


def _unmapped(address: IPAddress) -> IPAddress:
    """``::ffff:a.b.c.d`` is ``a.b.c.d`` to the operating system, so it is judged as that."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@final
@attrs.frozen(kw_only=True)
class TargetPolicy:
    """Which targets a scan service accepts. The default accepts any public address on any port.

    ``TargetPolicy(allowed_networks=["192.0.2.0/24"])`` scans that network only, even though it is not public;
    ``TargetPolicy(allowed_hosts=["*.example.com"], allowed_ports=[443])`` scans the names below example.com
    on port 443, at public addresses only. See the module documentation for the exact rules.
    """

    allowed_networks: tuple[IPNetwork, ...] = attrs.field(default=(), converter=_networks)
    """When not empty, the only addresses that may be scanned; an address in one is accepted even if not public."""
    denied_networks: tuple[IPNetwork, ...] = attrs.field(default=(), converter=_networks)
    """Addresses never scanned, whatever the other rules say."""
    allowed_hosts: tuple[str, ...] = attrs.field(default=(), converter=_host_patterns)
    """When not empty, the only host names that may be scanned: ``name`` exactly, or ``*.domain`` for any name
    below ``domain``. IP-literal targets and targets that pin their own address are then refused."""
    denied_hosts: tuple[str, ...] = attrs.field(default=(), converter=_host_patterns)
    """Host names never scanned, in the same pattern syntax."""
    allowed_ports: frozenset[int] = attrs.field(default=frozenset(), converter=_ports)
    """When not empty, the only ports that may be scanned."""

    def target_refusal(self, target: ServerTarget) -> str | None:
        """Why the target's port or host name is refused, or None. Addresses are judged by ``address_refusal``."""
        if self.allowed_ports and target.port not in self.allowed_ports:
            allowed = ", ".join(str(port) for port in sorted(self.allowed_ports))
            return f"port {target.port} is not allowed (allowed: {allowed})"
        if target.host_is_ip:
            return "only listed host names may be scanned, not addresses" if self.allowed_hosts else None
        name = target.host.rstrip(".")
        for pattern in self.denied_hosts:
            if _host_matches(name, pattern):
                return f"{name} is a denied host ({pattern})"
        if self.allowed_hosts:
            if not any(_host_matches(name, pattern) for pattern in self.allowed_hosts):
                return f"{name} is not an allowed host"
            if target.ip is not None:
                return "pinning an address is not allowed when only listed host names may be scanned"
        return None

    def address_refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` may not be scanned, or None when it may."""
        judged = _unmapped(address)
        shown = str(address) if judged == address else f"{address} ({judged})"
        for network in self.denied_networks:
            if judged in network:
                return f"{shown} is in a denied network ({network})"
        if self.allowed_networks:
            if any(judged in network for network in self.allowed_networks):
                return None
            return f"{shown} is not in an allowed network"
        kind = non_public_kind(judged)
        if kind is not None:
            return f"{shown} is a {kind} address, which this service does not scan"
        return None


@final
@attrs.frozen(kw_only=True)
class TargetProblem:
    """Why a target was not accepted."""

    reason: str
    """A sentence naming the target's offending part."""
    refused: bool
    """True when the policy forbids the target; False when it could not be judged (the name does not resolve)."""


async def vet_target(policy: TargetPolicy, target: ServerTarget, *, timeout_s: float) -> ServerTarget | TargetProblem:
    """The target pinned to the address that passed the policy, or the problem that stops it. No connection."""
    refusal = policy.target_refusal(target)
    if refusal is not None:
        return TargetProblem(reason=refusal, refused=True)
    if target.ip is not None:
        addresses: list[IPAddress] = [target.ip]
    elif target.host_is_ip:
        addresses = [ipaddress.ip_address(target.host)]
    else:
        try:
            with anyio.fail_after(timeout_s):
                infos = await anyio.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except TimeoutError:
            return TargetProblem(reason=f"resolving {target.host} timed out after {timeout_s:g} s", refused=False)
        except OSError as error:
            return TargetProblem(reason=f"{target.host} does not resolve: {error.strerror or error}", refused=False)
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        if not addresses:
            return TargetProblem(reason=f"{target.host} resolves to no address", refused=False)
    for address in addresses:
        refusal = policy.address_refusal(address)
        if refusal is not None:
            prefix = "" if target.host_is_ip or target.ip is not None else f"{target.host} resolves to {address}: "
            return TargetProblem(reason=prefix + refusal, refused=True)
    if target.ip is None and not target.host_is_ip:
        # The scanner connects to a pinned address as is: no second lookup that could answer differently.
        return attrs.evolve(target, ip=addresses[0])
    return target
