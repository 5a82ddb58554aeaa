"""One full TLS 1.3 handshake per server that waits for a session ticket, shared by the checks that need one.

Session resumption resumes its ticket; early data only reads what the ticket allows (``max_early_data``): most
servers allow none, and then early data is settled without a connection of its own. A ticket that does allow early
data is not offered by the early-data check: a server may take a ticket's early data once only, so that check
gets a ticket no other check has offered, from a handshake of its own.
"""

from __future__ import annotations

from tlsprobe._probing._context import ServerContext
from tlsprobe._tls._resumption import TICKET_WAIT_S, ResumptionHandshake, resumption_handshake
from tlsprobe.wire._versions import TLSVersion


async def tls13_ticket_handshake(server: ServerContext) -> ResumptionHandshake:
    """The shared full TLS 1.3 handshake (its connection counts against the check that asked first)."""
    return await server.shared("tls13_ticket_handshake", new_tls13_ticket_handshake)


async def new_tls13_ticket_handshake(server: ServerContext) -> ResumptionHandshake:
    """A full TLS 1.3 handshake of the caller's own, waiting up to ``TICKET_WAIT_S`` for a ticket."""
    name = server.profile.server_name
    return await server.run_blocking(resumption_handshake, TLSVersion.TLS1_3, name, None, True, TICKET_WAIT_S)
