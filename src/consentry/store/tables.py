"""The schema, one for SQLite and PostgreSQL. Instants are BIGINT microseconds since the epoch
(the same on both engines, cheap to compare); JSON columns hold small lists and documents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.types import TypeEngine

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

apps = Table(
    "apps",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("purposes", JSON, nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
)

purposes = Table(
    "purposes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("notice_hash", String(64), nullable=False),
    Column("legal_basis", String(32), nullable=False),
    Column("channels", JSON, nullable=False),
    Column("sensitive", Boolean, nullable=False),
    Column("expires_after_days", Integer),
    Column("stale_before_version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("gpc", Boolean, nullable=False, server_default=text("false")),
    Column("section", String(32), nullable=False, server_default=text("'messages'")),
    # Double opt-in: {"channels": {channel or "*": "email"}, "days": 7}; null: none.
    Column("confirmation", JSON),
)

notices = Table(
    "notices",
    metadata,
    Column("purpose_id", String(64), ForeignKey("purposes.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("notice_hash", String(64), nullable=False),
    Column("reconsent", Boolean, nullable=False),
    Column("published_at", BigInteger, nullable=False),
)

# Personal fields are sealed by the vault (``*_sealed``: AES-GCM under the customer's data key);
# look-ups go through blind indexes (``*_blind``: HMAC-SHA-256), never through plaintext.
customers = Table(
    "customers",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name_sealed", LargeBinary),
    Column("postcode_sealed", LargeBinary),
    # The card-less look-up: the blind index of the normalised name and postcode together.
    Column("pair_blind", String(64)),
    Column("status", String(16), nullable=False),
    Column("restricted", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", BigInteger, nullable=False),
    Column("erased_at", BigInteger),
    Index(None, "pair_blind"),
    # Retention looks for long-inactive customers by age.
    Index(None, "created_at"),
    # Clustered on the key on SQLite: one B-tree search per point read, not two.
    sqlite_with_rowid=False,
)

identifiers = Table(
    "identifiers",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("blind", String(64), primary_key=True),
    Column("customer_id", String(40), ForeignKey("customers.id"), nullable=False, index=True),
    Column("value_sealed", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

evidence_records = Table(
    "evidence_records",
    metadata,
    # Write order: tie-breaker for equal captured_at, and the order the sequencer reads in.
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("id", String(40), nullable=False, unique=True),
    Column("customer_id", String(40), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("purpose_version", Integer, nullable=False),
    Column("channel", String(16)),
    Column("action", String(16), nullable=False),
    Column("captured_at", BigInteger, nullable=False),
    Column("leaf", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Index(None, "customer_id", "pk"),
)

# The log's order lives beside the records, in two insert-only tables, not in a ``seq``
# column of the record: setting that column rewrote the whole record (its ~600-byte leaf) and,
# on PostgreSQL, every index entry of it (the column was indexed, so no HOT update) — a third
# of the database's time in an import, and behind every sequenced consent change.
#
# A record's leaf waiting for the sequencer: inserted with the record, deleted when integrated.
pending_leaves = Table(
    "pending_leaves",
    metadata,
    Column(
        "record_pk",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("leaf_hash", LargeBinary(32), nullable=False),
)

# The tree's leaves in order: leaf ``seq`` is the record ``record_pk``. The leaf hash is kept
# here too, so proofs and the tree cache read this narrow table alone.
log_leaves = Table(
    "log_leaves",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("record_pk", BigInteger, nullable=False, unique=True),
    Column("leaf_hash", LargeBinary(32), nullable=False),
)

# The openings of a record's commitments (actor id, location, proof): personal, so kept apart
# from the leaf and deleted on erasure.
evidence_openings = Table(
    "evidence_openings",
    metadata,
    Column("record_id", String(40), primary_key=True),
    Column("customer_id", String(40), nullable=False, index=True),
    Column("sealed", LargeBinary, nullable=False),
)

consent_state = Table(
    "consent_state",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("purpose", String(64), primary_key=True),
    Column("channel", String(16), primary_key=True),  # "*" for all channels
    Column("action", String(16), nullable=False),
    Column("purpose_version", Integer, nullable=False),
    Column("record_id", String(40), nullable=False),
    Column("since", BigInteger, nullable=False),
    Column("record_pk", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

tree_state = Table(
    "tree_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("frontier", JSON, nullable=False),
)

tree_heads = Table(
    "tree_heads",
    metadata,
    Column("size", BigInteger, primary_key=True),
    Column("root_hash", String(64), nullable=False),
    Column("timestamp", String(40), nullable=False),
    Column("signature", String(120), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signed_at", BigInteger, nullable=False),
)

# Witnesses' cosignatures of the log's checkpoints (c2sp.org/tlog-cosignature), each verified
# against the witness keys the hub is configured with before it is kept.
cosignatures = Table(
    "cosignatures",
    metadata,
    Column("witness", String(200), primary_key=True),  # the witness's key name
    Column("size", BigInteger, primary_key=True),
    Column("root_hash", String(64), nullable=False),  # hex
    Column("key_id", String(8), nullable=False),  # hex
    Column("signature", LargeBinary, nullable=False),  # timestamp (8 bytes) || Ed25519 signature
    Column("cosigned_at", BigInteger, nullable=False),  # the witness's time, POSIX seconds
    Column("received_at", BigInteger, nullable=False),  # µs
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("app_id", String(40), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    # An answer about a customer is sealed under the customer's data key, so it dies with it.
    Column("customer_id", String(40), index=True),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False, index=True),
)

# Rows of earlier systems already imported: re-running an import file adds nothing.
imported_rows = Table(
    "imported_rows",
    metadata,
    Column("row_key", String(64), primary_key=True),
    Column("record_id", String(40), nullable=False),
)

# Which master key wrote this database (an HMAC under it), so a wrong key file is refused.
vault_meta = Table(
    "vault_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Every read of a customer's personal data by an app: who looked at my data.
access_log = Table(
    "access_log",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("customer_id", String(40), nullable=False),
    Column("app_id", String(40), nullable=False),
    Column("app_name", String(200), nullable=False),
    Column("purposes", JSON, nullable=False),
    Column("action", String(32), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("at", BigInteger, nullable=False, index=True),
    Index(None, "customer_id", "pk"),
)

# Personal links to the preference centre: only a keyed hash of the token is kept; a link is
# used once, then exchanged for a session.
preference_links = Table(
    "preference_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("customer_id", String(40), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
)

# Sessions of the preference centre (customers) and the staff desk (staff), by keyed hash.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("customer_id", String(40), index=True),
    Column("staff_id", String(40)),
    Column("csrf", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

# Attempts counted for rate limits (link requests per address and per IP, staff sign-ins),
# by keyed hash of what is limited.
rate_events = Table(
    "rate_events",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("key", String(64), nullable=False),
    Column("at", BigInteger, nullable=False),
    Index(None, "key", "at"),
)

# Staff of the stores and the call centre, who serve customers at the desk.
staff = Table(
    "staff",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),  # argon2id
    # "store" or "call_centre"; none for an account that only signs in to the console.
    Column("desk", String(16)),
    Column("location", String(200)),
    Column("failed_attempts", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Column("disabled_at", BigInteger),
    # admin, privacy_officer, marketer or read_only; none: the account has no console.
    Column("console_role", String(24)),
)

# What customers did: purchases, returns, visits, views, app opens. The details (product,
# category, quantity, price, store) are personal data, sealed under the customer's data key;
# type and time stay clear for retention. ``excluded``: the customer said "don't use this".
events = Table(
    "events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(40), nullable=False),
    Column("type", String(16), nullable=False),
    Column("occurred_at", BigInteger, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    # A blind index of the sender's event id: re-sending an event adds nothing.
    Column("source_key", String(64), unique=True),
    Column("excluded", Boolean, nullable=False, server_default=text("false")),
    Column("received_at", BigInteger, nullable=False),
    Index(None, "customer_id", "occurred_at"),
    Index(None, "type", "occurred_at"),
)

# The question bank. ``definition`` is the question as loaded (texts, options, prerequisites…);
# stage and position stay in columns for ordering. A retired question keeps its row (answers
# refer to it) with ``active`` false.
questions = Table(
    "questions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("stage", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# What customers told us (zero-party data). The value and the actor's id are sealed under the
# customer's data key; status, channel and times stay clear for the asking policy and retention.
answers = Table(
    "answers",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("question_id", String(64), primary_key=True),
    Column("status", String(10), nullable=False),  # "answered" or "declined"
    Column("sealed", LargeBinary, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("actor_type", String(16), nullable=False),
    Column("answered_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    # The value is in the answer distribution (insight_answer_tallies): take it out before
    # the value changes or goes.
    Column("counted", Boolean, nullable=False, server_default=text("false")),
    Index(None, "expires_at"),
)

# Per customer: "stop asking me", and the last question asked (for the cool-down and the
# one-question-per-visit rule; the visit is kept as a keyed hash).
profiling = Table(
    "profiling",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("stopped_at", BigInteger),
    Column("last_question", String(64)),
    Column("last_asked_at", BigInteger),
    Column("last_visit", String(64)),
    Column("last_channel", String(16)),
)

# Loyalty points: a balance per customer (spent with a conditional UPDATE, so two redemptions
# at once cannot overspend) and the entries that explain it. A question pays once: the unique
# (customer_id, question_id) pair; redemptions have no question.
points_accounts = Table(
    "points_accounts",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("balance", Integer, nullable=False),
)

points_entries = Table(
    "points_entries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(40), nullable=False),
    Column("points", Integer, nullable=False),
    Column("question_id", String(64)),
    Column("reason", Text),
    Column("at", BigInteger, nullable=False),
    Index(None, "customer_id", "question_id", unique=True),
    Index(None, "customer_id", "at"),
)

# -- the catalogue (what is sold and offered) and the decisions made from it

categories = Table(
    "categories",
    metadata,
    Column("path", String(200), primary_key=True),  # "sport/running/shoes"
    Column("name", String(200), nullable=False),
    Column("sensitive_topic", String(64)),  # marks the whole branch below it
)

sensitive_topics = Table(
    "sensitive_topics",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("purpose", String(64), nullable=False),
    Column("question", String(64), nullable=False),
    Column("answered_with", JSON, nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("category", String(200), nullable=False),
    Column("price", Float),
)

offers = Table(
    "offers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Co-purchase rules learnt over the baskets of customers who granted profiling; replaced as a
# whole by each learning run.
complements = Table(
    "complements",
    metadata,
    Column("antecedent", String(200), primary_key=True),
    Column("consequent", String(200), primary_key=True),
    Column("customers", Integer, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("lift", Float, nullable=False),
    Column("learnt_at", BigInteger, nullable=False),
)

# One row, bumped by every change to the tables above: each process re-reads its cached
# catalogue only when this moved.
catalogue_version = Table(
    "catalogue_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# Every decision: clear who, when, where and which offers (the caps count them); the reasons
# and context sealed under the customer's key.
decisions = Table(
    "decisions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(40), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("decided_at", BigInteger, nullable=False),
    Column("offer_ids", JSON, nullable=False),
    Column("chosen", Integer, nullable=False),  # how many offers: the caps count non-empty ones
    Column("app_id", String(40)),
    Column("sealed", LargeBinary, nullable=False),
    Index(None, "customer_id", "decided_at"),
    Index(None, "decided_at"),
)

# "Not relevant": the customer dismissed this offer; it is never chosen for them again.
offer_dismissals = Table(
    "offer_dismissals",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("offer_id", String(64), primary_key=True),
    Column("at", BigInteger, nullable=False),
)

# Real-time triggers (domain/triggers.py), their firings (for de-duplication) and the
# notifications they record: for a store's desk, an app push or an e-mail, due now or later.
# Pending until delivered (the webhook outbox will carry push and e-mail).
triggers = Table(
    "triggers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

trigger_firings = Table(
    "trigger_firings",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("trigger_id", String(64), primary_key=True),
    Column("fired_at", BigInteger, nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(40), nullable=False),
    Column("trigger_id", String(64), nullable=False),
    Column("notify", String(8), nullable=False),  # desk, push, email
    Column("store", String(200)),
    Column("offer_id", String(64), nullable=False),
    Column("decision_id", String(40), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("due_at", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),  # pending, done
    Column("sealed", LargeBinary, nullable=False),  # what to say, and why
    Index(None, "notify", "status", "due_at"),
    Index(None, "customer_id"),
)

# The transactional outbox: every change to announce, written in the transaction that makes it.
# ``position`` is given by the outbox sequencer in the order changes become visible (a change
# committed later never gets a smaller position, so a feed reader's cursor never skips one).
outbox = Table(
    "outbox",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("position", BigInteger, unique=True),
    Column("type", String(40), nullable=False),
    Column("subject", String(40), nullable=False),  # the customer's pseudonymous id
    Column("purpose", String(64)),  # None: every app may see it (erasure, restriction)
    Column("body", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index(
        "ix_outbox_pending",
        "pk",
        postgresql_where=text("position IS NULL"),
        sqlite_where=text("position IS NULL"),
    ),
)

# Webhooks: endpoints (their signing secret sealed under the system key), the dispatcher's place
# in the outbox, and one delivery per change and endpoint (its webhook-id is the same on every
# retry and redelivery).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("description", String(500), nullable=False),
    Column("types", JSON, nullable=False),
    Column("purposes", JSON, nullable=False),
    Column("secret_sealed", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("failing_since", BigInteger),
    Column("disabled_at", BigInteger),
    Column("disabled_reason", String(500)),
)

webhook_dispatch = Table(
    "webhook_dispatch",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("endpoint_id", String(40), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("subject", String(40), nullable=False),
    Column("status", String(12), nullable=False),  # pending, delivering, delivered, dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("leased_until", BigInteger),
    Column("first_attempt_at", BigInteger),
    Column("last_status_code", Integer),
    Column("last_error", String(500)),
    Column("last_duration_ms", Integer),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger),
    Index(None, "endpoint_id", "status", "next_attempt_at", "position"),
    # What a claim asks of every candidate: is an earlier delivery of this customer to this
    # endpoint unfinished? Partial, so that the planner picks it whatever its statistics say
    # (PostgreSQL, on a table that just grew by a burst, otherwise scanned every pending row).
    Index(
        "ix_webhook_deliveries_unfinished",
        "endpoint_id",
        "subject",
        "position",
        sqlite_where=text("status IN ('pending', 'delivering')"),
        postgresql_where=text("status IN ('pending', 'delivering')"),
    ),
    Index(None, "subject", "position"),
    Index(None, "endpoint_id", "created_at"),
)

# Erasure reaching every app: apps that declared they hold customer data, and per erasure the
# apps that have (acknowledged_at) or have not yet deleted their copy.
data_holders = Table(
    "data_holders",
    metadata,
    Column("app_id", String(40), primary_key=True),
    Column("declared_at", BigInteger, nullable=False),
)

erasures = Table(
    "erasures",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("subject", String(40), nullable=False),  # the erased customer's pseudonymous id
    Column("requested_at", BigInteger, nullable=False),
    Index(None, "subject"),
)

erasure_acks = Table(
    "erasure_acks",
    metadata,
    Column("erasure_id", String(40), primary_key=True),
    Column("app_id", String(40), primary_key=True),
    Column("acknowledged_at", BigInteger),
    Column("reminded_at", BigInteger),
    Column("reminders", Integer, nullable=False),
    Index(None, "acknowledged_at", "reminded_at"),
)

# How far each mirror of the outbox (the NATS JetStream publisher) has published.
# Insights (services/insights.py): counts of distinct customers whose consent change came
# into force, per day, week and month, purpose, channel, source and action; maintained from
# the outbox. A member row says "this customer is counted in that cell" (by blind index,
# deleted on erasure): a second change of the same customer in the period does not count
# again. Weeks and months are counted, not added up from days: a customer active on two days
# of a week is one customer of that week.
#
# A cell: the period (day, week or month), its first day, purpose, channel, source, action.
FLOW_CELL = ("period", "day", "purpose", "channel", "source", "action")


def _flow_cell(*, primary_key: bool) -> list[Column[Any]]:
    types: tuple[TypeEngine[Any], ...] = (
        String(5),
        Date(),
        String(64),
        String(16),
        String(16),
        String(16),
    )
    return [
        Column(name, type_, primary_key=primary_key, nullable=False)
        for name, type_ in zip(FLOW_CELL, types, strict=True)
    ]


insight_consent_flows = Table(
    "insight_consent_flows",
    metadata,
    *_flow_cell(primary_key=True),
    Column("customers", Integer, nullable=False),
)

# Keyed by member first: the one index answers both questions asked of it, "is this member
# counted in this cell yet" and "which rows are this member's" (an erasure). Migration 0017.
insight_flow_members = Table(
    "insight_flow_members",
    metadata,
    *_flow_cell(primary_key=False),
    Column("member", String(64), nullable=False),
    PrimaryKeyConstraint("member", *FLOW_CELL),
)

# Daily snapshots of the consent state: how many customers had each purpose (and channel)
# granted, out of how many customers (the consent rate over time).
insight_consent_levels = Table(
    "insight_consent_levels",
    metadata,
    Column("day", Date, primary_key=True),
    Column("purpose", String(64), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("granted", Integer, nullable=False),
    Column("customers", Integer, nullable=False),
)

# Daily counts of distinct customers per metric and key (services/insight_counts.py):
# questions asked, answered, declined and the points paid for them; decisions per channel,
# offers chosen and dismissed, offers suppressed per reason, decisions left empty per reason.
# ``total`` counts the events (points: the points paid). Members are kept two days, for the
# distinct count, and deleted on erasure.
insight_daily = Table(
    "insight_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("metric", String(24), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("customers", Integer, nullable=False),
    Column("total", BigInteger, nullable=False),
)

insight_daily_members = Table(
    "insight_daily_members",
    metadata,
    Column("day", Date, primary_key=True),
    Column("metric", String(24), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("member", String(64), primary_key=True),
    Index(None, "member"),
)

# What customers told us: how many hold each value of each (non-sensitive) choice question
# now, kept with every answer written, changed, deleted, expired or erased; and its daily
# snapshots (a chart over time).
insight_answer_tallies = Table(
    "insight_answer_tallies",
    metadata,
    Column("question_id", String(64), primary_key=True),
    Column("value", String(200), primary_key=True),
    Column("customers", Integer, nullable=False),
)

insight_answer_levels = Table(
    "insight_answer_levels",
    metadata,
    Column("day", Date, primary_key=True),
    Column("question_id", String(64), primary_key=True),
    Column("value", String(200), primary_key=True),
    Column("customers", Integer, nullable=False),
)

# How many customers are at each relationship stage, from the daily snapshot.
insight_stage_levels = Table(
    "insight_stage_levels",
    metadata,
    Column("day", Date, primary_key=True),
    Column("stage", Integer, primary_key=True),
    Column("customers", Integer, nullable=False),
)

mirror_positions = Table(
    "mirror_positions",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

# What staff did in the console (who, when, what): every change made there, in order.
console_actions = Table(
    "console_actions",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", BigInteger, nullable=False),
    Column("staff_id", String(40), nullable=False),
    Column("username", String(64), nullable=False),
    Column("role", String(24), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(200), nullable=False),
    Column("detail", JSON, nullable=False),
)

# Full verifications of the evidence log started in the console, and how far each got.
evidence_verifications = Table(
    "evidence_verifications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("started_at", BigInteger, nullable=False, index=True),
    Column("started_by", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("checked", BigInteger, nullable=False),
    Column("finished_at", BigInteger),
    Column("ok", Boolean),
    Column("problems", JSON, nullable=False),
)

# Double opt-in: a grant waiting for the address owner (services/confirmations.py). The link's
# token is kept as a keyed hash, like a preference link's.
confirmations = Table(
    "confirmations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("customer_id", String(40), nullable=False, index=True),
    Column("purpose", String(64), nullable=False),
    Column("channel", String(16), nullable=False),  # "*": the whole purpose
    Column("request_record", String(40), nullable=False),
    Column("kind", String(8), nullable=False),  # how it is confirmed: "email"
    # The token sealed by the customer's data key: the message is sent after the grant's
    # transaction commits, or by the server's loop after a crash (sent_at still null).
    Column("token_sealed", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False, index=True),
    Column("expires_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger),
    Column("reminded_at", BigInteger),
    Column("confirmed_at", BigInteger),
)

# Collection points: where the retailer asks for consent on its own sites, apps and tills
# (services/collection_points.py). The current definition, and every version ever served.
collection_points = Table(
    "collection_points",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("placement", String(16), nullable=False),
    Column("publishable_key", String(64), nullable=False, unique=True),
    Column("definition", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

collection_point_versions = Table(
    "collection_point_versions",
    metadata,
    Column("point_id", String(40), ForeignKey("collection_points.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# One row a submission: what was shown and chosen, for the console's rates (the evidence
# records hold the same, committed in the log). Deleted with the customer.
collection_submissions = Table(
    "collection_submissions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("point_id", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("variant", String(16), nullable=False),
    Column("customer_id", String(40), nullable=False, index=True),
    Column("day", Date, nullable=False),
    Column("submitted_at", BigInteger, nullable=False),
    # "1" or "0" per box of the version, in its order: grouped and counted in SQL.
    Column("chosen", String(12), nullable=False),
    Index(None, "point_id", "day"),
)
