"""Plots for the analytics page as inline SVG, drawn on the server (no script, no CDN): lines
over days, grouped bars over channels or model versions. Each point carries a <title> with its
exact figure, so a pointer shows it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from parley.studio.analytics import Report

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 44
MAX_X_LABELS = 12


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float]
    color: str
    dash: str = ""  # an SVG stroke-dasharray: lines that coincide stay visible


def _ceiling(top: float, percent: bool) -> float:
    """A round upper bound for the y axis, four times a round step (1, 2 or 5 times a power of
    ten; 2.5 too above 10), so the five grid lines fall on round figures."""
    if percent or top <= 0:
        return 1.0
    quarter = top / 4
    power = 10 ** math.floor(math.log10(quarter))
    factors = (1, 2, 2.5, 5, 10) if power >= 10 else (1, 2, 5, 10)
    step = next(f * power for f in factors if f * power >= quarter)
    return float(max(step, 1) * 4)


def _figure(value: float, percent: bool) -> str:
    if percent:
        return f"{100 * value:.0f}%"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def chart(
    chart_id: str, title: str, labels: list[str], series: list[Series], *, lines: bool,
    percent: bool = False,
) -> Markup:  # fmt: skip
    """An SVG plot of `series` over `labels`: lines (a time axis) or grouped bars."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _ceiling(max((v for s in series for v in s.values), default=0.0), percent)
    n = max(len(labels), 1)
    slot = plot_w / n

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * (value / top)

    def x(index: int) -> float:
        return LEFT + slot * (index + 0.5)

    out = [
        f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<text x="{LEFT}" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for step in range(5):  # grid lines and y labels
        value = top * step / 4
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#ddd"/><text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
            f'class="tick">{_figure(value, percent)}</text>'
        )
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    for index, label in enumerate(labels):
        if index % every == 0:
            out.append(
                f'<text x="{x(index):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                f'class="tick">{escape(label)}</text>'
            )
    bar = slot * 0.8 / max(len(series), 1)
    for number, one in enumerate(series):
        color = escape(one.color)
        if lines:
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(one.values))
            out.append(
                f'<polyline class="series" data-series="{escape(one.name)}" fill="none" '
                f'stroke="{color}" stroke-width="2" stroke-dasharray="{escape(one.dash)}" '
                f'points="{points}"/>'
            )
        for index, value in enumerate(one.values):
            tip = f"<title>{escape(one.name)}, {escape(labels[index])}: {_figure(value, percent)}</title>"
            if lines:
                out.append(
                    f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="3" fill="{color}">'
                    f"{tip}</circle>"
                )
            else:
                left = LEFT + slot * index + slot * 0.1 + bar * number
                out.append(
                    f'<rect class="series" data-series="{escape(one.name)}" x="{left:.1f}" '
                    f'y="{y(value):.1f}" width="{bar:.1f}" height="{y(0) - y(value):.1f}" '
                    f'fill="{color}">{tip}</rect>'
                )
    for number, one in enumerate(series):  # the legend
        at = LEFT + number * 170
        out.append(
            f'<rect x="{at}" y="{HEIGHT - 16}" width="10" height="10" fill="{escape(one.color)}"/>'
            f'<text x="{at + 14}" y="{HEIGHT - 7}" class="legend">{escape(one.name)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def report_charts(report: Report) -> list[Markup]:
    """The analytics page's two plots: volumes (conversations, users) and rates (abandonment,
    fallback, handoff), over days as lines, over channels or models as bars."""
    labels = [b.key for b in report.buckets]
    lines = report.group == "day"
    volumes = [
        Series("conversations", [b.conversations for b in report.buckets], "#5a7bb5"),
        Series("users", [b.users for b in report.buckets], "#e0913a", "6 4"),
    ]
    rates = [
        Series("abandonment", [b.abandonment_rate for b in report.buckets], "#c0392b"),
        Series("fallback", [b.fallback_rate for b in report.buckets], "#8e44ad", "6 4"),
        Series("handoff", [b.handoff_rate for b in report.buckets], "#16a085", "2 3"),
    ]
    return [
        chart("plot-volume", f"Conversations and users per {report.group}", labels, volumes,
              lines=lines),
        chart("plot-rates", f"Abandonment, fallback and handoff rates per {report.group}", labels,
              rates, lines=lines, percent=True),
    ]  # fmt: skip
