"""Charts drawn on the server as SVG: no chart library and no script to download, so they show on old
school PCs and phones alike and print as they look. Every piece of text is escaped here; the strings
are safe to put into a page as they are.

Rates are fractions (0.0–1.0) or None where no school day was expected (drawn as a gap, not as 0 %)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

BLUE = "#1f5fbf"
RED = "#c0392b"
GRID = "#dde3ea"
MUTED = "#6b7785"
FONT = 'font-family="system-ui, sans-serif"'


@dataclass(frozen=True)
class Point:
    label: str  # a class or grade name, or a date as the page shows it
    rate: float | None
    note: str = ""  # shown on hover: e.g. "出勤 38 / 应到 40"


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _attr(text: str) -> str:
    return escape(text, quote=True)


def bar_chart(points: Sequence[Point], *, title: str, warn_below: float = 0.9, empty: str = "—") -> str:
    """Horizontal bars, one per class (or grade): a long list grows downwards instead of crowding a
    phone's width. Bars under `warn_below` are red."""
    row_h, top, label_w, bar_w, right = 26, 8, 120, 300, 60
    width = label_w + bar_w + right
    height = top * 2 + row_h * max(len(points), 1)
    parts = [
        f'<svg class="chart chart-bar" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px;height:auto" role="img" aria-label="{_attr(title)}" {FONT}>',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0.0, 0.5, 0.9, 1.0):
        x = label_w + bar_w * tick
        dash = ' stroke-dasharray="3 3"' if tick == 0.9 else ""
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - top + 4}" stroke="{GRID}"{dash}/>')
    if not points:
        parts.append(
            f'<text x="{width / 2:.0f}" y="{height / 2 + 5:.0f}" text-anchor="middle" fill="{MUTED}" '
            f'font-size="13">{escape(empty)}</text>'
        )
    for i, p in enumerate(points):
        y = top + i * row_h
        label = p.label if len(p.label) <= 9 else p.label[:8] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="13" fill="#1d2733">'
            f"{escape(label)}</text>"
        )
        hover = f"{p.label}：{_pct(p.rate) if p.rate is not None else empty}" + (f"（{p.note}）" if p.note else "")
        if p.rate is None:
            parts.append(
                f'<g class="bar" data-label="{_attr(p.label)}"><title>{escape(hover)}</title>'
                f'<text x="{label_w + 4}" y="{y + 17}" font-size="12" fill="{MUTED}">{escape(empty)}</text></g>'
            )
            continue
        w = max(bar_w * min(max(p.rate, 0.0), 1.0), 1.0)
        colour = RED if p.rate < warn_below else BLUE
        parts.append(
            f'<g class="bar" data-label="{_attr(p.label)}"><title>{escape(hover)}</title>'
            f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" rx="2" fill="{colour}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 17}" font-size="12" fill="#1d2733">{_pct(p.rate)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(points: Sequence[Point], *, title: str, empty: str = "—") -> str:
    """The daily rate as a line over the period's school days; the y axis starts at a round value just
    under the lowest rate so that a dip from 98 % to 93 % is visible."""
    width, height = 640, 240
    left, right, top, bottom = 48, 16, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    rates = [p.rate for p in points if p.rate is not None]
    low = min(rates) if rates else 0.0
    floor = 0.0 if low < 0.5 else max(0.0, (int(low * 10) / 10) - 0.1)  # 0.93 → 0.8, 0.42 → 0
    span = 1.0 - floor

    def y_of(rate: float) -> float:
        return top + plot_h * (1.0 - (rate - floor) / span)

    parts = [
        f'<svg class="chart chart-line" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px;height:auto" role="img" aria-label="{_attr(title)}" {FONT}>',
        f"<title>{escape(title)}</title>",
    ]
    steps = 4
    for k in range(steps + 1):
        rate = floor + span * k / steps
        y = y_of(rate)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{MUTED}">'
            f"{rate * 100:.0f}%</text>"
        )
    if not rates:
        parts.append(
            f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" font-size="13" fill="{MUTED}">'
            f"{escape(empty)}</text></svg>"
        )
        return "".join(parts)
    n = len(points)
    step = plot_w / (n - 1) if n > 1 else 0.0

    def x_of(i: int) -> float:
        return left + (step * i if n > 1 else plot_w / 2)

    # A gap (a day with nothing expected) breaks the line instead of drawing it through zero.
    runs: list[list[str]] = [[]]
    for i, p in enumerate(points):
        if p.rate is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(f"{x_of(i):.1f},{y_of(p.rate):.1f}")
    for run in runs:
        if len(run) > 1:
            parts.append(f'<polyline fill="none" stroke="{BLUE}" stroke-width="2" points="{" ".join(run)}"/>')
    label_every = max(1, -(-n // 8))  # at most about eight date labels
    for i, p in enumerate(points):
        x = x_of(i)
        if i % label_every == 0 or i == n - 1:
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" fill="{MUTED}">'
                f"{escape(p.label)}</text>"
            )
        if p.rate is None:
            continue
        hover = f"{p.label}：{_pct(p.rate)}" + (f"（{p.note}）" if p.note else "")
        parts.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y_of(p.rate):.1f}" r="3.5" fill="{BLUE}">'
            f"<title>{escape(hover)}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
