"""The performance dashboard (SPEC §7): the measures by month for a team or force-wide, a trend
chart of each, and the drill-down to the records behind every figure.

Only the performance manager and supervisors see these pages. The figures come from
supervision/performance.py, one query per measure; the drill-down lists structured fields, and
typed reasons only to roles that read free text.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cram_site.models import AuditEvent, Officer
from referrals.models import Referral

from .charts import bar_chart, data_table
from .performance import (
    AgencyRateMeasure,
    MEASURES_BY_SLUG,
    Figure,
    Measure,
    Month,
    Report,
    Row,
    Scope,
    ShareMeasure,
    drill_rows,
    drill_url,
    last_quarter,
    last_twelve_months,
    months_between,
    parse_month,
    performance_report,
)
from .performance_forms import PerformanceRangeForm

PERMISSION = "supervision.view_performance"
DRILL_PAGE_SIZE = 50


def require_performance(user: Officer) -> None:
    if not user.has_perm(PERMISSION):
        raise PermissionDenied


# --- The dashboard ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    figure: Figure
    url: str
    period: str


@dataclass(frozen=True)
class TableRow:
    row: Row
    cells: list[Cell]
    total: Cell


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    svg: str
    table: str


def _table_rows(report: Report, rows: list[Row]) -> list[TableRow]:
    """Each row with a drill-down link on every figure (the total drills into the whole range)."""
    team = report.scope.team_code
    last = report.months[-1].key
    result = []
    for row in rows:
        cells = [Cell(figure, drill_url(row.measure, month, team_code=team, group=row.group), month.label)
                 for month, figure in row.cells(report.months)]
        to = last if len(report.months) > 1 else ""
        total = Cell(row.total, drill_url(row.measure, report.months[0], team_code=team, group=row.group, to=to),
                     report.period_label)
        result.append(TableRow(row, cells, total))
    return result


def chart_points(row: Row, months: list[Month]) -> list[tuple[str, float | None]]:
    """A count for a count, the percentage for a percentage (no figure where nothing was due)."""
    return [(month.label, figure.percent if row.percentage else figure.count) for month, figure in row.cells(months)]


def _charts(report: Report) -> list[Chart]:
    charts = []
    scope = report.scope.label
    first, last = report.chart_months[0].label, report.chart_months[-1].label
    for row in report.charted():
        measure = row.measure
        chart_id = f"chart-{measure.slug}"
        kind = "percentage" if row.percentage else "count"
        title = f"{row.label}: {kind} by month, {first} to {last}"
        description = f"{measure.help} {scope}."
        svg = bar_chart(chart_points(row, report.chart_months), chart_id=chart_id, title=title,
                        description=description, unit="%" if row.percentage else "",
                        maximum=100 if row.percentage else None)
        if row.percentage:
            headings = ["Month", measure.hit_label or "Count", "Of", "Percentage"]
            lines = [(month.label, figure.count, figure.of,
                      f"{figure.percent}%" if figure.percent is not None else "no figure")
                     for month, figure in row.cells(report.chart_months)]
        else:
            headings = ["Month", "Count"]
            lines = [(month.label, figure.count) for month, figure in row.cells(report.chart_months)]
        table = data_table(lines, caption=f"{row.label} by month, {first} to {last} ({scope})", headings=headings)
        charts.append(Chart(measure.slug, row.label, svg, table))
    return charts


def _quick_links(form: PerformanceRangeForm, now: dt.datetime) -> list[tuple[str, str]]:
    team = form.data.get("team", "") if not form.team_locked else ""
    links = []
    for label, (first, last) in (("Last quarter", last_quarter(now)), ("Last 12 months", last_twelve_months(now))):
        query = QueryDict(mutable=True)
        query.update({"from_month": f"{first:%Y-%m}", "to_month": f"{last:%Y-%m}"})
        if team:
            query["team"] = team
        links.append((label, query.urlencode()))
    return links


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    require_performance(request.user)
    now = timezone.now()
    form = PerformanceRangeForm(request.GET, user=request.user, now=now)
    context: dict[str, Any] = {"form": form, "quick_links": _quick_links(form, now), "now": now}
    if form.is_valid():
        first, last = form.months()
        report = performance_report(form.scope(), first, last, now=now)
        context.update(
            report=report, scope=report.scope,
            table_rows=_table_rows(report, report.main_rows),
            quality_groups=_quality_groups(_table_rows(report, report.quality_rows)),
            charts=_charts(report),
        )
    return render(request, "supervision/performance/dashboard.html", context)


def _quality_groups(rows: list[TableRow]) -> list[tuple[Measure, list[TableRow]]]:
    groups: dict[str, tuple[Measure, list[TableRow]]] = {}
    for table_row in rows:
        groups.setdefault(table_row.row.measure.slug, (table_row.row.measure, []))[1].append(table_row)
    return list(groups.values())


# --- The drill-down ----------------------------------------------------------------------------

@dataclass
class DrillDown:
    """One figure's records: what the page and its export both show."""

    measure: Measure
    scope: Scope
    months: list[Month]
    group: str
    group_label: str
    show: str
    records: Any
    figure: Figure

    @property
    def period_label(self) -> str:
        first, last = self.months[0].label, self.months[-1].label
        return first if first == last else f"{first} to {last}"

    @property
    def title(self) -> str:
        group = f" ({self.group_label})" if self.group_label else ""
        side = f", {self.measure.hit_label.lower()}: {self.show}" if self.show else ""
        return f"{self.measure.label}{group}{side}, {self.period_label}, {self.scope.label}"


