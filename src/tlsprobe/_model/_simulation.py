"""Client simulation records: what real clients would negotiate with a server, computed from its scan results.

Plain records with no knowledge of the checks (``tlsprobe.policy`` computes them), so that the scan result can carry
them without an import cycle.
"""

from __future__ import annotations

import enum
from typing import final

import attrs

from tlsprobe.trust._facts import KeyType
from tlsprobe.wire._versions import TLSVersion


class SimulationOutcome(enum.Enum):
    """Whether a client's handshake would succeed."""

    CONNECTS = "connects"
    """The handshake completes (certificate trust is not part of it)."""
    FAILS = "fails"
    """The handshake fails; ``note`` says why."""
    UNKNOWN = "unknown"
    """The scan did not gather the facts needed to tell; ``note`` says which."""


@final
@attrs.frozen(kw_only=True)
class SimulatedHandshake:
    """One client's handshake with the server, computed from the scan's results without any connection."""

    client: str
    """The client's identifier in the client table (``chromium_137_win11``)."""
    client_name: str
    """The client's name for people (``Chromium 137 (Windows 11)``)."""
    outcome: SimulationOutcome
    """Connects, fails or unknown."""
    version: TLSVersion | None
    """The protocol version negotiated (when it fails after the server chose one: that version)."""
    cipher_suite: str | None
    """The IANA name of the suite the server chooses."""
    group: str | None
    """The key-exchange group: the ECDHE curve, the RFC 7919 group or the TLS 1.3 group; None for RSA key
    exchange, a DH prime that is no named group, or a group that could not be determined (``note`` says so)."""
    dh_bits: int | None
    """The size of the finite-field DH prime, for DHE (and TLS 1.3 ffdhe groups)."""
    hello_retry_request: bool | None
    """TLS 1.3: whether the server must ask for another key share first (None below TLS 1.3, or unknown)."""
    certificate_key_type: KeyType | None
    """The key type of the certificate the server presents (None: anonymous suite, or not determined)."""
    certificate_key_size: int | None
    """Its key size in bits (RSA modulus, EC curve size)."""
    alpn: str | None
    """The application protocol agreed (None: the client offers none, or none is agreed)."""
    note: str | None
    """Why it fails or is unknown; for a client that connects, what could not be determined or what else matters
    (a client certificate the server requires)."""
