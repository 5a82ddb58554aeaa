"""The page around the sections, and ``write_html_report``, which streams it to a file.

The overview comes first on the page but needs every server counted, so the servers' sections are written to a
temporary file as they are read (only the small facts of each are kept), then the page is put together: head,
overview, the spooled sections, script. The page is written beside its final name and renamed into place, so a
failure never leaves half a report behind.

The style and the script are package files, inlined; the Content-Security-Policy allows exactly those two (by
their SHA-256) and nothing else: no other script, style, image, font or connection, even if server text were to
get through the escaping.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from tlsprobe._exceptions import ConfigurationError
from tlsprobe._model._summary import summarize, target_key
from tlsprobe._version import __version__
from tlsprobe.report._fleet import Fleet
from tlsprobe.report._overview import render_overview
from tlsprobe.report._server import render_server
from tlsprobe.report._text import text
from tlsprobe.report._trends import TrendPoint


@cache
def asset(name: str) -> str:
    """A file of ``tlsprobe/report/assets`` as text."""
    return resources.files("tlsprobe.report").joinpath("assets", name).read_text(encoding="utf-8")


def content_hash(content: str) -> str:
    """The CSP source expression allowing an inline element with this exact content."""
    digest = hashlib.sha256(content.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy() -> str:
    """Nothing but our own inline style and script."""
    return (
        f"default-src 'none'; script-src {content_hash(asset('report.js'))}; "
        f"style-src {content_hash(asset('report.css'))}; img-src 'none'; base-uri 'none'; form-action 'none'"
    )


def _head(title: str, generated_at: datetime.datetime, source: str | None, server_count: int) -> str:
    scanned = f" from {text(source)}" if source else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="tlsprobe {text(__version__)}">'
        f"<title>{text(title)}</title><style>{asset('report.css')}</style></head>\n"
        '<body><a class="skip" href="#servers">Skip to the servers</a>'
        f'<header><h1>{text(title)}</h1><p class="meta">{server_count} servers{scanned}; report made '
        f"{generated_at:%Y-%m-%d %H:%M} UTC by tlsprobe {text(__version__)}.</p></header><main>\n"
    )


def _tail() -> str:
    return f"</section></main><script>{asset('report.js')}</script></body></html>\n"


def _as_utc(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC) if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def write_html_report(
    path: str | os.PathLike[str],
    servers: Iterable[Mapping[str, Any]],
    *,
    title: str,
    generated_at: datetime.datetime,
    trends: Sequence[TrendPoint] | None = None,
    labels: Mapping[str, str] | None = None,
    source: str | None = None,
) -> None:
    """Write one self-contained HTML page for ``servers`` (each the JSON form of a ``ServerScanResult``, read
    once, in order) to ``path``.

    :param trends: past scans of the same targets, shown as trends when there are two or more.
    :param labels: names for servers, keyed by ``target_key`` of their target (the demo's descriptions).
    :param source: where the scan was read from, said under the title.
    :raises ConfigurationError: a server is not in a tlsprobe JSON form; nothing is written then.
    :raises OSError: the file cannot be written.
    """
    target = Path(path)
    fleet = Fleet()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as sections:
        for number, server in enumerate(servers, start=1):
            try:
                host = fleet.add(
                    anchor=f"server-{number}",
                    label=(labels or {}).get(target_key(server["target"])),
                    summary=summarize(server),
                    findings=server.get("findings") or [],
                )
                sections.write(render_server(host, server))
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
                raise ConfigurationError(
                    f"server {number} is not a tlsprobe server result ({type(error).__name__}: {error})"
                ) from None
        sections.seek(0)
        partial = target.with_name(f".{target.name}.partial")
        try:
            with open(partial, "w", encoding="utf-8") as page:
                page.write(_head(title, _as_utc(generated_at), source, len(fleet.hosts)))
                page.write(render_overview(fleet, trends))
                page.write('\n<section id="servers" aria-labelledby="servers-h"><h2 id="servers-h">Servers</h2>\n')
                shutil.copyfileobj(sections, page)
                page.write(_tail())
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