def load_drill(user: Officer, query: QueryDict | dict[str, str], *, slug: str, month: str,
               now: dt.datetime) -> tuple[DrillDown | None, PerformanceRangeForm]:
    """The drill-down asked for, or None with the form's errors (a month in the future…).

    Unknown measures and months that are not months are not found (404)."""
    measure = MEASURES_BY_SLUG.get(slug)
    if measure is None or parse_month(month) is None:
        raise Http404("There is no such performance figure.")
    to = query.get("to", "") or month
    form = PerformanceRangeForm({"from_month": month, "to_month": to, "team": query.get("team", "")},
                                user=user, now=now)
    if not form.is_valid():
        return None, form
    first, last = form.months()
    scope = form.scope()
    months = months_between(first, last, now=now)
    # A group narrows only a measure that is split into groups (routes, answers, agencies).
    group = query.get("group", "") if isinstance(measure, (ShareMeasure, AgencyRateMeasure)) else ""
    group_label = group
    if isinstance(measure, ShareMeasure):
        group_label = measure.group_label(group)
        if group and not group_label:
            raise Http404("There is no such group of this figure.")
    show = query.get("show", "") if measure.percentage and query.get("show", "") in ("yes", "no") else ""
    records = measure.drill(scope, months[0].starts, months[-1].ends, group=group, show=show)
    # The headline figure comes from the very counting the dashboard does, so the two always agree.
    rows = measure.rows(scope, months, months)
    matching = [row for row in rows if row.group == group]
    figure = matching[0].total if matching else Figure(sum(row.total.count for row in rows))
    return DrillDown(measure, scope, months, group, group_label, show, records, figure), form


def _audit_drill(drill: DrillDown, page: Page, urns: list[str]) -> None:
    """A drill-down lists children's records: one access event names the figure and every URN shown."""
    AuditEvent.objects.create(
        content_type=ContentType.objects.get_for_model(Referral), object_pk="",
        object_repr=f"Performance drill-down: {drill.title}"[:200], action=AuditEvent.Action.ACCESS,
        additional_data={"performance_drill": drill.measure.slug, "from": drill.months[0].key,
                         "to": drill.months[-1].key, "team": drill.scope.team_code or "all",
                         "group": drill.group, "show": drill.show, "page": page.number, "urns": urns},
    )


@require_GET
def drill(request: HttpRequest, slug: str, month: str) -> HttpResponse:
    require_performance(request.user)
    now = timezone.now()
    drill_down, form = load_drill(request.user, request.GET, slug=slug, month=month, now=now)
    measure = MEASURES_BY_SLUG[slug]
    context: dict[str, Any] = {"measure": measure, "form": form, "drill": drill_down}
    if drill_down is not None:
        page = Paginator(drill_down.records, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
        headings, rows = drill_rows(measure, page.object_list, request.user)
        _audit_drill(drill_down, page, [row.referral.urn for row in rows])
        query = request.GET.copy()
        query.pop("page", None)
        sides = request.GET.copy()
        for name in ("page", "show"):
            sides.pop(name, None)
        # The export carries the page's query string; the figure's measure and month, which are in
        # the path here, go with it as parameters of their own.
        export_extra = QueryDict(mutable=True)
        export_extra.update({"measure": slug, "month": month})
        first, last = drill_down.months[0].first_day, drill_down.months[-1].first_day
        back = QueryDict(mutable=True)
        back.update({"from_month": f"{first:%Y-%m}", "to_month": f"{last:%Y-%m}"})
        if drill_down.scope.team_code and not form.team_locked:
            back["team"] = drill_down.scope.team_code
        context.update(page=page, headings=headings, rows=rows, query=query.urlencode(),
                       sides_query=sides.urlencode(), export_extra=export_extra.urlencode(),
                       dashboard_query=back.urlencode())
    return render(request, "supervision/performance/drill.html", context)

