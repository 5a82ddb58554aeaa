"""Session resumption: does the server let a client skip the full handshake, and how reliably?

How: three independent ways, each a full handshake followed by ``attempts`` resumptions, every one on a new
connection and offering the session the previous connection ended with (so a failed attempt is followed by an
attempt with the fresh session of that full handshake, not by one more try of a session the server has dropped):

- by session ID (RFC 5246 §7.4.1.2), with the client's ticket support off, so only the server's session cache can
  resume it;
- by session ticket (RFC 5077), only when the full handshake brought a ticket; the session offered carries an ID
  the server never issued (the SHA-256 of the ticket), so only the ticket can resume it;
- TLS 1.3 PSK resumption with a NewSessionTicket (RFC 8446 §2.2, §4.6.1), only when a ticket arrived within a
  short wait after the full handshake; each attempt offers the newest ticket (clients should not reuse them).

A connection counts as resumed when it kept the offered session's secret (see ``tlsprobe._tls._resumption``). The
first two run at the highest version from SSL 3.0 to TLS 1.2 the server accepts (the shared baseline hello) and
are not tested on a TLS 1.3-only server; the third needs TLS 1.3. The three ways run side by side (each is a chain
of connections one after the other): a server that can take only fewer connections at once sheds or refuses the
others, and the adaptive permits and retries of the scan (``_net``) absorb that.

Connections: per way, 1 + ``attempts`` (only 1 when the full handshake gave nothing to resume with), so at most
3 * (1 + ``attempts``) = 9 with the default 2 attempts, plus the baseline hello shared with other checks (one per
version it tries: 1 on most servers, 4 on a TLS 1.3-only one). Also reports the ticket lifetime hints and the
early data a TLS 1.3 ticket allows (the ``early_data`` check tries it).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import ClassVar, Final, final

import attrs

from tlsprobe._exceptions import CheckNotApplicable, ClientCertificateRequiredError
from tlsprobe._models import ClientAuthRequirement
from tlsprobe._tls._resumption import TICKET_WAIT_S, TLSSession, resumption_handshake
from tlsprobe.checks._base import ServerContext
from tlsprobe.checks._side_by_side import side_by_side
from tlsprobe.checks._tls12_baseline import tls12_baseline
from tlsprobe.wire._versions import TLSVersion

ATTEMPTS_ALLOWED: Final = range(1, 51)
"""How many resumptions ``SessionResumptionCheck`` may try each way."""


class ResumptionSupport(enum.Enum):
    """How reliably the server resumed sessions one way."""

    FULLY_SUPPORTED = "fully_supported"
    """Every attempt was resumed."""
    PARTIALLY_SUPPORTED = "partially_supported"
    """Some attempts were resumed, others got a full handshake."""
    NOT_SUPPORTED = "not_supported"
    """No attempt was resumed, or the full handshake gave nothing to resume with (no session ID, no ticket)."""


@final
@attrs.frozen(kw_only=True)
class ResumptionAttempts:
    """One way of resuming: a full handshake, then resumptions, each on a new connection."""

    support: ResumptionSupport
    """The verdict from ``issued``, ``attempted`` and ``succeeded``."""
    issued: bool
    """The full handshake gave what this way resumes with: a session ID, or a ticket."""
    attempted: int
    """Resumptions tried (0 when nothing was issued)."""
    succeeded: int
    """Resumptions the server granted."""
    ticket_lifetime_hint_s: float | None
    """The ticket lifetime the server announced with its first ticket (0: unspecified in TLS 1.2); None for
    session IDs and when no ticket came."""


@final
@attrs.frozen(kw_only=True)
class SessionResumptionResult:
    """Session resumption by session ID, by ticket, and with TLS 1.3 PSKs."""

    tested_version: TLSVersion | None
    """The version of the session ID and ticket tests (the highest from SSL 3.0 to TLS 1.2 the server accepts);
    None when the server accepts none of them."""
    session_id_resumption: ResumptionAttempts | None
    """Resumption by session ID; None when not tested (no version from SSL 3.0 to TLS 1.2)."""
    ticket_resumption: ResumptionAttempts | None
    """Resumption by RFC 5077 session ticket; None when not tested (no version from SSL 3.0 to TLS 1.2)."""
    tls1_3_resumption: ResumptionAttempts | None
    """TLS 1.3 PSK resumption with a NewSessionTicket; None when the server does not speak TLS 1.3."""
    tls1_3_max_early_data: int | None
    """The early data the first TLS 1.3 ticket allows, in bytes (0: none); None without a TLS 1.3 ticket."""


def interpret_attempts(
    *, issued: bool, attempted: int, succeeded: int, ticket_lifetime_hint_s: float | None
) -> ResumptionAttempts:
    """The verdict for one way of resuming."""
    if not issued or succeeded == 0:
        support = ResumptionSupport.NOT_SUPPORTED
    elif succeeded == attempted:
        support = ResumptionSupport.FULLY_SUPPORTED
    else:
        support = ResumptionSupport.PARTIALLY_SUPPORTED
    return ResumptionAttempts(
        support=support,
        issued=issued,
        attempted=attempted,
        succeeded=succeeded,
        ticket_lifetime_hint_s=ticket_lifetime_hint_s,
    )


@final
@attrs.frozen(kw_only=True)
class SessionResumptionCheck:
    """Session resumption (session IDs, tickets, TLS 1.3 PSK)."""

    result_type: ClassVar[type] = SessionResumptionResult
    probes_in_sequence: ClassVar[bool] = True  # each resumption needs the session of the handshake before

    attempts: int = attrs.field(default=2, validator=attrs.validators.in_(ATTEMPTS_ALLOWED))
    """Resumptions to try each way, each on a new connection. Two tell a working cache from none and can catch
    one that works only sometimes (several servers behind one address, each with its own cache); more measure
    that rate better, at one full handshake per attempt and way (SSLyze makes five)."""

    @property
    def name(self) -> str:
        """``session_resumption``."""
        return "session_resumption"

    async def run(self, server: ServerContext) -> SessionResumptionResult:
        """Test each way the server's versions allow, side by side."""
        if server.profile.client_auth is ClientAuthRequirement.REQUIRED:
            raise ClientCertificateRequiredError(
                "resumption needs full handshakes, and the server requires a client certificate"
            )
        try:
            version: TLSVersion | None = (await tls12_baseline(server)).version
        except CheckNotApplicable:
            version = None
        has_tls13 = server.profile.highest_version is TLSVersion.TLS1_3
        if version is None and not has_tls13:
            raise CheckNotApplicable("the server accepts neither TLS 1.3 nor any version from SSL 3.0 to TLS 1.2")
        parts: dict[str, Callable[[], Awaitable[tuple[ResumptionAttempts, TLSSession]]]] = {}
        if version is not None:
            below_tls13 = version
            parts["by_id"] = lambda: self._attempts(server, below_tls13, use_tickets=False)
            parts["by_ticket"] = lambda: self._attempts(server, below_tls13, use_tickets=True)
        if has_tls13:
            parts["tls13"] = lambda: self._attempts(server, TLSVersion.TLS1_3, use_tickets=True)
        ways = await side_by_side(parts)
        max_early_data = None
        if "tls13" in ways:
            first = ways["tls13"][1]
            max_early_data = first.max_early_data if first.details.has_ticket else None
        return SessionResumptionResult(
            tested_version=version,
            session_id_resumption=ways["by_id"][0] if "by_id" in ways else None,
            ticket_resumption=ways["by_ticket"][0] if "by_ticket" in ways else None,
            tls1_3_resumption=ways["tls13"][0] if "tls13" in ways else None,
            tls1_3_max_early_data=max_early_data,
        )

    async def _attempts(
        self, server: ServerContext, version: TLSVersion, *, use_tickets: bool
    ) -> tuple[ResumptionAttempts, TLSSession]:
        """A full handshake, then resumptions chained on the newest session; also the first session."""
        name = server.profile.server_name
        first = (
            await server.run_blocking(resumption_handshake, version, name, None, use_tickets, TICKET_WAIT_S)
        ).session
        issued = _usable(first, use_tickets)
        succeeded = 0
        attempted = self.attempts if issued else 0
        offered = first
        for attempt in range(attempted):
            # A new TLS 1.3 ticket is only worth waiting for when another attempt will offer it.
            wait_s = TICKET_WAIT_S if attempt < attempted - 1 else 0.0
            outcome = await server.run_blocking(resumption_handshake, version, name, offered, use_tickets, wait_s)
            if outcome.resumed:
                succeeded += 1
            if _usable(outcome.session, use_tickets):
                offered = outcome.session
        hint = first.details.ticket_lifetime_hint_s if use_tickets else None
        return (
            interpret_attempts(issued=issued, attempted=attempted, succeeded=succeeded, ticket_lifetime_hint_s=hint),
            first,
        )


def _usable(session: TLSSession, use_tickets: bool) -> bool:
    # By ID the session must carry an ID; by ticket (and under TLS 1.3) a ticket, lest an ID resume it instead.
    return session.details.has_ticket if use_tickets else bool(session.details.session_id)
