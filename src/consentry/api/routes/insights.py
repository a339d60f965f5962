"""Insights: aggregates of what customers do with their consents, what they told us, and how
offers fare, never about fewer than ``insights_k`` customers (JSON for charts, CSV for
spreadsheets)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from consentry.api.deps import Admin, HubDep
from consentry.api.json_route import JsonRoute
from consentry.domain.insights import (
    Count,
    Share,
    as_csv,
    counts_csv,
    levels_csv,
    shares_csv,
)
from consentry.services import insight_counts, insights

router = APIRouter(route_class=JsonRoute, tags=["insights"])


@dataclass
class Window:
    """The query every insight takes: a range of days (at most 366), an optional purpose,
    and JSON or CSV."""

    first: Annotated[date, Query(alias="from")]
    last: Annotated[date, Query(alias="to")]
    format: Literal["json", "csv"] = "json"

    def envelope(self, k: int) -> dict[str, object]:
        return {"k": k, "from": self.first.isoformat(), "to": self.last.isoformat()}


WindowDep = Annotated[Window, Depends()]


@router.get("/v1/insights/consents")
def consent_flows(
    hub: HubDep,
    _caller: Admin,
    window: WindowDep,
    purpose: str | None = None,
    period: Literal["day", "week", "month"] = "day",
) -> object:
    """Grants and withdrawals that came into force, per day, week or month (those starting
    within the range), purpose, channel and source, in distinct customers. A cell of fewer
    than k customers has ``customers: null`` and ``suppressed: true`` (in CSV: ``<k``)."""
    rows = insights.flows(hub, window.first, window.last, purpose, period)
    k = hub.settings.insights_k
    if window.format == "csv":
        return csv_download(as_csv(rows, k), "consent-flows.csv")
    return {**window.envelope(k), "cells": rows}


@router.get("/v1/insights/consent-rates")
def consent_rates(
    hub: HubDep, _caller: Admin, window: WindowDep, purpose: str | None = None
) -> object:
    """Customers with each purpose (and channel) granted, out of all customers, from the daily
    snapshots. Hidden (``granted`` and ``rate`` null, ``suppressed: true``) where fewer than k
    customers granted or fewer than k did not: either side could point at people."""
    rows = insights.rates(hub, window.first, window.last, purpose)
    k = hub.settings.insights_k
    if window.format == "csv":
        return csv_download(levels_csv(rows, k), "consent-rates.csv")
    return {**window.envelope(k), "levels": rows}


@router.get("/v1/insights/profiling")
def profiling_counts(hub: HubDep, _caller: Admin, window: WindowDep) -> object:
    """Per day and question: customers asked, who answered, who declined, and those paid
    points (``total``: the points). A cell of fewer than k customers shows neither count."""
    counts = insight_counts.profiling_counts(hub, window.first, window.last)
    return _counts(hub, window, counts, "profiling.csv")


@router.get("/v1/insights/offers")
def offer_counts(hub: HubDep, _caller: Admin, window: WindowDep) -> object:
    """Per day: decisions and offers considered per channel, offers chosen and dismissed per
    offer, offers suppressed and decisions left empty per reason (customers, and ``total``
    events). A cell of fewer than k customers shows neither count."""
    counts = insight_counts.offer_counts(hub, window.first, window.last)
    return _counts(hub, window, counts, "offers.csv")


@router.get("/v1/insights/answers")
def answer_distribution(
    hub: HubDep, _caller: Admin, window: WindowDep, question: str | None = None
) -> object:
    """Customers holding each value of each choice question (sensitive questions are never
    counted), from the daily snapshots; a value held by fewer than k customers is hidden."""
    shares = insight_counts.answer_shares(hub, window.first, window.last, question)
    return _shares(hub, window, shares, ("question", "value", "customers"), "answers.csv")


@router.get("/v1/insights/stages")
def relationship_stages(hub: HubDep, _caller: Admin, window: WindowDep) -> object:
    """Customers at each relationship stage (1 icebreaker, 2 getting to know, 3 trusted), from
    the daily snapshots. Under k is hidden, and then the next smallest stage of the day too:
    the stages add up to all customers, so one hidden count could be subtracted out."""
    shares = insight_counts.stage_shares(hub, window.first, window.last)
    return _shares(hub, window, shares, ("group", "stage", "customers"), "stages.csv")


def _counts(hub: HubDep, window: Window, counts: list[Count], filename: str) -> object:
    k = hub.settings.insights_k
    if window.format == "csv":
        return csv_download(counts_csv(counts, k), filename)
    cells = [
        {**asdict(c), "day": c.day.isoformat(), "suppressed": c.customers is None} for c in counts
    ]
    return {**window.envelope(k), "cells": cells}


def _shares(
    hub: HubDep,
    window: Window,
    shares: list[Share],
    columns: tuple[str, str, str],
    filename: str,
) -> object:
    k = hub.settings.insights_k
    if window.format == "csv":
        return csv_download(shares_csv(shares, k, columns), filename)
    group, key, _ = columns
    rows = [
        {
            "day": s.day.isoformat(),
            **({group: s.group} if group != "group" else {}),
            key: int(s.key) if key == "stage" else s.key,
            "customers": s.customers,
            "suppressed": s.customers is None,
        }
        for s in shares
    ]
    return {**window.envelope(k), "levels": rows}


def csv_download(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
