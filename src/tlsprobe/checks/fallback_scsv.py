"""TLS_FALLBACK_SCSV (RFC 7507): does the server refuse a client that falls back to a lower version than both
support, as a downgrade attack would make it?

How: offer the version just below the server's highest, with TLS_FALLBACK_SCSV among the suites. An
``inappropriate_fallback`` alert means the server protects against downgrades; a ServerHello at that version
means it does not. When the server refuses that version outright, the next one down is tried; when it accepts no
lower version at all, a downgrade is impossible and the result says so (``supports_fallback_scsv`` is None). A
version that the scan's broad hello already found off (``_tls12_baseline.early_broad_answer``: sent early by every
scan with that version's cipher-suite check) is skipped without a hello.
Connections: one per version tried, usually one; none on a server that speaks only TLS 1.3 in a default scan.
References: RFC 7507, POODLE (CVE-2014-3566).
"""

from __future__ import annotations

from typing import ClassVar, final

import attrs

from tlsprobe._exceptions import CheckNotApplicable
from tlsprobe._probing._context import ServerContext
from tlsprobe._probing._hello_specs import MAX_HELLO_SUITES, common_suite_codes, tls_hello
from tlsprobe.checks._tls12_baseline import early_broad_answer, refuses_version
from tlsprobe.wire import AlertDescription
from tlsprobe.wire._answers import HelloAccepted
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import TLS_FALLBACK_SCSV

_LOWER_VERSIONS = (TLSVersion.TLS1_2, TLSVersion.TLS1_1, TLSVersion.TLS1_0, TLSVersion.SSL3)


@final
@attrs.frozen(kw_only=True)
class FallbackSCSVResult:
    """Whether the server detects a version fallback."""

    supports_fallback_scsv: bool | None
    """True: it refused the fallback; False: it accepted it; None: it accepts no lower version to fall back to."""
    tested_version: TLSVersion | None
    """The lower version offered with the SCSV (None when no lower version is accepted)."""


@final
@attrs.frozen(kw_only=True)
class FallbackSCSVCheck:
    """TLS_FALLBACK_SCSV downgrade protection (RFC 7507)."""

    result_type: ClassVar[type] = FallbackSCSVResult

    @property
    def name(self) -> str:
        """``fallback_scsv``."""
        return "fallback_scsv"

    async def run(self, server: ServerContext) -> FallbackSCSVResult:
        """Fall back one version at a time until the server answers."""
        highest = server.profile.highest_version
        if highest <= TLSVersion.SSL3:
            raise CheckNotApplicable(f"the server's highest version is {highest.label}")
        for version in (version for version in _LOWER_VERSIONS if version < highest):
            known = await early_broad_answer(server, version)
            if known is not None and refuses_version(known, version):
                continue  # the scan's broad hello at this version found it off: no hello needed to see it again
            suites = [*common_suite_codes(version, MAX_HELLO_SUITES - 1), TLS_FALLBACK_SCSV]
            outcome = await server.hello(tls_hello(version, suites, server.profile.server_name))
            if isinstance(outcome, HelloAccepted):
                if outcome.version is version:
                    return FallbackSCSVResult(supports_fallback_scsv=False, tested_version=version)
                continue  # answered with yet another version: this one is off
            if outcome.alert is not None and outcome.alert.description == AlertDescription.inappropriate_fallback:
                return FallbackSCSVResult(supports_fallback_scsv=True, tested_version=version)
        return FallbackSCSVResult(supports_fallback_scsv=None, tested_version=None)
