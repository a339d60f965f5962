"""The insights as the console draws them: chart series, a sentence for screen readers and
the table behind each chart, from the k-suppressed rows of services/insights.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from consentry.api.charts import Chart, Series
from consentry.domain.consent import Source
from consentry.domain.insights import period_start

SOURCE_NAMES = {
    Source.WEB.value: "Web",
    Source.APP.value: "App",
    Source.STORE.value: "Store",
    Source.CALL_CENTRE.value: "Call centre",
    Source.EMAIL.value: "E-mail",
    Source.IMPORT.value: "Import",
    Source.API.value: "API",
    "unknown": "Unknown",
}


@dataclass(frozen=True)
class Figure:
    chart: Chart
    columns: list[str]
    rows: list[list[str]]
    hidden: int  # cells not shown: fewer than k customers
    legend: list[str]


def period_starts(first: date, last: date, period: str) -> list[date]:
    """The starts of the periods that begin within the range, in order."""
    starts: list[date] = []
    day = first
    while day <= last:
        start = period_start(day, period)
        if start >= first and (not starts or starts[-1] != start):
            starts.append(start)
        day += timedelta(days=1)
    return starts


def _label(day: date, period: str) -> str:
    return day.strftime("%b %Y") if period == "month" else day.strftime("%d %b")


def _count(n: float | None, k: int) -> str:
    return f"fewer than {k}" if n is None else f"{n:,.0f}"


def flows_figure(
    rows: list[dict[str, object]],
    first: date,
    last: date,
    period: str,
    purpose_title: str,
    channel: str,
    k: int,
) -> Figure:
    """Grants above the axis and withdrawals below, stacked by where customers made them."""
    starts = period_starts(first, last, period)
    index = {d.isoformat(): i for i, d in enumerate(starts)}
    cells: dict[tuple[str, str], list[float | None]] = defaultdict(lambda: [0.0] * len(starts))
    hidden = 0
    for row in rows:
        if row["channel"] != channel or row["day"] not in index:
            continue
        i = index[str(row["day"])]
        values = cells[(str(row["action"]), str(row["source"]))]
        if row["suppressed"]:
            hidden += 1
            values[i] = None
        else:
            values[i] = float(row["customers"])  # type: ignore[arg-type]
    sources = [s for s in SOURCE_NAMES if any(key[1] == s for key in cells)]
    names = [SOURCE_NAMES[s] for s in sources]
    zero: list[float | None] = [0.0] * len(starts)
    up = [
        Series(f"grants via {n}", cells.get(("grant", s), zero))
        for s, n in zip(sources, names, strict=True)
    ]
    down = [
        Series(f"withdrawals via {n}", cells.get(("withdraw", s), zero))
        for s, n in zip(sources, names, strict=True)
    ]
    granted = sum(v or 0 for s in up for v in s.values)
    withdrawn = sum(v or 0 for s in down for v in s.values)
    where = "on every channel" if channel == "*" else f"by {channel}"
    span = f"{first:%d %b %Y} to {last:%d %b %Y}"
    description = (
        f"{purpose_title} {where}, {span}, per {period}: {granted:,.0f} grants and "
        f"{withdrawn:,.0f} withdrawals counted in distinct customers per {period} and source."
    )
    if granted:
        busiest = max(range(len(starts)), key=lambda i: sum(s.values[i] or 0 for s in up))
        description += f" Most grants in the {period} of {starts[busiest]:%d %b %Y}."
    if hidden:
        description += f" {hidden} cells of fewer than {k} customers are hidden."
    chart = Chart(
        "flows",
        f"Grants and withdrawals of {purpose_title}",
        description,
        [_label(d, period) for d in starts],
        up,
        down,
    )
    table = [
        [starts[i].isoformat()]
        + [_count(s.values[i], k) for s in up]
        + [_count(s.values[i], k) for s in down]
        for i in range(len(starts))
        if any(s.values[i] != 0 for s in up + down)
    ]
    columns = (
        [period.capitalize()]
        + [f"Grants: {n}" for n in names]
        + [f"Withdrawals: {n}" for n in names]
    )
    return Figure(chart, columns, table, hidden, names)


def rates_figure(
    rows: list[dict[str, object]], first: date, last: date, purpose_title: str, k: int
) -> Figure:
    """The share of customers with the purpose granted, one line per channel."""
    days = period_starts(first, last, "day")
    index = {d.isoformat(): i for i, d in enumerate(days)}
    lines: dict[str, list[float | None]] = defaultdict(lambda: [None] * len(days))
    hidden = 0
    for row in rows:
        if row["day"] not in index:
            continue
        if row["suppressed"]:
            hidden += 1
            continue
        lines[str(row["channel"])][index[str(row["day"])]] = float(row["rate"])  # type: ignore[arg-type]
    channels = sorted(lines, key=lambda c: (c != "*", c))
    names = ["all channels" if c == "*" else c for c in channels]
    series = [Series(n, lines[c]) for c, n in zip(channels, names, strict=True)]
    latest = [
        f"{s.name} {next(v for v in reversed(s.values) if v is not None):.0%}"
        for s in series
        if any(v is not None for v in s.values)
    ]
    description = (
        f"Share of customers with {purpose_title} granted, daily, "
        f"{first:%d %b %Y} to {last:%d %b %Y}."
    )
    description += (" Latest: " + ", ".join(latest) + ".") if latest else " No snapshot yet."
    if hidden:
        description += f" {hidden} days hidden: fewer than {k} customers granted or did not."
    chart = Chart(
        "rates",
        f"Consent rate of {purpose_title}",
        description,
        [_label(d, "day") for d in days],
        series,
    )
    table = [
        [days[i].isoformat()]
        + ["hidden" if s.values[i] is None else f"{s.values[i]:.1%}" for s in series]
        for i in range(len(days))
        if any(s.values[i] is not None for s in series)
    ]
    return Figure(chart, ["Day", *names], table, hidden, names)
