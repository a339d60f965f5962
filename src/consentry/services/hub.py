"""The composition root: settings, database, signing key, sequencer and tree cache together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from consentry.domain.catalogue_version import CatalogueVersion
from consentry.domain.clock import to_micros, utcnow
from consentry.domain.purposes import Purpose
from consentry.domain.questions import Question
from consentry.services.access import AccessLog
from consentry.services.vaults import open_vault
from consentry.settings import Settings
from consentry.signing import Signer
from consentry.store.checks import CheckReader
from consentry.store.database import Database, Timeouts
from consentry.store.erasure_journal import ErasureJournal
from consentry.store.files import private_dir
from consentry.store.migrate import migrate
from consentry.store.quick import QuickReader
from consentry.store.sequencer import OutboxSequencer, Sequencer
from consentry.store.tree_cache import TreeCache
from consentry.vault.vault import Vault


@dataclass
class Hub:
    settings: Settings
    db: Database
    signer: Signer
    vault: Vault
    clock: Callable[[], datetime] = utcnow
    sequencer: Sequencer = field(init=False)
    outbox: OutboxSequencer = field(init=False)
    tree: TreeCache = field(init=False)
    checks: CheckReader = field(init=False)
    quick: QuickReader = field(init=False)
    access: AccessLog = field(init=False)
    erasure_journal: ErasureJournal = field(init=False)
    # The last version of each purpose this process read (see services.purposes.current).
    purposes: dict[str, Purpose] = field(default_factory=dict)
    # Every purpose as last read, with the catalogue's fingerprint then (services.reads).
    purpose_catalogue: tuple[str, list[Purpose]] | None = None
    # The question bank as last read, with the version it was read at (services.questions.bank).
    # The last item: the questions whose answers gate others ("ask B if A was answered so").
    question_bank: (
        tuple[tuple[int, int], list[Question], dict[str, Question], frozenset[str]] | None
    ) = None
    # The catalogue, offers and complements as last read (services.catalogue.current).
    catalogue: CatalogueVersion | None = None
    # The latest signed checkpoint and when it was made (time.monotonic()), for change pages and
    # webhook deliveries to carry (services.evidence.recent_checkpoint).
    recent_checkpoint: tuple[str, float] | None = None

    def __post_init__(self) -> None:
        self.sequencer = Sequencer(self.db, self.signer, self.clock)
        self.outbox = OutboxSequencer(self.db)
        self.tree = TreeCache(self.db)
        self.checks = CheckReader(self.db, self.settings.check_cache_mb)
        self.quick = QuickReader(self.db, self.checks)
        self.access = AccessLog(self.db, self.now_micros)
        self.erasure_journal = ErasureJournal(self.settings.resolved_erasure_journal)

    @classmethod
    def open(cls, settings: Settings, *, migrate_schema: bool = True) -> Hub:
        private_dir(settings.data_dir)
        db = Database(
            settings.resolved_database_url,
            timeouts=Timeouts(
                connect=settings.database_connect_timeout,
                pool=settings.database_pool_timeout,
                lock_ms=settings.database_lock_timeout_ms,
                statement_ms=settings.database_statement_timeout_ms,
            ),
        )
        if migrate_schema:
            migrate(db)
        signer = Signer.load_or_create(settings.resolved_signing_key_file)
        vault = open_vault(db, settings.resolved_master_key_file, settings.resolved_keystore_url)
        hub = cls(settings, db, signer, vault)
        hub.sequencer.integrate()  # signs the empty head of a new log
        return hub

    def now(self) -> datetime:
        return self.clock()

    def now_micros(self) -> int:
        return to_micros(self.clock())

    def close(self) -> None:
        self.access.flush()
        self.checks.close()
        self.quick.close()
        self.vault.close()
        self.db.dispose()
