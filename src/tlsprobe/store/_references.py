"""How a person names a scan: a keyword, a day, a moment, or an id (or its beginning). Pure parsing; the store
looks the scan up."""

from __future__ import annotations

import datetime
import re
from typing import Final, Literal

import attrs

_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT: Final = re.compile(r"\d{4}-\d{2}-\d{2}[T ].+")  # not the compact 20260501 form: that may begin an id


@attrs.frozen
class Keyword:
    """``latest`` (0 scans back) or ``previous`` (1 back), among the scans that ended."""

    back: Literal[0, 1]
    """How many finished scans to skip, newest first."""


@attrs.frozen
class Period:
    """The newest scan that started in ``[start, end)``; ``start`` None for no lower bound."""

    start: datetime.datetime | None
    """Inclusive lower bound (UTC)."""
    end: datetime.datetime
    """Exclusive upper bound (UTC)."""


@attrs.frozen
class Identifier:
    """A scan id, or failing that the beginning of exactly one."""

    text: str
    """As given."""


Reference = Keyword | Period | Identifier


def parse_reference(reference: str) -> Reference | None:
    """What ``reference`` names; None for an empty one. A date that does not exist (2026-02-30) is an id."""
    text = reference.strip()
    if not text:
        return None
    if text in ("latest", "previous"):
        return Keyword(0 if text == "latest" else 1)
    if _DAY.fullmatch(text):
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError:
            return Identifier(text)
        start = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
        return Period(start, start + datetime.timedelta(days=1))
    if _MOMENT.fullmatch(text):
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            return Identifier(text)
        moment = moment.replace(tzinfo=datetime.UTC) if moment.tzinfo is None else moment.astimezone(datetime.UTC)
        return Period(None, moment + datetime.timedelta(microseconds=1))  # "at or before": inclusive
    return Identifier(text)
