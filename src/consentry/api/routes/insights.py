"""Insights: aggregates of what customers do with their consents, never about fewer than
``insights_k`` customers (JSON for charts, CSV for spreadsheets)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from consentry.api.deps import Admin, HubDep
from consentry.domain.insights import as_csv, levels_csv
from consentry.services import insights

router = APIRouter(tags=["insights"])


@router.get("/v1/insights/consents")
def consent_flows(
    hub: HubDep,
    _caller: Admin,
    first: date = Query(alias="from"),
    last: date = Query(alias="to"),
    purpose: str | None = None,
    period: Literal["day", "week", "month"] = "day",
    format: Literal["json", "csv"] = "json",
) -> object:
    """Grants and withdrawals that came into force, per day, week or month (those starting
    within the range), purpose, channel and source, in distinct customers. A cell of fewer
    than k customers has ``customers: null`` and ``suppressed: true`` (in CSV: ``<k``)."""
    rows = insights.flows(hub, first, last, purpose, period)
    k = hub.settings.insights_k
    if format == "csv":
        return csv_download(as_csv(rows, k), "consent-flows.csv")
    return {"k": k, "from": first.isoformat(), "to": last.isoformat(), "cells": rows}


@router.get("/v1/insights/consent-rates")
def consent_rates(
    hub: HubDep,
    _caller: Admin,
    first: date = Query(alias="from"),
    last: date = Query(alias="to"),
    purpose: str | None = None,
    format: Literal["json", "csv"] = "json",
) -> object:
    """Customers with each purpose (and channel) granted, out of all customers, from the daily
    snapshots. Hidden (``granted`` and ``rate`` null, ``suppressed: true``) where fewer than k
    customers granted or fewer than k did not: either side could point at people."""
    rows = insights.rates(hub, first, last, purpose)
    k = hub.settings.insights_k
    if format == "csv":
        return csv_download(levels_csv(rows, k), "consent-rates.csv")
    return {"k": k, "from": first.isoformat(), "to": last.isoformat(), "levels": rows}


def csv_download(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
