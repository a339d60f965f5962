"""What Prometheus scrapes at ``GET /metrics`` (the prometheus-client library): requests per
route template, checks and consent writes, webhook deliveries per endpoint, background step
failures — counted as they happen, in this process — and, read from the database at each
scrape, the sequencer's lag, the outbox's and the webhooks' backlog, the pool in use and the
witnesses' lag.

With several server processes (``--workers``), set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory shared by them: the counters are then summed over the processes
(prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from consentry.services import checkpoints
from consentry.services.hub import Hub
from consentry.store.backlog import backlog

disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series double the page for no use here

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REQUESTS = Counter(
    "consentry_http_requests",
    "HTTP requests answered, by route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "consentry_http_request_duration_seconds",
    "Time to answer, by route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CHECKS = Counter("consentry_checks", "Consent checks answered (each customer of a batch counts).")
WRITES = Counter(
    "consentry_consent_records_appended",
    "Consent records appended, in this process (a transaction retried after a deadlock counts"
    " twice; rate(consentry_evidence_log_size) counts committed records exactly).",
)
DELIVERIES = Counter(
    "consentry_webhook_deliveries",
    "Webhook delivery attempts, by endpoint and outcome (delivered, failed).",
    ["endpoint", "outcome"],
)
STEP_FAILURES = Counter(
    "consentry_background_step_failures",
    "Background steps that failed (and are retried), by step.",
    ["step"],
)


class DatabaseCollector(Collector):
    """Gauges read from the database when scraped: the state of the shared work, the same
    whichever process answers."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        with hub.db.read() as conn:
            now = backlog(conn)
        yield _gauge(
            "consentry_evidence_log_size", "Records in the last signed head.", now.log_size
        )
        yield _gauge(
            "consentry_evidence_pending_leaves",
            "Acknowledged records not yet in the tree (the sequencer's lag).",
            now.pending_leaves,
        )
        age = 0.0 if now.head_signed_at is None else (hub.now_micros() - now.head_signed_at) / 1e6
        yield _gauge(
            "consentry_evidence_head_age_seconds",
            "Seconds since the last tree head was signed (it is signed when records arrive).",
            max(0.0, age),
        )
        yield _gauge(
            "consentry_outbox_unsequenced_changes",
            "Changes not yet given a feed position.",
            now.unsequenced_changes,
        )
        yield _gauge(
            "consentry_webhook_deliveries_due",
            "Webhook deliveries pending or being made.",
            now.deliveries_due,
        )
        pool = hub.db.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        if checked_out is not None:
            yield _gauge(
                "consentry_db_pool_in_use",
                "Database connections of this process in use.",
                checked_out(),
            )
        behind = GaugeMetricFamily(
            "consentry_witness_records_behind",
            "Records the log holds beyond what each witness cosigned.",
            labels=["witness"],
        )
        late = GaugeMetricFamily(
            "consentry_witness_late",
            "1 when a witness falls behind (CONSENTRY_WITNESS_LAG_SECONDS).",
            labels=["witness"],
        )
        for status in checkpoints.witness_status(hub):
            behind.add_metric([status.name], status.behind_by)
            late.add_metric([status.name], int(status.late))
        yield behind
        yield late


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def exposition(hub: Hub) -> bytes:
    """The text format of every metric: this process's counters (or every process's, in
    multiprocess mode) and the database's gauges."""
    counted = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
        counters = generate_latest(counted)
    else:
        from prometheus_client import REGISTRY

        counters = generate_latest(REGISTRY)
    gauges = CollectorRegistry()
    gauges.register(DatabaseCollector(hub))
    return counters + generate_latest(gauges)
