"""The fleet overview at the top of the page: totals, charts with their tables, trends, the servers table (sorted
and filtered by the page's script) and the servers-by-findings matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from tlsprobe._model._summary import SEVERITIES, VERSIONS, grade_rank, severity_rank
from tlsprobe.report._charts import Bar, Series, bar_chart, data_table, figure, line_chart, stacked_columns
from tlsprobe.report._checks import version_label
from tlsprobe.report._fleet import GRADE_COLUMNS, NOT_GRADED, UNREACHABLE, Fleet, Host
from tlsprobe.report._server import filter_attributes, severity_badge
from tlsprobe.report._text import attr, text
from tlsprobe.report._tones import grade_tone, severity_tone
from tlsprobe.report._trends import TrendPoint

EXPIRY_BARS: Final = 30
"""The expiry chart draws the servers whose certificates expire soonest, this many at most (the servers table
has them all, sortable by days left)."""
KIND_BARS: Final = 15
"""The findings-by-kind chart draws the most widespread kinds, this many at most (its table has them all)."""
_SEVERITY_SHORT: Final = {"critical": "crit", "high": "high", "medium": "med", "low": "low"}


def _section(section_id: str, heading: str, body: str) -> str:
    return (
        f'<section class="overview-part" id="{section_id}" aria-labelledby="{section_id}-h">'
        f'<h3 id="{section_id}-h">{heading}</h3>{body}</section>'
    )


def _grades(fleet: Fleet) -> str:
    counts = fleet.grades()
    shown = [column for column in GRADE_COLUMNS if counts[column] or column in ("A+", "A", "B", "C", "F")]
    bars = [Bar(label=column, value=counts[column], tone=grade_tone(column)) for column in shown]
    svg = bar_chart(
        chart_id="chart-grades-svg",
        title="Servers per grade",
        description=", ".join(f"{column}: {counts[column]}" for column in shown),
        bars=bars,
    )
    table = data_table(
        "Servers per grade", ["Grade", "Servers"], [(column, counts[column]) for column in GRADE_COLUMNS]
    )
    return figure("chart-grades", "Servers per grade", svg, table)


def _severities(fleet: Fleet) -> str:
    findings, hosts = fleet.findings_by_severity(), fleet.hosts_by_severity()
    bars = [
        Bar(
            label=severity,
            value=findings[severity],
            tone=severity_tone(severity),
            shown=f"{findings[severity]} on {hosts[severity]} server{'' if hosts[severity] == 1 else 's'}",
        )
        for severity in SEVERITIES
    ]
    svg = bar_chart(
        chart_id="chart-severities-svg",
        title="Findings per severity",
        description=", ".join(f"{severity}: {findings[severity]}" for severity in SEVERITIES),
        bars=bars,
    )
    table = data_table(
        "Findings per severity",
        ["Severity", "Findings", "Servers"],
        [(severity, findings[severity], hosts[severity]) for severity in SEVERITIES],
    )
    return figure("chart-severities", "Findings per severity", svg, table)


def _kinds(fleet: Fleet) -> str:
    kinds = fleet.kinds()
    if not kinds:
        return "<p>No findings on any server.</p>"
    widespread = sorted(kinds, key=lambda kind: (-kind.hosts, severity_rank(kind.severity), kind.id))[:KIND_BARS]
    svg = bar_chart(
        chart_id="chart-kinds-svg",
        title="Servers per kind of finding",
        description=", ".join(f"{kind.id}: {kind.hosts}" for kind in widespread),
        bars=[
            Bar(
                label=kind.id,
                value=kind.hosts,
                tone=severity_tone(kind.severity),
                shown=f"{kind.hosts} ({kind.severity})",
            )
            for kind in widespread
        ],
    )
    table = data_table(
        "Kinds of finding",
        ["Kind", "Severity", "Servers", "Example"],
        [(kind.id, kind.severity, kind.hosts, kind.example) for kind in kinds],
        table_id="kinds-table",
    )
    caption = "Servers per kind of finding" + (f" (the {KIND_BARS} most widespread)" if len(kinds) > KIND_BARS else "")
    return figure("chart-kinds", caption, svg, table)


def _versions(fleet: Fleet) -> str:
    counts = fleet.versions()
    reachable = fleet.reachable or 1
    bars = [
        Bar(
            label=version_label(version),
            value=counts[version],
            tone=f"version-{version.replace('_', '-')}",
            shown=f"{counts[version]} ({100 * counts[version] // reachable}%)",
        )
        for version in VERSIONS
    ]
    svg = bar_chart(
        chart_id="chart-versions-svg",
        title="Servers accepting each protocol version",
        description=", ".join(f"{version_label(version)}: {counts[version]}" for version in VERSIONS),
        bars=bars,
    )
    table = data_table(
        "Servers accepting each protocol version",
        ["Version", "Servers"],
        [(version_label(version), counts[version]) for version in VERSIONS],
    )
    return figure(
        "chart-versions", f"Servers accepting each protocol version (of {fleet.reachable} reachable)", svg, table
    )


def _days(days: int) -> str:
    return f"expired {-days} days ago" if days < 0 else f"{days} days"


def _expiry(fleet: Fleet) -> str:
    expiring = fleet.expiring()
    if not expiring:
        return "<p>No certificate was retrieved.</p>"
    soonest = expiring[:EXPIRY_BARS]
    bars = [
        Bar(
            label=host.summary.target,
            value=int(host.summary.certificate_days_left or 0),
            tone="expired"
            if (host.summary.certificate_days_left or 0) < 0
            else ("expiring" if (host.summary.certificate_days_left or 0) < 30 else "valid"),
            shown=_days(int(host.summary.certificate_days_left or 0)),
        )
        for host in soonest
    ]
    svg = bar_chart(
        chart_id="chart-expiry-svg",
        title="Days until each server's certificate expires",
        description="; ".join(f"{bar.label}: {bar.shown}" for bar in bars),
        bars=bars,
    )
    table = data_table(
        "Certificate expiry",
        ["Server", "Days left", "Expires"],
        [
            (host.summary.target, host.summary.certificate_days_left, f"{host.summary.certificate_not_after:%Y-%m-%d}")
            for host in soonest
        ],
    )
    caption = "Days until the certificate expires" + (
        f" (the {EXPIRY_BARS} soonest of {len(expiring)})" if len(expiring) > EXPIRY_BARS else ""
    )
    return figure("chart-expiry", caption, svg, table)


def _trends(trends: Sequence[TrendPoint]) -> str:
    points = sorted(trends, key=lambda point: point.started_at)
    labels = [f"{point.started_at:%m-%d %H:%M}" for point in points]
    used = [column for column in GRADE_COLUMNS if any(point.grades.get(column) for point in points)]
    grades_svg = stacked_columns(
        chart_id="chart-trend-grades-svg",
        title="Servers per grade, per scan",
        description="; ".join(
            f"{label}: " + ", ".join(f"{column} {point.grades.get(column, 0)}" for column in used)
            for label, point in zip(labels, points, strict=True)
        ),
        columns=[
            (label, [point.grades.get(column, 0) for column in used])
            for label, point in zip(labels, points, strict=True)
        ],
        keys=[(column, grade_tone(column)) for column in used],
    )
    grades_table = data_table(
        "Servers per grade, per scan",
        ["Scan started (UTC)", *used, "Servers"],
        [
            (f"{point.started_at:%Y-%m-%d %H:%M}", *(point.grades.get(column, 0) for column in used), point.servers)
            for point in points
        ],
        table_id="trend-grades",
    )
    findings_svg = line_chart(
        chart_id="chart-trend-findings-svg",
        title="Findings per severity, per scan",
        description="; ".join(
            f"{label}: " + ", ".join(f"{severity} {point.findings.get(severity, 0)}" for severity in SEVERITIES)
            for label, point in zip(labels, points, strict=True)
        ),
        x_labels=labels,
        series=[
            Series(
                name=severity,
                tone=severity_tone(severity),
                values=tuple(point.findings.get(severity, 0) for point in points),
            )
            for severity in SEVERITIES
        ],
    )
    findings_table = data_table(
        "Findings per severity, per scan",
        ["Scan started (UTC)", *SEVERITIES],
        [
            (f"{point.started_at:%Y-%m-%d %H:%M}", *(point.findings.get(severity, 0) for severity in SEVERITIES))
            for point in points
        ],
        table_id="trend-findings",
    )
    return figure("chart-trend-grades", f"Grades over the last {len(points)} scans", grades_svg, grades_table) + figure(
        "chart-trend-findings", f"Findings over the last {len(points)} scans", findings_svg, findings_table
    )


_FILTERS: Final = (
    '<form class="filters" id="filters" role="search" aria-label="Filter servers" hidden>'
    '<label>Server contains <input type="search" id="filter-text" autocomplete="off"></label> '
    '<label>Grade <select id="filter-grade"><option value="">any</option>'
    + "".join(f"<option>{text(column)}</option>" for column in GRADE_COLUMNS)
    + "</select></label> "
    '<label>Worst finding at least <select id="filter-severity"><option value="">any</option>'
    + "".join(f'<option value="{rank}">{severity}</option>' for rank, severity in enumerate(SEVERITIES))
    + "</select></label> "
    '<output id="filter-status" aria-live="polite"></output></form>'
)


def _sort_header(label: str, kind: str) -> str:
    key = label.split()[0].lower()
    return f'<th scope="col" data-key="{key}" data-sort-type="{kind}"><button type="button">{label}</button></th>'


def _link(host: Host) -> str:
    return f'<a href="#{host.anchor}">{text(host.summary.target)}</a>'


def _cell(sort: object, content: str) -> str:
    """A cell with the value the script sorts by (empty: sorted last)."""
    return f"<td data-sort={attr('' if sort is None else sort)}>{content}</td>"


def _host_row(host: Host) -> str:
    summary = host.summary
    label = f' <span class="label">{text(host.label)}</span>' if host.label else ""
    column = host.grade_column
    rank = grade_rank(summary.grade)
    grade_sort = -1 if column == UNREACHABLE else (0 if rank is None else rank)
    graded = column not in (NOT_GRADED, UNREACHABLE)
    grade = f'<span class="grade {grade_tone(column)}">{text(column if graded else "-")}</span>'
    grade += "" if graded else f" {text(column)}"
    versions = ", ".join(version_label(version) for version in summary.versions)
    highest = VERSIONS.index(summary.highest_version) + 1 if summary.highest_version in VERSIONS else 0
    days = summary.certificate_days_left
    if not summary.reachable:
        worst = text(summary.error or "")
    elif summary.worst_finding:
        worst = f"{severity_badge(summary.worst_severity)} {text(summary.worst_finding)}"
    else:
        worst = ""
    cells = [
        f'<th scope="row" data-sort={attr(summary.target)}>{_link(host)}{label}</th>',
        _cell(grade_sort, grade),
        _cell(summary.score, "" if summary.score is None else str(summary.score)),
        _cell(highest, text(versions)),
        _cell(days, "" if days is None else text(_days(days))),
        *(_cell(summary.findings.get(s, 0), str(summary.findings.get(s, 0))) for s in SEVERITIES),
        _cell(severity_rank(host.worst_severity), worst),
    ]
    return f'<tr class="host"{filter_attributes(host)}>{"".join(cells)}</tr>'


def _hosts_table(fleet: Fleet) -> str:
    headers = [
        _sort_header("Server", "text"),
        _sort_header("Grade", "number"),
        _sort_header("Score", "number"),
        _sort_header("Versions", "number"),
        _sort_header("Certificate", "number"),
        *(_sort_header(severity.capitalize(), "number") for severity in SEVERITIES),
        _sort_header("Worst finding", "number"),
    ]
    rows = "\n".join(_host_row(host) for host in fleet.hosts)
    return (
        f"{_FILTERS}"
        '<div class="scroll"><table class="hosts sortable" id="hosts">'
        f"<caption>Servers ({len(fleet.hosts)}): select a column heading to sort</caption>"
        f"<thead><tr>{''.join(headers)}</tr></thead><tbody>\n{rows}\n</tbody></table></div>"
    )


def _matrix(fleet: Fleet) -> str:
    kinds = fleet.kinds()
    with_findings = [host for host in fleet.hosts if host.kinds]
    if not kinds:
        return "<p>No server has a finding.</p>"
    head = "".join(f'<th scope="col" class="kind-heading"><span>{text(kind.id)}</span></th>' for kind in kinds)
    rows = []
    for host in with_findings:
        cells = []
        for kind in kinds:
            severity = host.kinds.get(kind.id)
            cells.append(
                f'<td class="{severity_tone(severity)}" data-kind={attr(kind.id)}>'
                f"{_SEVERITY_SHORT.get(severity, text(severity))}</td>"
                if severity
                else "<td></td>"
            )
        rows.append(
            f'<tr class="host"{filter_attributes(host)}><th scope="row">{_link(host)}</th>{"".join(cells)}</tr>'
        )
    without = len(fleet.hosts) - len(with_findings)
    return (
        '<div class="scroll"><table class="matrix" id="matrix">'
        "<caption>Kinds of finding per server, by severity (crit, high, med, low); "
        f"{without} servers without findings not listed</caption>"
        f'<thead><tr><th scope="col">Server</th>{head}</tr></thead><tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )


def render_overview(fleet: Fleet, trends: Sequence[TrendPoint] | None) -> str:
    """The overview section."""
    total_findings = sum(fleet.findings_by_severity().values())
    unreachable = len(fleet.hosts) - fleet.reachable
    totals = (
        f'<p class="totals"><strong>{len(fleet.hosts)}</strong> servers: {fleet.reachable} reachable, '
        f"{unreachable} unreachable; {total_findings} findings.</p>"
    )
    parts = [
        '<section id="overview" aria-labelledby="overview-h"><h2 id="overview-h">Fleet overview</h2>',
        totals,
        '<div class="charts">',
        _section("grades", "Grades", _grades(fleet)),
        _section("severities", "Findings by severity", _severities(fleet)),
        _section("versions", "Protocol versions", _versions(fleet)),
        _section("expiry", "Certificate expiry", _expiry(fleet)),
        "</div>",
        _section("kinds", "Findings by kind", _kinds(fleet)),
    ]
    if trends and len(trends) >= 2:
        parts.append(_section("trends", "Trends", _trends(trends)))
    parts += [
        _section("servers-table", "Servers", _hosts_table(fleet)),
        _section("findings-matrix", "Servers and their findings", _matrix(fleet)),
        "</section>",
    ]
    return "".join(parts)
