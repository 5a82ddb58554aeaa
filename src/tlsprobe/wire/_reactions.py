"""A server's reaction to the records a check sent after its flight, as data (pure: no socket).

The records it sent (up to its first fatal alert), then how the exchange ended: the server closed or reset the
connection, stayed silent for the read timeout, or the reader had seen enough.
"""

from __future__ import annotations

import enum

import attrs

from tlsprobe.wire._constants import AlertLevel, ContentType
from tlsprobe.wire._records import Record
from tlsprobe.wire._server import Alert


class ReactionEnd(enum.Enum):
    """How reading the server's reaction stopped."""

    fatal_alert = "fatal_alert"
    """It sent a fatal alert (the last record)."""
    closed = "closed"
    """It closed the connection."""
    reset = "reset"
    """It reset the connection."""
    silent = "silent"
    """It sent nothing more within the read timeout."""
    enough = "enough"
    """The caller had seen what it needed."""


@attrs.frozen(kw_only=True)
class ServerReaction:
    """What the server did after the check's records."""

    records: tuple[Record, ...]
    """Every record received, in order."""
    end: ReactionEnd
    """Why reading stopped."""

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """The alerts among the records, the first of each alert record (encrypted alerts cannot be read)."""
        return tuple(alert for record in self.records if (alert := record_alert(record)) is not None)

    @property
    def fatal_alert(self) -> Alert | None:
        """The first fatal alert, if any."""
        return next((alert for alert in self.alerts if alert.level == AlertLevel.fatal), None)

    def summary(self) -> str:
        """A stable description, equal for equal reactions: the content types and alerts, then the ending."""
        parts: list[str] = []
        for record in self.records:
            alert = record_alert(record)
            name = _content_type_name(record.content_type) if alert is None else f"alert {alert.description_name}"
            parts.append(name)
        parts.append(self.end.value)
        return ", ".join(parts)


def _content_type_name(content_type: int) -> str:
    try:
        return ContentType(content_type).name
    except ValueError:
        return f"content type {content_type}"


def record_alert(record: Record) -> Alert | None:
    """The (first) alert a cleartext alert record carries; None for any other record."""
    if record.content_type != ContentType.alert or len(record.payload) < 2:
        return None
    return Alert(level=record.payload[0], description=record.payload[1])


def is_fatal_alert(record: Record) -> bool:
    alert = record_alert(record)
    return alert is not None and alert.level == AlertLevel.fatal
