"""STARTTLS and its cousins: one small sans-I/O negotiator per protocol (see ``_negotiation``).

Each reads the server's replies as they arrive (bounded in size by ``Negotiator``, in time by the drivers), and
raises ``StartTLSError`` quoting the server when it refuses or does not speak the protocol.
"""

from __future__ import annotations

from tlsprobe._model._config import StartTLS
from tlsprobe._net._negotiation import Negotiator
from tlsprobe._net.starttls._ftp import FTPNegotiator
from tlsprobe._net.starttls._imap import IMAPNegotiator
from tlsprobe._net.starttls._ldap import LDAPNegotiator
from tlsprobe._net.starttls._pop3 import POP3Negotiator
from tlsprobe._net.starttls._postgres import PostgresNegotiator
from tlsprobe._net.starttls._rdp import RDPNegotiator
from tlsprobe._net.starttls._smtp import SMTPNegotiator
from tlsprobe._net.starttls._xmpp import XMPPNegotiator

__all__ = [
    "FTPNegotiator",
    "IMAPNegotiator",
    "LDAPNegotiator",
    "POP3Negotiator",
    "PostgresNegotiator",
    "RDPNegotiator",
    "SMTPNegotiator",
    "XMPPNegotiator",
    "starttls_negotiator",
]


def starttls_negotiator(protocol: StartTLS, *, xmpp_domain: str, ehlo_name: str) -> Negotiator | None:
    """A fresh negotiator for one connection; None for TLS from the first byte. ``AUTO`` must be resolved."""
    match protocol:
        case StartTLS.NONE:
            return None
        case StartTLS.SMTP:
            return SMTPNegotiator(ehlo_name)
        case StartTLS.IMAP:
            return IMAPNegotiator()
        case StartTLS.POP3:
            return POP3Negotiator()
        case StartTLS.FTP:
            return FTPNegotiator()
        case StartTLS.XMPP:
            return XMPPNegotiator(xmpp_domain, server_to_server=False)
        case StartTLS.XMPP_SERVER:
            return XMPPNegotiator(xmpp_domain, server_to_server=True)
        case StartTLS.LDAP:
            return LDAPNegotiator()
        case StartTLS.POSTGRES:
            return PostgresNegotiator()
        case StartTLS.RDP:
            return RDPNegotiator()
        case StartTLS.AUTO:
            raise ValueError("StartTLS.AUTO must be resolved from the port first")
