"""Server-rendered SVG charts: readable without JavaScript, described for screen readers.

Pure functions: a list of (label, value) pairs in, markup out. Every piece of text is escaped.
A chart names itself with `<title>`, says what it shows and every value in `<desc>`, and comes
with a data table (`data_table`) as its text alternative.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

Point = tuple[str, float | None]

WIDTH, HEIGHT = 560, 220
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 44, 12, 16, 40
BAR_COLOUR = "#0b5ed7"  # Bootstrap's primary, darkened to keep 4.5:1 against white
AXIS_COLOUR = "#495057"


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "no figure"
    text = f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return f"{text}{unit}"


def nice_maximum(value: float) -> float:
    """The top of the axis: 1, 2, 2.5 or 5 times a power of ten at or above `value` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def describe(points: Sequence[Point], *, unit: str = "") -> str:
    """Every value in words, for the chart's `<desc>`."""
    if not points:
        return "No months to show."
    return "; ".join(f"{label}: {_number(value, unit)}" for label, value in points) + "."


def bar_chart(points: Sequence[Point], *, chart_id: str, title: str, description: str = "",
              unit: str = "", maximum: float | None = None) -> SafeString:
    """A bar chart of `points` as inline SVG with role="img", a title and a description.

    `unit` follows each value ("%"); `maximum` fixes the top of the axis (100 for percentages).
    A point whose value is None (no figure: nothing to take a percentage of) has no bar and
    says so in its label.
    """
    chart_id = "".join(character for character in chart_id if character.isalnum() or character in "-_")
    values = [value for _, value in points if value is not None]
    top = maximum if maximum is not None else nice_maximum(max(values, default=0))
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    baseline = MARGIN_TOP + plot_height
    slot = plot_width / max(len(points), 1)
    bar_width = slot * 0.6
    desc = f"{description} {describe(points, unit=unit)}".strip()
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="performance-chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" data-chart="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        # Axes and the top of the scale.
        f'<line x1="{MARGIN_LEFT}" y1="{baseline}" x2="{WIDTH - MARGIN_RIGHT}" y2="{baseline}" '
        f'stroke="{AXIS_COLOUR}" stroke-width="1"/>',
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{baseline}" '
        f'stroke="{AXIS_COLOUR}" stroke-width="1"/>',
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{WIDTH - MARGIN_RIGHT}" y2="{MARGIN_TOP}" '
        f'stroke="#dee2e6" stroke-width="1" stroke-dasharray="4 3"/>',
        f'<text x="{MARGIN_LEFT - 6}" y="{MARGIN_TOP + 4}" text-anchor="end" font-size="11" '
        f'fill="{AXIS_COLOUR}">{escape(_number(top, unit))}</text>',
        f'<text x="{MARGIN_LEFT - 6}" y="{baseline + 4}" text-anchor="end" font-size="11" '
        f'fill="{AXIS_COLOUR}">{escape(_number(0, unit))}</text>',
    ]
    for index, (label, value) in enumerate(points):
        centre = MARGIN_LEFT + slot * index + slot / 2
        if value and top:
            # A zero draws no bar: its label on the axis says 0.
            height = plot_height * min(value, top) / top
            parts.append(
                f'<rect x="{centre - bar_width / 2:.1f}" y="{baseline - height:.1f}" width="{bar_width:.1f}" '
                f'height="{height:.1f}" fill="{BAR_COLOUR}"><title>{escape(label)}: '
                f'{escape(_number(value, unit))}</title></rect>')
        parts.append(
            f'<text x="{centre:.1f}" y="{baseline - (plot_height * min(value, top) / top if value and top else 0) - 4:.1f}" '
            f'text-anchor="middle" font-size="10" fill="#212529" aria-hidden="true">'
            f'{escape(_number(value, unit) if value is not None else "–")}</text>')
        month, _, year = label.partition(" ")
        parts.append(
            f'<text x="{centre:.1f}" y="{baseline + 14}" text-anchor="middle" font-size="10" '
            f'fill="{AXIS_COLOUR}" aria-hidden="true">{escape(month)}</text>')
        if year and (index == 0 or month == "Jan"):
            parts.append(
                f'<text x="{centre:.1f}" y="{baseline + 27}" text-anchor="middle" font-size="10" '
                f'fill="{AXIS_COLOUR}" aria-hidden="true">{escape(year)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def data_table(rows: Sequence[Sequence[object]], *, caption: str, headings: Sequence[str],
               hidden: bool = True) -> SafeString:
    """The chart's text alternative: a table of its figures (visually hidden by default)."""
    css = "table table-sm visually-hidden" if hidden else "table table-sm"
    head = "".join(f'<th scope="col">{escape(str(heading))}</th>' for heading in headings)
    body = "".join(
        "<tr>" + f'<th scope="row">{escape(str(row[0]))}</th>'
        + "".join(f"<td>{escape('' if cell is None else str(cell))}</td>" for cell in row[1:]) + "</tr>"
        for row in rows)
    return mark_safe(f'<table class="{css}"><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>'
                     f"<tbody>{body}</tbody></table>")
