"""Exports of the performance measure tables and drill-downs, registered with cram_site.exports.

Both builders read the dashboard's own functions (supervision/performance.py and the drill-down
loader of performance_views), so a file always holds what the page shows.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.utils import timezone

from cram_site.exports import ExportTable, register_export
from cram_site.models import Officer

from .performance import Figure, Report, Row, drill_columns, drill_headings, drill_row, performance_report
from .performance_forms import PerformanceRangeForm, validation_messages
from .performance_views import load_drill, require_performance

EXPORT_CHUNK = 2_000


def _row_label(row: Row) -> str:
    if row.measure.section == "quality":
        return f"{row.measure.label} {row.label}"
    if row.level:
        return f"{row.measure.label}: {row.label}"
    return row.label


def _figure_cells(figure: Figure, percentage: bool) -> list[object]:
    return [figure.count, figure.percent if percentage else None]


def performance_table(report: Report) -> tuple[list[str], list[list[object]]]:
    """One row per measure (and per route, agency or answer), a count and a percentage per month."""
    headers = ["Measure"]
    for month in report.months:
        headers += [month.label, f"{month.label} %"]
    headers += ["Total", "Total %"]
    rows = []
    for row in report.rows:
        cells: list[object] = [_row_label(row)]
        for _, figure in row.cells(report.months):
            cells += _figure_cells(figure, row.percentage)
        cells += _figure_cells(row.total, row.percentage)
        rows.append(cells)
    return headers, rows


@register_export("performance", label="Performance measures")
def export_performance(user: Officer, query: QueryDict) -> ExportTable:
    require_performance(user)
    now = timezone.now()
    form = PerformanceRangeForm(query, user=user, now=now)
    if not form.is_valid():
        raise ValidationError(validation_messages(form))
    first, last = form.months()
    report = performance_report(form.scope(), first, last, now=now)
    headers, rows = performance_table(report)
    return ExportTable(title=f"Performance measures, {report.period_label}, {report.scope.label}",
                       headers=headers, rows=rows, total_rows=len(rows))


@register_export("performance_drill", label="Records behind a performance figure")
def export_performance_drill(user: Officer, query: QueryDict) -> ExportTable:
    require_performance(user)
    slug, month = query.get("measure", ""), query.get("month", "")
    try:
        drill, form = load_drill(user, query, slug=slug, month=month, now=timezone.now())
    except Http404 as error:
        raise ValidationError("There is no such performance figure to export.") from error
    if drill is None:
        raise ValidationError(validation_messages(form))
    measure = drill.measure
    columns = drill_columns(measure, user)

    def rows() -> Iterator[Sequence[object]]:
        for record in drill.records.iterator(chunk_size=EXPORT_CHUNK):
            line = drill_row(measure, record, columns)
            cells: list[object] = [line.referral.urn, line.referral.team.code, *line.values]
            if measure.percentage:
                cells.append(line.counted)
            yield cells

    return ExportTable(title=drill.title, headers=drill_headings(measure, user), rows=rows(),
                       total_rows=drill.records.count())
