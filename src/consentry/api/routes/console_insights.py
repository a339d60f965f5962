"""The console's insights page: charts of the consent flows and rates, each with its data
table and a CSV of the rows behind it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from consentry.api.charts import bars, legend, lines
from consentry.api.console_charts import flows_figure, rates_figure
from consentry.api.console_pages import message, page, signed_in
from consentry.api.deps import HubDep
from consentry.api.routes.insights import csv_download
from consentry.domain.errors import DomainError
from consentry.domain.insights import as_csv, levels_csv
from consentry.services import console, insights

router = APIRouter(tags=["console"], include_in_schema=False)
Period = Literal["day", "week", "month"]


def _range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    last = last or today
    return first or last - timedelta(days=29), last


@router.get("/console/insights", response_class=HTMLResponse)
def insights_page(
    request: Request,
    hub: HubDep,
    first: date | None = Query(None, alias="from"),
    last: date | None = Query(None, alias="to"),
    purpose: str | None = None,
    channel: str | None = None,
    period: Period = "day",
) -> HTMLResponse:
    here = signed_in(request, hub)
    purposes = console.purpose_list(hub, here.member)
    if not purposes:
        return message(request, hub, here, 200, "Create a purpose first: there is nothing to show.")
    chosen = next((p for p in purposes if p["id"] == purpose), purposes[0])
    first, last = _range(first, last, insights.today(hub))
    k = hub.settings.insights_k
    try:
        flow_rows = insights.flows(hub, first, last, chosen["id"], period)
        rate_rows = insights.rates(hub, first, last, chosen["id"])
    except DomainError as exc:
        return message(request, hub, here, exc.status, exc.detail)
    # Consents of a purpose with channels are given per channel; "*" is a channel-less one.
    channels: list[str] = list(chosen["channels"]) or ["*"]
    shown_channel = channel if channel is not None and channel in channels else channels[0]
    flows = flows_figure(flow_rows, first, last, period, chosen["title"], shown_channel, k)
    rates = rates_figure(rate_rows, first, last, chosen["title"], k)
    query = f"from={first}&to={last}&purpose={chosen['id']}"
    return page(
        request,
        hub,
        "console_insights.html",
        here,
        purposes=purposes,
        purpose=chosen,
        channels=channels,
        channel=shown_channel,
        period=period,
        first=first,
        last=last,
        k=k,
        flows=flows,
        flows_svg=bars(flows.chart),
        flows_legend=legend(flows.legend),
        rates=rates,
        rates_svg=lines(rates.chart),
        rates_legend=legend(rates.legend),
        flows_csv=f"/console/insights/consent-flows.csv?{query}&period={period}",
        rates_csv=f"/console/insights/consent-rates.csv?{query}",
    )


@router.get("/console/insights/consent-flows.csv")
def flows_csv(
    request: Request,
    hub: HubDep,
    first: date = Query(alias="from"),
    last: date = Query(alias="to"),
    purpose: str | None = None,
    period: Period = "day",
) -> Response:
    signed_in(request, hub)
    try:
        rows = insights.flows(hub, first, last, purpose, period)
    except DomainError as exc:
        return Response(exc.detail, status_code=exc.status, media_type="text/plain")
    return csv_download(as_csv(rows, hub.settings.insights_k), "consent-flows.csv")


@router.get("/console/insights/consent-rates.csv")
def rates_csv(
    request: Request,
    hub: HubDep,
    first: date = Query(alias="from"),
    last: date = Query(alias="to"),
    purpose: str | None = None,
) -> Response:
    signed_in(request, hub)
    try:
        rows = insights.rates(hub, first, last, purpose)
    except DomainError as exc:
        return Response(exc.detail, status_code=exc.status, media_type="text/plain")
    return csv_download(levels_csv(rows, hub.settings.insights_k), "consent-rates.csv")
