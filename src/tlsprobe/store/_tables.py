"""The store's tables as of the newest schema version (``_migrations.SCHEMA_VERSION``), in SQLAlchemy Core.

Every name starts with ``tlsprobe_``, so that the store can share a PostgreSQL database with other tables. Keys are
text compared byte by byte on both databases (PostgreSQL's ``C`` collation, SQLite's default ``BINARY``): the order of
``ORDER BY target_key`` is then Python's, whatever the server's locale.
"""

from __future__ import annotations

import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from tlsprobe.store._rows import SEVERITY_COLUMNS


class UTCDateTime(sa.types.TypeDecorator[datetime.datetime]):
    """A timezone-aware datetime in, the same instant in UTC out, on both databases.

    PostgreSQL keeps ``timestamp with time zone``; SQLite has no such type, so UTC is written without an offset
    (SQLAlchemy's text format, which sorts as time does) and read back as UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime.datetime | None, dialect: Dialect) -> datetime.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a timestamp must carry its time zone: {value.isoformat()}")
        value = value.astimezone(datetime.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime.datetime | None, dialect: Dialect) -> datetime.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value.astimezone(datetime.UTC)


KEY: Final = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
"""Text compared byte by byte (code point order) on both databases."""

metadata = sa.MetaData()

scans = sa.Table(
    "tlsprobe_scans",
    metadata,
    sa.Column("scan_id", KEY, primary_key=True),
    sa.Column("list_key", KEY, nullable=False),
    sa.Column("label", sa.Text),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("completed_at", UTCDateTime),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("target_count", sa.Integer),
    sa.Column("tlsprobe_version", sa.Text, nullable=False),
    sa.CheckConstraint("status IN ('running', 'completed', 'interrupted')", name="tlsprobe_scans_status"),
    sa.Index("tlsprobe_scans_by_list", "list_key", "started_at"),
    sa.Index("tlsprobe_scans_by_start", "started_at"),
)

servers = sa.Table(
    "tlsprobe_servers",
    metadata,
    sa.Column("scan_id", KEY, sa.ForeignKey(scans.c.scan_id, ondelete="CASCADE"), primary_key=True),
    sa.Column("target_key", KEY, primary_key=True),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("port", sa.Integer, nullable=False),
    sa.Column("reachable", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("grade", sa.Text),
    sa.Column("score", sa.Integer),
    sa.Column("versions", sa.Text, nullable=False),  # space-separated, oldest first
    sa.Column("highest_version", sa.Text),
    sa.Column("lowest_version", sa.Text),
    sa.Column("certificate_not_after", UTCDateTime),
    sa.Column("certificate_days_left", sa.Integer),
    sa.Column("certificate_fingerprints", sa.Text, nullable=False),  # space-separated, sorted
    sa.Column("trusted", sa.Boolean),
    *(sa.Column(column, sa.Integer, nullable=False) for column in SEVERITY_COLUMNS.values()),
    sa.Column("worst_finding", sa.Text),
    sa.Column("worst_severity", sa.Text),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("duration_s", sa.Double, nullable=False),
    sa.Column("connections", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Index("tlsprobe_servers_by_target", "target_key"),
)

findings = sa.Table(
    "tlsprobe_findings",
    metadata,
    sa.Column("scan_id", KEY, primary_key=True),
    sa.Column("target_key", KEY, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),  # in the server's findings, most severe first
    sa.Column("finding_id", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(["scan_id", "target_key"], [servers.c.scan_id, servers.c.target_key], ondelete="CASCADE"),
    sa.Index("tlsprobe_findings_by_id", "scan_id", "finding_id"),
)

SUMMARY_COLUMNS: Final = tuple(column for column in servers.c if column.name != "document")
"""Every column of a server's row but its document: what summaries and histories read."""
