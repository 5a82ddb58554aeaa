"""Session resumption: does the server let a client skip the full handshake, and how reliably?

How: three independent ways, each a full handshake followed by ``attempts`` resumptions, each on a new
connection:

- by session ID (RFC 5246 §7.4.1.2), with the client's ticket support off, so only the server's session cache can
  resume it;
- by session ticket (RFC 5077), only when the full handshake brought a ticket; the session offered carries an ID
  the server never issued (the SHA-256 of the ticket), so only the ticket can resume it;
- TLS 1.3 PSK resumption with a NewSessionTicket (RFC 8446 §2.2, §4.6.1), only when a ticket arrived within a
  short wait after the full handshake; each attempt offers the newest ticket (clients should not reuse them), so
  they follow one another, and a failed attempt is followed by one with the fresh ticket of its full handshake.

The full handshakes are nassl's. Below TLS 1.3 the resumptions are hand-built hellos that offer the session of
the full handshake (its ID or its ticket, with its cipher suite, compression method and extended master secret),
side by side: a resumption shows in the server's first flight, which goes straight from the ServerHello (echoing
the offered ID) to ChangeCipherSpec instead of sending a certificate. Each such hello is followed at once by a
close_notify: OpenSSL drops a cached session when a connection resuming it ends with an error (say a bare FIN),
but keeps it after a close_notify; GnuTLS and nginx keep it either way. Under TLS 1.3 a resumption is a nassl
handshake, counted when its session kept the offered PSK (see ``tlsprobe._tls._resumption``): a PSK offer
carries the ticket's age masked with a value from the ticket message, which nassl does not show, and a server
may turn down a PSK whose age looks wrong. A session whose hello cannot be built (a cipher suite unknown
to the catalogue, a ticket whose dump cannot be read) is resumed by nassl handshakes too.

The first two run at the highest version from SSL 3.0 to TLS 1.2 the server accepts (the shared baseline hello)
and are not tested on a TLS 1.3-only server; the third needs TLS 1.3. The three ways run side by side: a server
that can take only fewer connections at once sheds or refuses the others, and the adaptive permits and retries
of the scan (``_net``) absorb that.

Connections: per way, 1 + ``attempts`` (only 1 when the full handshake gave nothing to resume with), so at most
3 * (1 + ``attempts``) = 9 with the default 2 attempts, plus the baseline hello shared with other checks (one per
version it tries: 1 on most servers, 4 on a TLS 1.3-only one). The TLS 1.3 full handshake is shared with the
``early_data`` check (``_tls13_ticket``) and counts against whichever of the two asked first. Also reports the
ticket lifetime hints and the early data a TLS 1.3 ticket allows (the ``early_data`` check tries it).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Awaitable, Callable
from typing import ClassVar, Final, final

import attrs

from tlsprobe._exceptions import CheckNotApplicable, ClientCertificateRequiredError
from tlsprobe._model._results import ClientAuthRequirement
from tlsprobe._probing._context import ServerContext
from tlsprobe._probing._hello_specs import tls_hello
from tlsprobe._tls._resumption import TICKET_WAIT_S, TLSSession, resumption_handshake
from tlsprobe.checks._side_by_side import side_by_side
from tlsprobe.checks._tls12_baseline import tls12_baseline
from tlsprobe.checks._tls13_ticket import tls13_ticket_handshake
from tlsprobe.wire import AlertDescription, AlertLevel, ClientHelloSpec, ContentType, ExtensionType, encode_record
from tlsprobe.wire._answers import HelloAccepted
from tlsprobe.wire._versions import TLSVersion
from tlsprobe.wire.catalogue import cipher_suite_by_name

_CLOSE_NOTIFY = bytes((AlertLevel.warning, AlertDescription.close_notify))

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
        """A full handshake, then the resumptions; also the first session."""
        name = server.profile.server_name
        if version is TLSVersion.TLS1_3:
            first = (await tls13_ticket_handshake(server)).session  # the early-data check reads it too
        else:
            first = (
                await server.run_blocking(resumption_handshake, version, name, None, use_tickets, TICKET_WAIT_S)
            ).session
        issued = _usable(first, use_tickets)
        attempted = self.attempts if issued else 0
        succeeded = 0
        if attempted:
            hello = _resumption_hello(first, name, use_tickets)
            if hello is not None:
                succeeded = await _hand_built_resumptions(server, *hello, attempts=attempted)
            else:
                succeeded = await _chained_handshakes(server, first, use_tickets, attempts=attempted)
        hint = first.details.ticket_lifetime_hint_s if use_tickets else None
        return (
            interpret_attempts(issued=issued, attempted=attempted, succeeded=succeeded, ticket_lifetime_hint_s=hint),
            first,
        )


def _resumption_hello(
    session: TLSSession, server_name: str | None, use_tickets: bool
) -> tuple[ClientHelloSpec, bytes] | None:
    """A hello below TLS 1.3 offering ``session`` by its ID or its ticket, and the session ID a resuming server
    echoes; None for a TLS 1.3 session, and when the session's suite or ticket cannot be put in a hello."""
    suite = cipher_suite_by_name(session.details.cipher_suite)
    if suite is None or session.version is TLSVersion.TLS1_3:
        return None
    if use_tickets:
        ticket = session.details.ticket
        if not ticket or session.version is TLSVersion.SSL3:
            return None
        # The ID OpenSSL would send too (RFC 5077 §3.4): the server never issued it, only the ticket can resume.
        session_id = hashlib.sha256(ticket).digest()
        extensions: tuple[tuple[int, bytes], ...] = ((ExtensionType.session_ticket, ticket),)
    else:
        session_id = bytes.fromhex(session.details.session_id)
        extensions = ()
    spec = attrs.evolve(
        tls_hello(session.version, [suite.code], server_name),
        session_id=session_id,
        session_ticket=False,
        extra_extensions=extensions,
        # RFC 7627 §5.3: a server must not resume across a change of the extended master secret.
        extended_master_secret=session.details.extended_master_secret,
        # RFC 5246 §7.4.1.2: a resumption offers the session's compression method (null must be there too).
        compression_methods=tuple(dict.fromkeys((session.details.compression_method, 0))),
    )
    return spec, session_id


