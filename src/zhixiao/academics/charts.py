"""The analysis page's charts, drawn on the server as SVG (no chart library, no script): bars of the classes'
means and of the score bands. Every piece of text is escaped here."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BLUE = "#1f5fbf"
GREY = "#6b7785"
FONT = 'font-family="system-ui, sans-serif"'


def bars(items: Sequence[tuple[str, float | None, str]], *, title: str, largest: float, chart_id: str) -> str:
    """Horizontal bars (label, value, text shown at the bar's end), scaled to `largest`."""
    row_h, top, label_w, bar_w, right = 26, 8, 110, 320, 70
    width = label_w + bar_w + right
    height = top * 2 + row_h * max(len(items), 1)
    parts = [
        f'<svg class="chart" id="{escape(chart_id, quote=True)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px;height:auto" role="img" '
        f'aria-label="{escape(title, quote=True)}" {FONT}><title>{escape(title)}</title>'
    ]
    for i, (label, value, text) in enumerate(items):
        y = top + i * row_h
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="13" fill="#1d2733">'
            f"{escape(label[:10])}</text>"
        )
        if value is None or value != value:
            parts.append(f'<text x="{label_w + 4}" y="{y + 17}" font-size="12" fill="{GREY}">—</text>')
            continue
        w = max(bar_w * (value / largest if largest else 0), 1.0)
        parts.append(
            f'<g class="bar"><title>{escape(label)}：{escape(text)}</title>'
            f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" rx="2" fill="{BLUE}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 17}" font-size="12" fill="#1d2733">{escape(text)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
