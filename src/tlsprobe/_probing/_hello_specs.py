"""The ClientHellos tlsprobe offers: broad enough that any server finds something it accepts."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence

from tlsprobe.wire import SIGNATURE_SCHEMES, ClientHelloSpec
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import groups_for_version, named_group_by_name, suites_for_version

MAX_HELLO_SUITES = 128
"""The most suites one hello offers: some servers fail on hellos with more (the F5 and similar size bugs)."""

# Key shares sent up front; for any other group a TLS 1.3 server answers with a HelloRetryRequest, which names
# the group it wants and the suite it picked, so nothing is lost by not sending more (and hellos stay small).
_KEY_SHARE_GROUP_NAMES = ("x25519", "secp256r1")


def _code(name: str) -> int:
    group = named_group_by_name(name)
    assert group is not None, name
    return group.code


_KEY_SHARE_GROUPS = tuple(_code(name) for name in _KEY_SHARE_GROUP_NAMES)


# Offered strongest first, as a modern client would: many servers sign with the first scheme they share with the
# client, and a scanner that listed SHA-1 first would make them pick it.
_OFFER_ORDER = (
    "ed25519",
    "ed448",
    "ecdsa_secp256r1_sha256",
    "ecdsa_secp384r1_sha384",
    "ecdsa_secp521r1_sha512",
    "rsa_pss_rsae_sha256",
    "rsa_pss_rsae_sha384",
    "rsa_pss_rsae_sha512",
    "rsa_pss_pss_sha256",
    "rsa_pss_pss_sha384",
    "rsa_pss_pss_sha512",
    "rsa_pkcs1_sha256",
    "rsa_pkcs1_sha384",
    "rsa_pkcs1_sha512",
    "ecdsa_brainpoolP256r1tls13_sha256",
    "ecdsa_brainpoolP384r1tls13_sha384",
    "ecdsa_brainpoolP512r1tls13_sha512",
    "dsa_sha256",
    "dsa_sha384",
    "dsa_sha512",
)


def offered_schemes() -> list[int]:
    """Every known signature scheme, in the order the signature-scheme enumeration (and the TLS <= 1.2 baseline
    hello) offers them: ``_OFFER_ORDER``, then the rest (weak or exotic) by code."""
    rank = {name: index for index, name in enumerate(_OFFER_ORDER)}
    ordered = sorted(SIGNATURE_SCHEMES, key=lambda scheme: (rank.get(scheme.name, len(rank)), scheme.code))
    return [scheme.code for scheme in ordered]


def common_suite_codes(version: TLSVersion, limit: int = MAX_HELLO_SUITES) -> list[int]:
    """The codes of the ``limit`` most commonly deployed suites of ``version`` (the catalogue's order)."""
    return [suite.code for suite in suites_for_version(version)[:limit]]


def remaining_suite_bundles(
    version: TLSVersion, offered: Collection[int], size: int = MAX_HELLO_SUITES
) -> list[list[int]]:
    """The suites of ``version``'s catalogue not in ``offered``, in the catalogue's order, cut into hellos of at
    most ``size`` suites as the cipher-suite enumeration cuts its bundles: what a server whose suites all lie
    outside the common ones is reached with."""
    offered_codes = frozenset(offered)
    rest = [suite.code for suite in suites_for_version(version) if suite.code not in offered_codes]
    return [rest[start : start + size] for start in range(0, len(rest), size)]


@functools.cache  # asked for every hello
def offered_groups(version: TLSVersion) -> tuple[int, ...]:
    """Every group tlsprobe offers at ``version``, those with key shares first."""
    groups = tuple(group.code for group in groups_for_version(version))
    return (*_KEY_SHARE_GROUPS, *(code for code in groups if code not in _KEY_SHARE_GROUPS))


def tls_hello(
    version: TLSVersion,
    cipher_suites: Sequence[int],
    server_name: str | None,
    *,
    min_version: TLSVersion | None = None,
) -> ClientHelloSpec:
    """A ClientHello for SSL 3.0 to TLS 1.3 offering ``cipher_suites`` in that order.

    A TLS 1.3 hello offers only TLS 1.3 unless ``min_version`` is lower, so that a server without TLS 1.3
    refuses it instead of answering with an older version.
    """
    if version is TLSVersion.TLS1_3:
        groups = offered_groups(TLSVersion.TLS1_3)
        lowest = min_version or TLSVersion.TLS1_3
        if lowest < TLSVersion.TLS1_3:
            # Groups of the older versions too, for a server that answers with TLS 1.2 (ffdhe, brainpool).
            groups += tuple(code for code in offered_groups(TLSVersion.TLS1_2) if code not in groups)
        return ClientHelloSpec(
            version=version,
            cipher_suites=tuple(cipher_suites),
            server_name=server_name,
            groups=groups,
            key_share_groups=_KEY_SHARE_GROUPS,
            min_version=lowest,
        )
    return ClientHelloSpec(
        version=version,
        cipher_suites=tuple(cipher_suites),
        server_name=server_name,
        groups=offered_groups(version),
    )
