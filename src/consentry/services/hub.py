"""The composition root: settings, database, signing key, sequencer and tree cache together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from consentry.domain.clock import to_micros, utcnow
from consentry.domain.purposes import Purpose
from consentry.settings import Settings
from consentry.signing import Signer
from consentry.store.checks import CheckReader
from consentry.store.database import Database
from consentry.store.migrate import migrate
from consentry.store.sequencer import Sequencer
from consentry.store.tree_cache import TreeCache


@dataclass
class Hub:
    settings: Settings
    db: Database
    signer: Signer
    clock: Callable[[], datetime] = utcnow
    sequencer: Sequencer = field(init=False)
    tree: TreeCache = field(init=False)
    checks: CheckReader = field(init=False)
    # The last version of each purpose this process read (see services.purposes.current).
    purposes: dict[str, Purpose] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sequencer = Sequencer(self.db, self.signer, self.clock)
        self.tree = TreeCache(self.db)
        self.checks = CheckReader(self.db, self.settings.check_cache_mb)

    @classmethod
    def open(cls, settings: Settings, *, migrate_schema: bool = True) -> Hub:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url)
        if migrate_schema:
            migrate(db)
        signer = Signer.load_or_create(settings.resolved_signing_key_file)
        hub = cls(settings, db, signer)
        hub.sequencer.integrate()  # signs the empty head of a new log
        return hub

    def now(self) -> datetime:
        return self.clock()

    def now_micros(self) -> int:
        return to_micros(self.clock())

    def close(self) -> None:
        self.checks.close()
        self.db.dispose()
