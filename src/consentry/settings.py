"""All configuration, from CONSENTRY_* environment variables, in one place."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from consentry.domain.notes import COSIGNATURE_V1, NoteError, NoteKey
from consentry.domain.webhooks import parse_networks


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_", extra="ignore")

    data_dir: Path = Path("./consentry-data")
    database_url: str | None = None
    admin_key: str | None = None
    signing_key_file: Path | None = None
    # The vault: the master key file (created on first start) and the key store holding the
    # customers' wrapped data keys — a database of its own, never backed up with the data.
    master_key_file: Path | None = None
    keystore_url: str | None = None
    # The erasure journal (store/erasure_journal.py); default <data dir>/erasures.journal. Put it
    # on storage that restoring the database and the key store does not roll back.
    erasure_journal: Path | None = None
    # The master key's KEK is rotated this often by the server (0: only `consentry keys
    # rotate`); a retired KEK is destroyed after the backup retention, when no backup that
    # still needs it is kept (docs/vault.md: the window).
    master_key_rotate_days: int = Field(default=30, ge=0, le=3650)
    backup_retention_days: int = Field(default=35, ge=1, le=3650)
    # Phone numbers written without a country code are read in this region.
    default_region: str = "GB"
    controller_name: str = "Consentry demo retailer"
    # The pages' clock (dates and times a customer or a clerk reads), and the names people
    # know the retailer's stores by (ids as the tills send them -> names), e.g.
    # CONSENTRY_LOCATIONS='{"store-01-london": "London, Oxford Street"}'.
    timezone: str = "Europe/London"
    locations: dict[str, str] = {}
    controller_contact: str = "privacy@example.com"
    jurisdiction: str = "GB"
    policy_url: str = "https://example.com/privacy"
    # How often the sequencer integrates new evidence into the tree (seconds).
    sequencer_interval: float = Field(default=0.2, gt=0, le=1.0)
    max_body_bytes: int = 16 * 1024 * 1024
    # SQLite: the private page cache of each process's check connection, filled at start-up
    # with the customers and consent-state tables, so that checks never wait for the disk.
    check_cache_mb: int = Field(default=1024, ge=0)
    # Retention: what is deleted once it is this old (see services/retention.py).
    retention_access_log_days: int = Field(default=730, ge=1)
    retention_inactive_customer_days: int = Field(default=1095, ge=30)
    retention_purchase_days: int = Field(default=730, ge=1)
    retention_behaviour_days: int = Field(default=180, ge=1)
    # How often the server runs the retention policies (seconds).
    retention_interval: float = Field(default=3600.0, gt=0)
    # The preference centre: where its links point, how long they live, how mail is sent
    # ("outbox": .eml files in <data dir>/outbox; "smtp": the smtp_* settings).
    # PostgreSQL: how long a request may wait before it is answered 503 database-unavailable
    # (store/database.Timeouts); statement 0: no limit.
    database_connect_timeout: float = Field(default=2.0, gt=0, le=60)
    database_pool_timeout: float = Field(default=2.0, gt=0, le=60)
    database_lock_timeout_ms: int = Field(default=5_000, ge=0)
    database_statement_timeout_ms: int = Field(default=60_000, ge=0)
    public_url: str = "http://127.0.0.1:8000"
    # The evidence log's name in its checkpoints (c2sp.org/tlog-checkpoint): witnesses know the
    # log by it, so it must never change. None: the public URL without its scheme, + "/evidence".
    log_origin: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\s+]+$")
    # The witnesses whose cosignatures of the checkpoints the hub accepts: their verifier keys
    # (c2sp.org/signed-note, signature type 0x04), as `consentry witness key` prints them.
    witnesses: list[str] = []
    # A witness that has not cosigned for this long while the log grew past what it cosigned
    # is shown as falling behind in the console.
    witness_lag_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    # Reverse proxies whose X-Forwarded-For is believed (see `consentry serve --help`).
    forwarded_allow_ips: str = ""
    # A consent captured (or an event that happened) before this instant is refused as
    # implausible: a typo for the year, not evidence (and year 1 broke every date in the log).
    earliest_captured_at: AwareDatetime = datetime(2000, 1, 1, tzinfo=UTC)
    link_days: int = Field(default=7, ge=1, le=90)
    session_minutes: int = Field(default=60, ge=5, le=24 * 60)
    # The staff desk: a signed-in clerk's session lasts this long.
    staff_session_minutes: int = Field(default=240, ge=5, le=24 * 60)
    # text: uvicorn's lines; json: one JSON object a line with the request's id (cli/logs.py).
    log_format: Literal["text", "json"] = "text"
    mail_backend: Literal["outbox", "smtp"] = "outbox"
    mail_from: str = "privacy@example.com"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    # Requests for a link: at most this many an hour per address, and per IP address.
    link_requests_per_hour: int = Field(default=3, ge=1)
    link_requests_per_ip_per_hour: int = Field(default=20, ge=1)
    # Progressive profiling (see domain/profiling.py): the purpose whose consent allows asking,
    # the pause after each question, how long a "rather not say" is respected, and when a
    # relationship reaches stage 2 and 3 (answers given and days as a customer, both needed).
    profiling_purpose: str = "preferences"
    profiling_cooldown_days: float = Field(default=3, ge=0)
    profiling_decline_days: int = Field(default=90, ge=1)
    profiling_stage_two_answers: int = Field(default=3, ge=0)
    profiling_stage_two_days: int = Field(default=14, ge=0)
    profiling_stage_three_answers: int = Field(default=8, ge=0)
    profiling_stage_three_days: int = Field(default=90, ge=0)
    # Offers (see domain/decisions.py and docs/offers.md): the purposes the data-use policy
    # names, how long a purchase suppresses itself and its substitutes, how far back purchases
    # suggest complements, the fewest distinct customers behind a complement rule, the caps
    # per channel (at most N decisions with offers in D days), quiet hours for the channels
    # that interrupt, the retailer's time zone, and how long decisions are kept.
    offers_personalisation_purpose: str = "personalisation"
    offers_profiling_purpose: str = "profiling"
    offers_substitute_cooldown_days: int = Field(default=30, ge=0)
    offers_complement_days: int = Field(default=60, ge=1)
    offers_min_customers: int = Field(default=20, ge=5)
    offers_channel_caps: dict[str, tuple[int, int]] = {
        "email": (2, 7),
        "sms": (1, 7),
        "push": (3, 7),
        "post": (1, 30),
    }
    offers_quiet_hours: tuple[int, int] = (21, 8)
    offers_quiet_channels: list[str] = ["sms", "push"]
    offers_timezone: str = "Europe/London"
    retention_decision_days: int = Field(default=365, ge=1)
    # Insights (services/insights.py): a count of fewer than this many customers is never
    # shown (never below domain.insights.K_FLOOR); days are the retailer's calendar days.
    insights_k: int = Field(default=10, ge=5)
    insights_timezone: str = "Europe/London"
    # Webhooks (see services/webhooks.py): delivered by the server process itself unless
    # turned off (then run `consentry worker`), at most so many requests at once per endpoint,
    # each with this timeout, retried for this many days, and an endpoint failing for longer
    # than this many days is disabled.
    webhook_delivery: bool = True
    # Deliveries never reach loopback, private, link-local, CGNAT, multicast or other
    # non-public addresses, except in these networks (comma-separated CIDRs, e.g. an
    # on-premises CRM's "10.20.0.0/16"; empty: none).
    webhook_allow_networks: str = ""
    webhook_per_endpoint: int = Field(default=32, ge=1, le=500)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_retry_days: float = Field(default=3, gt=0)
    webhook_disable_after_days: float = Field(default=5, gt=0)
    # Mirror every change onto NATS JetStream (subjects consentry.<type>); off unless set.
    nats_url: str | None = None

    @field_validator("admin_key")
    @classmethod
    def _admin_key_long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 32:
            raise ValueError("CONSENTRY_ADMIN_KEY must have at least 32 characters")
        return value

    @field_validator("timezone", "offers_timezone", "insights_timezone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(f"{value!r} is not a time zone (e.g. Europe/London)") from None
        return value

    @field_validator("webhook_allow_networks")
    @classmethod
    def _networks_are_cidrs(cls, value: str) -> str:
        try:
            parse_networks(value)
        except ValueError as exc:
            raise ValueError(
                f"CONSENTRY_WEBHOOK_ALLOW_NETWORKS: comma-separated CIDRs expected ({exc})"
            ) from exc
        return value

    @field_validator("witnesses")
    @classmethod
    def _witness_keys(cls, value: list[str]) -> list[str]:
        for vkey in value:
            try:
                key = NoteKey.parse(vkey)
            except NoteError as exc:
                raise ValueError(f"CONSENTRY_WITNESSES: {vkey!r}: {exc}") from None
            if key.kind != COSIGNATURE_V1:
                raise ValueError(f"CONSENTRY_WITNESSES: {vkey!r} is not a cosigner key (type 0x04)")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'consentry.db').resolve()}"

    @property
    def resolved_erasure_journal(self) -> Path:
        return self.erasure_journal or self.data_dir / "erasures.journal"

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def resolved_keystore_url(self) -> str:
        if self.keystore_url:
            return self.keystore_url
        return f"sqlite:///{(self.data_dir / 'keys.db').resolve()}"

    @property
    def resolved_log_origin(self) -> str:
        if self.log_origin:
            return self.log_origin
        return self.public_url.split("://", 1)[-1].rstrip("/") + "/evidence"

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.data_dir / "signing-key.pem"
