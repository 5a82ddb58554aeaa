"""The target policy: pure rules first, then vetting with a real resolver (names in /etc/hosts and .invalid)."""

from __future__ import annotations

import ipaddress

import pytest

from tlsprobe import ConfigurationError, ServerTarget
from tlsprobe.integrations._fastapi._policy import TargetProblem, vet_target
from tlsprobe.integrations.fastapi import TargetPolicy, non_public_kind


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("::ffff:8.8.8.8", None),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("64:ff9b:1::a00:1", "local NAT64"),
        ("fec0::1", "site-local"),  # deprecated (RFC 3879), still routed in some networks; Python calls it global
        ("feff:ffff::1", "site-local"),
        ("192.0.2.1", "special-purpose"),  # documentation
        ("198.18.0.1", "special-purpose"),  # benchmarking
        ("240.0.0.1", "special-purpose"),  # reserved
        ("255.255.255.255", "special-purpose"),
    ],
)
def test_non_public_addresses_are_named_by_kind(address: str, kind: str | None) -> None:
    assert non_public_kind(ipaddress.ip_address(address)) == kind


def refusal(policy: TargetPolicy, address: str) -> str | None:
    return policy.address_refusal(ipaddress.ip_address(address))


def test_the_default_policy_accepts_public_addresses_only() -> None:
    policy = TargetPolicy()
    assert refusal(policy, "93.184.215.14") is None
    assert refusal(policy, "10.0.0.1") == "10.0.0.1 is a private address, which this service does not scan"


def test_an_allow_list_is_the_only_space_scanned_and_overrides_non_public() -> None:
    policy = TargetPolicy(allowed_networks=["10.20.0.0/16", "127.0.0.1"])
    assert refusal(policy, "10.20.3.4") is None
    assert refusal(policy, "127.0.0.1") is None
    assert refusal(policy, "::ffff:10.20.3.4") is None  # the same address to the operating system
    assert refusal(policy, "127.0.0.2") == "127.0.0.2 is not in an allowed network"
    assert refusal(policy, "93.184.215.14") == "93.184.215.14 is not in an allowed network"


def test_the_deny_list_wins_over_everything() -> None:
    policy = TargetPolicy(allowed_networks=["10.0.0.0/8"], denied_networks=["10.9.0.0/16", "2001:db8::/32"])
    assert refusal(policy, "10.1.1.1") is None
    assert refusal(policy, "10.9.1.1") == "10.9.1.1 is in a denied network (10.9.0.0/16)"
    assert refusal(TargetPolicy(denied_networks=["93.184.0.0/16"]), "93.184.215.14") is not None


def test_host_names_ports_and_pins() -> None:
    policy = TargetPolicy(allowed_hosts=["example.com", "*.example.org"], denied_hosts=["secret.example.org"])
    assert policy.target_refusal(ServerTarget.parse("example.com")) is None
    assert policy.target_refusal(ServerTarget.parse("WWW.Example.ORG.:443")) is None
    assert policy.target_refusal(ServerTarget.parse("example.org")) == "example.org is not an allowed host"
    assert policy.target_refusal(ServerTarget.parse("www.example.com")) == "www.example.com is not an allowed host"
    assert policy.target_refusal(ServerTarget.parse("secret.example.org")) == (
        "secret.example.org is a denied host (secret.example.org)"
    )
    assert policy.target_refusal(ServerTarget.parse("93.184.215.14")) == (
        "only listed host names may be scanned, not addresses"
    )
    assert policy.target_refusal(ServerTarget.parse("example.com:443{93.184.215.14}")) == (
        "pinning an address is not allowed when only listed host names may be scanned"
    )
    ports = TargetPolicy(allowed_ports=[443, 8443])
    assert ports.target_refusal(ServerTarget.parse("example.com:8443")) is None
    assert ports.target_refusal(ServerTarget.parse("example.com:22")) == "port 22 is not allowed (allowed: 443, 8443)"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"allowed_networks": "10.0.0.0/8"}, "single string"),
        ({"allowed_networks": ["10.0.0.1/8"]}, "has host bits set"),
        ({"denied_networks": ["not a network"]}, "invalid network 'not a network'"),
        ({"allowed_hosts": ["10.0.0.1"]}, "is an address"),
        ({"denied_hosts": ["bad name!"]}, "invalid host name"),
        ({"allowed_ports": [0]}, "port 0 is out of range"),
    ],
)
def test_a_mistaken_policy_is_refused_when_built(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TargetPolicy(**arguments)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_name_is_resolved_once_and_pinned_to_the_checked_address() -> None:
    loopback = TargetPolicy(allowed_networks=["127.0.0.0/8", "::1/128"])
    vetted = await vet_target(loopback, ServerTarget.parse("localhost:8443"), timeout_s=5)
    assert isinstance(vetted, ServerTarget)
    assert vetted.host == "localhost"
    assert vetted.ip is not None and vetted.ip.is_loopback
    assert vetted.server_name == "localhost"  # SNI still names the host

    refused = await vet_target(TargetPolicy(), ServerTarget.parse("localhost:8443"), timeout_s=5)
    assert isinstance(refused, TargetProblem)
    assert refused.refused
    assert refused.reason.startswith("localhost resolves to ")


@pytest.mark.anyio
async def test_a_name_that_does_not_resolve_is_a_problem_but_not_a_refusal() -> None:
    problem = await vet_target(TargetPolicy(), ServerTarget.parse("no-such-host.invalid"), timeout_s=5)
    assert isinstance(problem, TargetProblem)
    assert not problem.refused
    assert "no-such-host.invalid" in problem.reason
