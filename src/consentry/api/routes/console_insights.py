"""The console's insight pages — consent, what customers told us, offers: charts, each with
its data table and a CSV of the rows behind it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from consentry.api.charts import bars, hbars, legend, lines
from consentry.api.console_charts import (
    answers_figure,
    economics,
    economics_figure,
    flows_figure,
    offer_figures,
    rates_figure,
    stages_figure,
)
from consentry.api.console_pages import message, page, signed_in
from consentry.api.deps import HubDep
from consentry.api.json_route import JsonRoute
from consentry.api.routes.insights import csv_download
from consentry.domain.errors import DomainError
from consentry.domain.insights import (
    OFFER_METRICS,
    PROFILING_METRICS,
    as_csv,
    counts_csv,
    levels_csv,
    shares_csv,
)
from consentry.services import catalogue, console, insight_counts, insights, questions

router = APIRouter(route_class=JsonRoute, tags=["console"], include_in_schema=False)
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
    period: Period = "week",
) -> HTMLResponse:
    here = signed_in(request, hub)
    purposes = console.purpose_list(hub, here.member)
    if not purposes:
        return message(request, hub, here, 200, "Create a purpose first: there is nothing to show.")
    asked_range = first is not None or last is not None
    first, last = _range(first, last, insights.today(hub))
    if purpose is None:  # open on what has the most to show, not on an empty chart
        ids = [p["id"] for p in purposes]
        found = insights.busiest(hub, first, last, period, ids)
        if found is None and not asked_range:  # a quiet month: the year, per month
            first, period = last - timedelta(days=364), "month"
            found = insights.busiest(hub, first, last, period, ids)
        if found is not None:
            purpose, channel = found[0], channel or found[1]
    chosen = next((p for p in purposes if p["id"] == purpose), purposes[0])
    k = hub.settings.insights_k
    # Consents of a purpose with channels are given per channel; "*" is a channel-less one.
    channels: list[str] = list(chosen["channels"]) or ["*"]
    shown_channel = channel if channel is not None and channel in channels else channels[0]
    try:
        flow_rows = insights.flows(hub, first, last, chosen["id"], period, shown_channel)
        rate_rows = insights.rates(hub, first, last, chosen["id"])
    except DomainError as exc:
        return message(request, hub, here, exc.status, exc.detail)
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


@router.get("/console/insights/told", response_class=HTMLResponse)
def told_page(
    request: Request,
    hub: HubDep,
    first: date | None = Query(None, alias="from"),
    last: date | None = Query(None, alias="to"),
    question: str | None = None,
) -> HTMLResponse:
    """What customers told us: an answer distribution, the relationship stages, and what
    asking cost (questions asked, answered, declined, points paid)."""
    here = signed_in(request, hub)
    first, last = _range(first, last, insights.today(hub))
    k = hub.settings.insights_k
    bank = {q.id: q for q in questions.bank_now(hub)}
    choices = [q for q in bank.values() if insight_counts.tallied(q)]
    chosen = next((q for q in choices if q.id == question), choices[0] if choices else None)
    try:
        shares = insight_counts.answer_shares(hub, first, last, chosen.id) if chosen else []
        stage_rows = insight_counts.stage_shares(hub, first, last)
        totals = insight_counts.totals(hub, PROFILING_METRICS, first, last)
        per_day = insight_counts.per_day(hub, ("answered", "declined"), first, last)
    except DomainError as exc:
        return message(request, hub, here, exc.status, exc.detail)
    answers = answers_figure(shares, chosen, k) if chosen else None
    stages = stages_figure(stage_rows, first, last, k)
    economy = economics_figure(per_day, first, last, k)
    query = f"from={first}&to={last}"
    return page(
        request,
        hub,
        "console_insights_told.html",
        here,
        k=k,
        first=first,
        last=last,
        choice_questions=choices,
        question=chosen,
        answers=answers,
        answers_svg=hbars(answers.chart, k) if answers else None,
        answers_csv=f"/console/insights/answers.csv?{query}",
        stages=stages,
        stages_svg=bars(stages.chart),
        stages_legend=legend(stages.legend),
        stages_csv=f"/console/insights/stages.csv?{query}",
        economy=economy,
        economy_svg=bars(economy.chart),
        economy_legend=legend(economy.legend),
        economy_csv=f"/console/insights/profiling.csv?{query}",
        per_question=economics(totals, bank),
    )


@router.get("/console/insights/offers", response_class=HTMLResponse)
def offers_page(
    request: Request,
    hub: HubDep,
    first: date | None = Query(None, alias="from"),
    last: date | None = Query(None, alias="to"),
) -> HTMLResponse:
    """How offers fare: chosen, dismissed, and why the others were left out."""
    here = signed_in(request, hub)
    first, last = _range(first, last, insights.today(hub))
    k = hub.settings.insights_k
    try:
        totals = insight_counts.totals(hub, OFFER_METRICS, first, last)
    except DomainError as exc:
        return message(request, hub, here, exc.status, exc.detail)
    titles = {o["id"]: o["title"] for o in catalogue.offer_page(hub, None, 1000)["offers"]}
    figures = offer_figures(totals, titles, first, last, hub.settings.insights_k)
    return page(
        request,
        hub,
        "console_insights_offers.html",
        here,
        k=k,
        first=first,
        last=last,
        figures=figures,
        suppression_svg=hbars(figures.suppression.chart, hub.settings.insights_k, percent=True),
        offers_csv=f"/console/insights/offers.csv?from={first}&to={last}",
    )


@router.get("/console/insights/{name}.csv")
def counts_csv_download(
    request: Request,
    hub: HubDep,
    name: Literal["answers", "stages", "profiling", "offers"],
    first: date = Query(alias="from"),
    last: date = Query(alias="to"),
    question: str | None = None,
) -> Response:
    """The rows behind the charts of the other two insight pages, as the API gives them."""
    signed_in(request, hub)
    k = hub.settings.insights_k
    try:
        if name == "answers":
            rows = insight_counts.answer_shares(hub, first, last, question)
            text = shares_csv(rows, k, ("question", "value", "customers"))
        elif name == "stages":
            text = shares_csv(
                insight_counts.stage_shares(hub, first, last), k, ("group", "stage", "customers")
            )
        elif name == "profiling":
            text = counts_csv(insight_counts.profiling_counts(hub, first, last), k)
        else:
            text = counts_csv(insight_counts.offer_counts(hub, first, last), k)
    except DomainError as exc:
        return Response(exc.detail, status_code=exc.status, media_type="text/plain")
    return csv_download(text, f"{name}.csv")
