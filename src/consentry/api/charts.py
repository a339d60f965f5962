"""Charts drawn on the server as SVG: no script, no CDN, readable without colour (each series
has a name in the legend and the data table beside the chart) and by screen readers (a title
and a description inside the SVG).

Hand-written rather than a charting library: the two charts the console needs are a few
dozen rectangles and lines; the libraries that render SVG on the server (matplotlib, pygal)
would add tens of megabytes, or are no longer maintained, for that."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from markupsafe import Markup, escape

# Okabe and Ito's palette: told apart by people with any common colour-vision deficiency.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 44


@dataclass
class Series:
    name: str
    values: list[float | None]  # one per label; None: not shown (under k, or no data)


@dataclass
class Chart:
    """``bars``: stacked above the axis (``up``) and below it (``down``); ``lines``: ``up``
    only, values between 0 and 1 drawn as per cent."""

    id: str
    title: str
    description: str
    labels: list[str]
    up: list[Series] = field(default_factory=list)
    down: list[Series] = field(default_factory=list)


def _nice(top: float) -> float:
    """A round axis maximum at or above ``top``."""
    if top <= 0:
        return 1
    step = float(10 ** (len(str(int(top))) - 1))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if top <= factor * step:
            return factor * step
    return 10 * step


def _header(chart: Chart) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart.id}-t {chart.id}-d" class="chart">',
        f'<title id="{chart.id}-t">{escape(chart.title)}</title>',
        f'<desc id="{chart.id}-d">{escape(chart.description)}</desc>',
    ]


def _x_labels(chart: Chart, x: list[float], baseline: float) -> list[str]:
    every = max(1, len(chart.labels) // 8)
    return [
        f'<text x="{x[i]:.1f}" y="{baseline:.1f}" text-anchor="middle" font-size="11" '
        f'fill="#1b1b1f">{escape(chart.labels[i])}</text>'
        for i in range(0, len(chart.labels), every)
    ]


def bars(chart: Chart) -> Markup:
    n = max(1, len(chart.labels))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def stack_top(group: list[Series]) -> float:
        return max(
            (sum(s.values[i] or 0 for s in group) for i in range(len(chart.labels))), default=0
        )

    up_max, down_max = _nice(stack_top(chart.up)), stack_top(chart.down)
    down_max = _nice(down_max) if down_max else 0
    scale = plot_h / (up_max + down_max)
    zero = TOP + up_max * scale
    slot = plot_w / n
    width = max(1.0, slot * 0.8)
    out = _header(chart)
    for value, y in ((up_max, TOP), (0, zero), (down_max, TOP + plot_h)):
        if value or y == zero:
            label = f"{value:,.0f}"
            out.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="#c9c9d2"/><text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
                f'font-size="11" fill="#1b1b1f">{label}</text>'
            )
    for group, sign in ((chart.up, -1), (chart.down, 1)):
        for i in range(len(chart.labels)):
            level = zero
            for colour, s in zip(PALETTE, group, strict=False):
                shown = s.values[i]
                if not shown:
                    continue
                h = shown * scale
                y = level - h if sign < 0 else level
                out.append(
                    f'<rect x="{LEFT + i * slot + (slot - width) / 2:.1f}" y="{y:.1f}" '
                    f'width="{width:.1f}" height="{h:.1f}" fill="{colour}">'
                    f"<title>{escape(s.name)}, {escape(chart.labels[i])}: {shown:,.0f}</title>"
                    "</rect>"
                )
                level = y if sign < 0 else level + h
    centres = [LEFT + (i + 0.5) * slot for i in range(len(chart.labels))]
    out += _x_labels(chart, centres, HEIGHT - BOTTOM + 16)
    out.append("</svg>")
    return Markup("".join(out))


def lines(chart: Chart) -> Markup:
    n = len(chart.labels)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    xs = [LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    out = _header(chart)
    for pct in (0, 25, 50, 75, 100):
        y = TOP + plot_h * (1 - pct / 100)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c9c9d2"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#1b1b1f">{pct} %</text>'
        )
    for colour, s in zip(PALETTE, chart.up, strict=False):
        # A hidden day breaks the line rather than being drawn across.
        run: list[str] = []
        runs: list[list[str]] = [run]
        for x, value in zip(xs, s.values, strict=True):
            if value is None:
                run = []
                runs.append(run)
                continue
            run.append(f"{x:.1f},{TOP + plot_h * (1 - value):.1f}")
        for points in runs:
            if len(points) > 1:
                out.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                    'stroke-width="2.5"/>'
                )
            for point in points:
                px, py = point.split(",")
                out.append(f'<circle cx="{px}" cy="{py}" r="3" fill="{colour}"/>')
    out += _x_labels(chart, xs, HEIGHT - BOTTOM + 16)
    out.append("</svg>")
    return Markup("".join(out))


def hbars(chart: Chart, k: int, percent: bool = False) -> Markup:
    """One bar per label (``up[0]``), largest scale at the right; a hidden value is drawn as
    no bar with "fewer than k" written in its place (hidden is not zero). Labels are written
    whole, on two lines where they need them."""
    values = chart.up[0].values if chart.up else []
    label_w, row_h = 300, 36
    height = TOP + row_h * max(1, len(chart.labels)) + 8
    top = max((v or 0 for v in values), default=0)
    scale_max = 1.0 if percent else _nice(top)
    plot_w = WIDTH - label_w - RIGHT - 70
    out = _header(chart)
    out[0] = out[0].replace(f"0 0 {WIDTH} {HEIGHT}", f"0 0 {WIDTH} {height}")
    for i, (label, value) in enumerate(zip(chart.labels, values, strict=True)):
        y = TOP + i * row_h
        lines = textwrap.wrap(label, 44, max_lines=2, placeholder="…") or [""]
        first_y = y + 22 - 7 * (len(lines) - 1)
        spans = "".join(
            f'<tspan x="{label_w - 8}" y="{first_y + 14 * n}">{escape(line)}</tspan>'
            for n, line in enumerate(lines)
        )
        out.append(
            f'<text text-anchor="end" font-size="12" fill="#1b1b1f"><title>{escape(label)}'
            f"</title>{spans}</text>"
        )
        if value is None:
            out.append(
                f'<text x="{label_w + 4}" y="{y + 22}" font-size="12" fill="#4a4a55">'
                f"fewer than {k} customers: not shown</text>"
            )
            continue
        w = plot_w * value / scale_max if scale_max else 0
        shown = f"{value:.0%}" if percent else f"{value:,.0f}"
        out.append(
            f'<rect x="{label_w}" y="{y + 8}" width="{w:.1f}" height="{row_h - 14}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {shown}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 22}" font-size="12" '
            f'fill="#1b1b1f">{shown}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def legend(names: list[str]) -> list[tuple[str, str]]:
    """(colour, name) of each series, in drawing order (grants and withdrawals of one source
    share a colour)."""
    return list(zip(PALETTE, names, strict=False))
