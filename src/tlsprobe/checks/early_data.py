"""TLS 1.3 early data (0-RTT): does the server accept application data sent with a resumed ClientHello?

Early data has no protection against replay (RFC 8446 §8, §E.5): a server that accepts it must make sure what it
carries is safe to run twice.

How: a full TLS 1.3 handshake to obtain a ticket (waiting briefly for the NewSessionTicket; the handshake session
resumption makes too, shared: ``_tls13_ticket``), then, when the ticket allows early data (``max_early_data_size`` >
0), another for a ticket of this check's own, and a resumption on a new connection that sends a request as early
data; the server's EncryptedExtensions say whether it took it. The request is ``HEAD / HTTP/1.1`` with the target's
Host, safe and idempotent for a web server. A server of another protocol that accepts it reads a line it does not
understand and at worst answers with an error; the TLS layer accepts or rejects early data before the application
sees it, so the verdict does not depend on the protocol.

Connections: 3, or none of its own when the server gives no ticket or the ticket allows no early data (the check is
then skipped), the shared handshake counting against whichever check made it. Not applicable to servers without TLS
1.3. References: RFC 8446 §2.3, §4.2.10, §8.
"""

from __future__ import annotations

from typing import ClassVar, final

import attrs

from tlsprobe._exceptions import CheckNotApplicable, ClientCertificateRequiredError
from tlsprobe._model._config import DEFAULT_PORT, ServerTarget
from tlsprobe._model._results import ClientAuthRequirement
from tlsprobe._probing._context import ServerContext
from tlsprobe._tls._resumption import TICKET_WAIT_S, early_data_handshake
from tlsprobe.checks._tls13_ticket import new_tls13_ticket_handshake, tls13_ticket_handshake
from tlsprobe.wire._versions import TLSVersion


@final
@attrs.frozen(kw_only=True)
class EarlyDataResult:
    """Whether the server accepted TLS 1.3 early data."""

    accepts_early_data: bool
    """The server accepted the early data sent with a resumption."""
    max_early_data: int
    """The early data the server's ticket allows, in bytes."""
    session_resumed: bool
    """The connection that sent early data was resumed (without resumption, early data is always rejected)."""


def early_data_request(target: ServerTarget) -> bytes:
    """The harmless request sent as early data: ``HEAD /`` with the target's Host header."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != DEFAULT_PORT:
        host = f"{host}:{target.port}"
    return f"HEAD / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("ascii")


@final
@attrs.frozen(kw_only=True)
class EarlyDataCheck:
    """TLS 1.3 early data (0-RTT)."""

    result_type: ClassVar[type] = EarlyDataResult
    # The early data waits for a ticket, and the ticket's handshake is session resumption's first too: whichever
    # check makes it, it must not wait behind the independent probes.
    probes_in_sequence: ClassVar[bool] = True

    @property
    def name(self) -> str:
        """``early_data``."""
        return "early_data"

    async def run(self, server: ServerContext) -> EarlyDataResult:
        """Get a ticket, then resume with early data when the ticket allows it."""
        if server.profile.highest_version is not TLSVersion.TLS1_3:
            raise CheckNotApplicable("the server does not speak TLS 1.3")
        if server.profile.client_auth is ClientAuthRequirement.REQUIRED:
            raise ClientCertificateRequiredError(
                "early data needs full handshakes, and the server requires a client certificate"
            )
        name = server.profile.server_name
        shared = (await tls13_ticket_handshake(server)).session
        if not shared.details.has_ticket:
            raise CheckNotApplicable(f"the server sent no TLS 1.3 session ticket within {TICKET_WAIT_S:g} s")
        if shared.max_early_data == 0:
            raise CheckNotApplicable("the server's TLS 1.3 ticket allows no early data")
        ticket = (await new_tls13_ticket_handshake(server)).session  # one no other check offers
        if ticket.max_early_data == 0:
            raise CheckNotApplicable("the server's TLS 1.3 ticket allows no early data")
        attempt = await server.run_blocking(early_data_handshake, name, ticket, early_data_request(server.target))
        return EarlyDataResult(
            accepts_early_data=attempt.accepted, max_early_data=ticket.max_early_data, session_resumed=attempt.resumed
        )
