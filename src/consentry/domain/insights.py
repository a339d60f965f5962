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

# Below five, a count is a near-identification whatever the retailer configures.
K_FLOOR = 5
# A small retailer's days are mostly below k; its weeks and months are not.
PERIODS = ("day", "week", "month")


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
