"""The insights as the console draws them: chart series, a sentence for screen readers and
the table behind each chart, from the k-suppressed rows of services/insights.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from consentry.api.charts import Chart, Series
from consentry.domain.consent import Source
from consentry.domain.insights import (
    EMPTY_GROUPS,
    OUTCOME_TITLES,
    PROFILING_METRICS,
    SUPPRESSION_GROUPS,
    Share,
    Totals,
    period_start,
)
from consentry.domain.questions import Question

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
    why_empty: str = ""  # said above a chart with nothing to draw


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
    # Boxes left unticked and grants waiting for confirmation: in the table, beside the bars.
    others = {
        action: [
            _sum_shown(
                [
                    row
                    for row in rows
                    if row["action"] == action
                    and row["channel"] == channel
                    and row["day"] == start.isoformat()
                ]
            )
            for start in starts
        ]
        for action in ("refuse", "request")
    }
    table = [
        [starts[i].isoformat()]
        + [_count(s.values[i], k) for s in up]
        + [_count(s.values[i], k) for s in down]
        + [_count(others["refuse"][i], k), _count(others["request"][i], k)]
        for i in range(len(starts))
        if any(s.values[i] != 0 for s in up + down)
        or others["refuse"][i] != 0
        or others["request"][i] != 0
    ]
    columns = (
        [period.capitalize()]
        + [f"Grants: {n}" for n in names]
        + [f"Withdrawals: {n}" for n in names]
        + ["Left unticked (refused)", "Waiting for confirmation"]
    )
    why = ""
    if not granted and not withdrawn:
        why = (
            f"Nothing to draw: each of the {hidden} counts in this view is of fewer than {k} "
            "customers, and such counts are hidden, not zero. Per week or per month, or a "
            "longer range, gathers enough."
            if hidden
            else f"Nothing to draw: nobody granted or withdrew {purpose_title} {where} in "
            "this range."
        )
    return Figure(chart, columns, table, hidden, names, why)


def _sum_shown(rows: list[dict[str, object]]) -> float | None:
    """Shown counts added up (hidden ones never: they would be a subtraction away); None when
    every cell was hidden, 0 when there were none."""
    shown = [float(r["customers"]) for r in rows if not r["suppressed"]]  # type: ignore[arg-type]
    if not shown:
        return None if rows else 0.0
    return sum(shown)


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
    points = sum(any(s.values[i] is not None for s in series) for i in range(len(days)))
    why = ""
    if points <= 1:
        why = (
            f"Every day here is hidden: fewer than {k} customers granted, or did not."
            if hidden and not points
            else "One point so far: consent rates are counted once a day from the day the "
            "server first ran, and the line grows by a point a day."
            if points
            else "Nothing to draw yet: consent rates are counted once a day from the day the "
            "server first ran."
        )
    return Figure(chart, ["Day", *names], table, hidden, names, why)


# -- what customers told us, and what asking them cost


STAGE_NAMES = {"1": "Icebreaker", "2": "Getting to know", "3": "Trusted"}


def answers_figure(shares: list[Share], question: Question, k: int) -> Figure:
    """The latest snapshot in the range: customers holding each value of the question."""
    mine = [s for s in shares if s.group == question.id]
    latest = max((s.day for s in mine), default=None)
    held = {s.key: s.customers for s in mine if s.day == latest}
    values = [o.value for o in question.options] or ["yes", "no"]
    values += sorted(v for v in held if v not in values)  # options since removed
    labels = {o.value: o.label_in("en") for o in question.options}
    names = [labels.get(v, v) for v in values]
    counts: list[float | None] = [
        None if v in held and held[v] is None else float(held.get(v) or 0) for v in values
    ]
    parts = [f"{n}: {_count(c, k)}" for n, c in zip(names, counts, strict=True)]
    text = question.text_in("en")
    description = (
        f"Customers holding each answer to “{text}” on {latest:%d %b %Y}: " + "; ".join(parts) + "."
        if latest
        else f"No snapshot of the answers to “{text}” in this range yet."
    )
    chart = Chart(
        "answers", f"Answers to “{text}”", description, names, [Series("customers", counts)]
    )
    rows = [[n, _count(c, k)] for n, c in zip(names, counts, strict=True)] if latest else []
    return Figure(chart, ["Answer", "Customers"], rows, sum(c is None for c in counts), [])


def stages_figure(shares: list[Share], first: date, last: date, k: int) -> Figure:
    days = period_starts(first, last, "day")
    index = {d: i for i, d in enumerate(days)}
    series = {stage: Series(name, [0.0] * len(days)) for stage, name in STAGE_NAMES.items()}
    hidden = 0
    seen: set[date] = set()
    for s in shares:
        if s.day not in index or s.key not in series:
            continue
        seen.add(s.day)
        series[s.key].values[index[s.day]] = None if s.customers is None else float(s.customers)
        hidden += s.customers is None
    latest = max(seen, default=None)
    if latest is not None:
        at = index[latest]
        now = "; ".join(f"{x.name}: {_count(x.values[at], k)}" for x in series.values())
        description = f"Customers at each relationship stage, daily. On {latest:%d %b %Y}: {now}."
    else:
        description = "Customers at each relationship stage, daily: no snapshot in this range yet."
    chart = Chart(
        "stages",
        "Customers per relationship stage",
        description,
        [_label(d, "day") for d in days],
        list(series.values()),
    )
    rows = [
        [d.isoformat(), *(_count(x.values[i], k) for x in series.values())]
        for i, d in enumerate(days)
        if d in seen
    ]
    return Figure(chart, ["Day", *STAGE_NAMES.values()], rows, hidden, list(STAGE_NAMES.values()))


@dataclass(frozen=True)
class QuestionEconomics:
    question: str
    asked: int
    answered: int
    declined: int
    points: int
    left_out: int  # days of this question under k, not added in

    @property
    def answer_rate(self) -> str:
        return f"{self.answered / self.asked:.0%}" if self.asked else "none"

    @property
    def points_per_answer(self) -> str:
        return f"{self.points / self.answered:.1f}" if self.answered else "none"


def economics(totals: Totals, questions: dict[str, Question]) -> list[QuestionEconomics]:
    """Per question over the range: the shown daily counts added up."""
    ids = sorted({key for _metric, key in totals}, key=lambda q: (q not in questions, q))
    out = []
    for qid in ids:

        def get(metric: str, *, amount: bool = False, qid: str = qid) -> int:
            found = totals.get((metric, qid), (0, 0, 0))
            return found[1] if amount else found[0]

        left_out = sum(totals.get((m, qid), (0, 0, 0))[2] for m in PROFILING_METRICS)
        title = questions[qid].text_in("en") if qid in questions else qid
        out.append(
            QuestionEconomics(
                title,
                get("asked"),
                get("answered"),
                get("declined"),
                get("points", amount=True),
                left_out,
            )
        )
    return out


def economics_figure(
    per_day: list[tuple[date, str, int, int]], first: date, last: date, k: int
) -> Figure:
    """Daily answers and declines (all questions; cells under k left out)."""
    days = period_starts(first, last, "day")
    index = {d: i for i, d in enumerate(days)}
    answered = Series("answered", [0.0] * len(days))
    declined = Series("declined", [0.0] * len(days))
    hidden = 0
    for day, metric, customers, left_out in per_day:
        target = {"answered": answered, "declined": declined}.get(metric)
        if target is None or day not in index:
            continue
        hidden += left_out
        target.values[index[day]] = float(customers)
    total_a = sum(v or 0 for v in answered.values)
    total_d = sum(v or 0 for v in declined.values)
    description = (
        f"Questions answered and declined per day, {first:%d %b %Y} to {last:%d %b %Y}: "
        f"{total_a:,.0f} answers and {total_d:,.0f} declines"
        + (f"; {hidden} question-days of fewer than {k} customers left out." if hidden else ".")
    )
    chart = Chart(
        "economics",
        "Answers and declines per day",
        description,
        [_label(d, "day") for d in days],
        [answered, declined],
    )
    rows = [
        [d.isoformat(), f"{answered.values[i]:,.0f}", f"{declined.values[i]:,.0f}"]
        for i, d in enumerate(days)
        if answered.values[i] or declined.values[i]
    ]
    return Figure(chart, ["Day", "Answered", "Declined"], rows, hidden, ["answered", "declined"])


# -- offers


@dataclass(frozen=True)
class OfferFigures:
    suppression: Figure
    offers: list[list[str]]  # offer, chosen, dismissed, dismissed share
    empty: list[tuple[str, str]]  # why decisions came back empty, shown counts
    decisions: int
    considered: int


def shown_count(totals: Totals, key: tuple[str, str], k: int) -> str:
    """A count summed over the days shown, saying so when days under k were left out: hidden
    is not zero."""
    customers, _total, left_out = totals.get(key, (0, 0, 0))
    if not left_out:
        return f"{customers:,}"
    if not customers:
        return f"fewer than {k} a day"
    return f"{customers:,} + days of fewer than {k}"


def _titled(outcome: str, group: str) -> str:
    """An outcome's title, with its group where the title does not say it already."""
    title = OUTCOME_TITLES.get(outcome, outcome)
    return title if group.lower() in title.lower() else f"{title} ({group})"


