"""What customers share, counted so that no one is singled out.

Insights are aggregates: how many customers granted or withdrew a purpose on a day, by channel
and by source (web, app, store, call centre…). An aggregate that covers fewer than ``k``
customers could point at a person ("the one customer who withdrew health offers at the
Leeds store on Tuesday"), so it is never shown — in charts, CSV files or the API. Counts are of
distinct customers, not of changes: nine customers who each granted twice are nine, not
eighteen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from consentry.domain.errors import InvalidInput
from consentry.domain.questions import QuestionKind

# Below five, a count is a near-identification whatever the retailer configures.
K_FLOOR = 5
# A small retailer's days are mostly below k; its weeks and months are not.
PERIODS = ("day", "week", "month")
MAX_DAYS = 366  # the longest range one request reads


@dataclass(frozen=True)
class FlowCell:
    """Distinct customers whose consent change of ``action`` came into force in the period
    that starts on ``day``."""

    period: str
    day: date
    purpose: str
    channel: str  # "*": the purpose on every channel
    source: str
    action: str  # grant or withdraw
    customers: int


def day_of(captured_at: str, timezone: ZoneInfo) -> date:
    """The retailer's calendar day of a change (when the customer acted, not when it was
    recorded: an import of last year's consents counts on last year's days)."""
    return datetime.fromisoformat(captured_at).astimezone(timezone).date()


def period_start(day: date, period: str) -> date:
    """The first day of the period (weeks start on Monday)."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def shown(cells: Iterable[FlowCell], k: int) -> list[dict[str, object]]:
    """The cells as the outside sees them: a cell of fewer than ``k`` customers keeps its
    place (so a chart has no gap to wonder about) but not its count."""
    if k < K_FLOOR:
        raise ValueError(f"k must be at least {K_FLOOR}")
    return [
        {
            "period": cell.period,
            "day": cell.day.isoformat(),
            "purpose": cell.purpose,
            "channel": cell.channel,
            "source": cell.source,
            "action": cell.action,
            "customers": cell.customers if cell.customers >= k else None,
            "suppressed": cell.customers < k,
        }
        for cell in cells
    ]


@dataclass(frozen=True)
class Level:
    """How many customers had the purpose granted at the day's snapshot, out of how many."""

    day: date
    purpose: str
    channel: str
    granted: int
    customers: int


def shown_levels(found: Iterable[Level], k: int) -> list[dict[str, object]]:
    """A rate reveals both sides: 999,997 of 1,000,000 is three people who said no. So a
    level is shown only when at least ``k`` customers granted and at least ``k`` did not."""
    if k < K_FLOOR:
        raise ValueError(f"k must be at least {K_FLOOR}")
    out: list[dict[str, object]] = []
    for level in found:
        hidden = level.granted < k or level.customers - level.granted < k
        out.append(
            {
                "day": level.day.isoformat(),
                "purpose": level.purpose,
                "channel": level.channel,
                "customers": level.customers if level.customers >= k else None,
                "granted": None if hidden else level.granted,
                "rate": None if hidden else round(level.granted / level.customers, 4),
                "suppressed": hidden,
            }
        )
    return out


CSV_COLUMNS = ("period", "day", "purpose", "channel", "source", "action", "customers")
LEVEL_COLUMNS = ("day", "purpose", "channel", "customers", "granted", "rate")


def as_csv(rows: Iterable[dict[str, object]], k: int) -> str:
    """The rows of ``shown`` as CSV; a suppressed count is written ``<k``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        count = f"<{k}" if row["suppressed"] else row["customers"]
        writer.writerow([*(row[c] for c in CSV_COLUMNS[:-1]), count])
    return out.getvalue()


def levels_csv(rows: Iterable[dict[str, object]], k: int) -> str:
    """The rows of ``shown_levels`` as CSV; a suppressed level's granted count is ``<k``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LEVEL_COLUMNS)
    for row in rows:
        if row["suppressed"]:
            writer.writerow(
                [row["day"], row["purpose"], row["channel"], row["customers"], f"<{k}", ""]
            )
        else:
            writer.writerow([row[c] for c in LEVEL_COLUMNS])
    return out.getvalue()


def check_range(first: date, last: date) -> None:
    if last < first:
        raise InvalidInput(
            "the range ends before it starts",
            [{"loc": ["query", "to"], "msg": "on or after 'from'"}],
        )
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(
            f"at most {MAX_DAYS} days at a time",
            [{"loc": ["query", "to"], "msg": f"within {MAX_DAYS} days of 'from'"}],
        )


# -- progressive profiling and offers (services/insight_counts.py counts them)

