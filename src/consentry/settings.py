"""All configuration, from CONSENTRY_* environment variables, in one place."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTRY_", extra="ignore")

    data_dir: Path = Path("./consentry-data")
    database_url: str | None = None
    admin_key: str | None = None
    signing_key_file: Path | None = None
    # Phone numbers written without a country code are read in this region.
    default_region: str = "GB"
    controller_name: str = "Consentry demo retailer"
    controller_contact: str = "privacy@example.com"
    jurisdiction: str = "GB"
    policy_url: str = "https://example.com/privacy"
    # How often the sequencer integrates new evidence into the tree (seconds).
    sequencer_interval: float = Field(default=0.2, gt=0, le=1.0)
    max_body_bytes: int = 16 * 1024 * 1024
    # SQLite: the private page cache of each process's check connection, filled at start-up
    # with the customers and consent-state tables, so that checks never wait for the disk.
    check_cache_mb: int = Field(default=1024, ge=0)

    @field_validator("admin_key")
    @classmethod
    def _admin_key_long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 32:
            raise ValueError("CONSENTRY_ADMIN_KEY must have at least 32 characters")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'consentry.db').resolve()}"

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.data_dir / "signing-key.pem"