def offer_figures(
    totals: Totals, titles: dict[str, str], first: date, last: date, k: int
) -> OfferFigures:

    def summed(metric: str, *, amount: bool = True) -> int:
        return sum(v[1] if amount else v[0] for (m, _key), v in totals.items() if m == metric)

    def hidden(metric: str) -> bool:
        """Every day of it under k: nothing to show."""
        cells = [v for (m, _key), v in totals.items() if m == metric]
        return bool(cells) and not any(v[0] for v in cells)

    considered = summed("considered")
    reasons = sorted(
        ((key, v[1], not v[0] and v[2] > 0) for (m, key), v in totals.items() if m == "suppressed"),
        key=lambda kv: -kv[1],
    )
    chosen_total = summed("chosen")
    labels = [
        OUTCOME_TITLES["chosen"],
        *(_titled(r, SUPPRESSION_GROUPS.get(r, "other")) for r, _n, _hidden in reasons),
    ]
    outcomes = [(chosen_total, hidden("chosen")), *((n, h) for _r, n, h in reasons)]
    shares: list[float | None] = [
        None if was_hidden else (n / considered if considered else 0.0)
        for n, was_hidden in outcomes
    ]
    parts = [
        f"{label} {share:.0%}"
        for label, share in zip(labels, shares, strict=True)
        if share is not None
    ]
    description = (
        f"Of {considered:,} offers that were in date and on the channel, "
        f"{first:%d %b %Y} to {last:%d %b %Y}: " + ", ".join(parts) + "."
        if considered
        else "No decisions about more than k customers in this range."
    )
    chart = Chart(
        "suppression",
        "What happened to the offers considered",
        description,
        labels,
        [Series("share", shares)],
    )
    rows = [
        [label, f"fewer than {k} customers a day" if share is None else f"{share:.1%}"]
        for label, share in zip(labels, shares, strict=True)
    ]
    suppression = Figure(chart, ["Outcome", "Share of offers considered"], rows, 0, [])
    offer_ids = sorted({key for (m, key) in totals if m in ("chosen", "dismissed")})
    offers = []
    for oid in offer_ids:
        chosen = totals.get(("chosen", oid), (0, 0, 0))
        dismissed = totals.get(("dismissed", oid), (0, 0, 0))
        # A share of counts with hidden days in either would be a guess: not shown.
        share = (
            f"{dismissed[0] / chosen[0]:.0%}"
            if chosen[0] and not chosen[2] and not dismissed[2]
            else "not shown"
        )
        offers.append(
            [
                titles.get(oid, oid),
                shown_count(totals, ("chosen", oid), k),
                shown_count(totals, ("dismissed", oid), k),
                share,
            ]
        )
    empty = [
        (
            _titled(key, EMPTY_GROUPS.get(key, "other")),
            shown_count(totals, (m, key), k),
        )
        for (m, key), _v in sorted(totals.items())
        if m == "empty"
    ]
    return OfferFigures(suppression, offers, empty, summed("decisions", amount=False), considered)