async def _hand_built_resumptions(
    server: ServerContext, spec: ClientHelloSpec, session_id: bytes, *, attempts: int
) -> int:
    """Send the resumption hello ``attempts`` times side by side; how many the server resumed."""
    close_notify = encode_record(ContentType.alert, spec.version.wire_code, _CLOSE_NOTIFY)

    async def attempt() -> bool:
        outcome = await server.hello(spec, ahead=close_notify)
        return (
            isinstance(outcome, HelloAccepted)
            and outcome.abbreviated
            and outcome.server_hello is not None
            and outcome.server_hello.session_id == session_id
        )

    resumed = await side_by_side(dict.fromkeys(range(attempts), attempt))
    return sum(resumed.values())


async def _chained_handshakes(server: ServerContext, first: TLSSession, use_tickets: bool, *, attempts: int) -> int:
    """nassl resumptions one after the other, each offering the newest session; how many the server resumed."""
    name = server.profile.server_name
    succeeded = 0
    offered = first
    for attempt in range(attempts):
        # A new TLS 1.3 ticket is only worth waiting for when another attempt will offer it.
        wait_s = TICKET_WAIT_S if attempt < attempts - 1 else 0.0
        outcome = await server.run_blocking(resumption_handshake, first.version, name, offered, use_tickets, wait_s)
        if outcome.resumed:
            succeeded += 1
        if _usable(outcome.session, use_tickets):
            offered = outcome.session
    return succeeded


def _usable(session: TLSSession, use_tickets: bool) -> bool:
    # By ID the session must carry an ID; by ticket (and under TLS 1.3) a ticket, lest an ID resume it instead.
    return session.details.has_ticket if use_tickets else bool(session.details.session_id)