TALLIED_KINDS = frozenset(
    {QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE, QuestionKind.YES_NO}
)
PROFILING_METRICS = ("asked", "answered", "declined", "points")
OFFER_METRICS = ("decisions", "chosen", "dismissed", "suppressed", "empty", "considered")

# Why an offer was left out, as the console groups it: the data-use policy, a cap, or
# consent the customer has not given.
SUPPRESSION_GROUPS = {
    "no_permitted_reason": "policy or missing consent",
    "same_category": "policy",
    "just_bought": "policy",
    "substitute": "policy",
    "dismissed": "the customer said not relevant",
    "offer_cap": "caps",
}
EMPTY_GROUPS = {"quiet_hours": "quiet hours", "channel_cap": "caps", "nothing_fits": "nothing fits"}
# What the console writes for each outcome of an offer considered, and each empty decision.
OUTCOME_TITLES = {
    "chosen": "Chosen",
    "no_permitted_reason": "No consented reason to show it",
    "same_category": "Another offer of its category chosen",
    "just_bought": "Just bought",
    "substitute": "Something like it just bought",
    "dismissed": "Customer said not relevant",
    "offer_cap": "Shown as often as allowed",
    "quiet_hours": "Quiet hours",
    "channel_cap": "Channel's cap reached",
    "nothing_fits": "Nothing fits",
}


@dataclass(frozen=True)
class Count:
    """A daily count as the outside may see it: ``customers`` None below k."""

    day: date
    metric: str
    key: str
    customers: int | None
    total: int | None


def shown_counts(rows: Iterable[tuple[date, str, str, int, int]], k: int) -> list[Count]:
    """A cell about fewer than k customers shows neither its customers nor its total (the
    total of one customer's events is about that customer)."""
    if k < K_FLOOR:
        raise ValueError(f"k must be at least {K_FLOOR}")
    return [
        Count(day, metric, key, n if n >= k else None, total if n >= k else None)
        for day, metric, key, n, total in rows
    ]


def counts_csv(rows: Iterable[Count], k: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("day", "metric", "key", "customers", "total"))
    for c in rows:
        hidden = c.customers is None
        writer.writerow(
            (
                c.day.isoformat(),
                c.metric,
                c.key,
                f"<{k}" if hidden else c.customers,
                "" if hidden else c.total,
            )
        )
    return out.getvalue()


@dataclass(frozen=True)
class Share:
    """A count of customers with something (a value of an answer, a relationship stage) on a
    day's snapshot; ``customers`` None when it is not shown."""

    day: date
    group: str  # the question, or "stage"
    key: str  # the value, or the stage's number
    customers: int | None


def shown_shares(
    rows: Iterable[tuple[date, str, str, int]], k: int, *, complete: bool
) -> list[Share]:
    """Counts under k hidden. ``complete``: the keys of a group add up to a total that is
    known elsewhere (every customer is at some stage), so one hidden count could be worked out
    by subtraction: then the next smallest is hidden too."""
    if k < K_FLOOR:
        raise ValueError(f"k must be at least {K_FLOOR}")
    groups: dict[tuple[date, str], list[tuple[str, int]]] = {}
    for day, group, key, n in rows:
        groups.setdefault((day, group), []).append((key, n))
    out: list[Share] = []
    for (day, group), found in groups.items():
        hidden = {key for key, n in found if n < k}
        if complete and len(hidden) == 1 and len(found) > 1:
            smallest = min((n, key) for key, n in found if key not in hidden)
            hidden.add(smallest[1])
        out += [Share(day, group, key, None if key in hidden else n) for key, n in found]
    return out


def shares_csv(rows: Iterable[Share], k: int, columns: tuple[str, str, str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("day", *columns))
    for s in rows:
        writer.writerow(
            (s.day.isoformat(), s.group, s.key, f"<{k}" if s.customers is None else s.customers)
        )
    return out.getvalue()


# (metric, key) → (customers, total, cells left out)
Totals = dict[tuple[str, str], tuple[int, int, int]]


def range_totals(counts: Iterable[Count]) -> Totals:
    """Per (metric, key): the shown customers and totals summed over the days, and how many
    cells were left out (under k). Hidden cells are not added in: a sum that includes them
    would give them away by subtraction from the shown days."""
    sums: dict[tuple[str, str], list[int]] = {}
    for c in counts:
        entry = sums.setdefault((c.metric, c.key), [0, 0, 0])
        if c.customers is None:
            entry[2] += 1
        else:
            entry[0] += c.customers
            entry[1] += c.total or 0
    return {key: (a, b, h) for key, (a, b, h) in sums.items()}
