"""Every app a witness: the client keeps the last checkpoint of the hub's evidence log it saw
(on change pages, webhook deliveries) and, when another arrives, checks that one extends the
other (an RFC 9162 consistency proof) before believing either. A hub that rewrote its history,
or shows this app another history than it showed others, is caught at the next page.

The checks are those of the witness (``consentry.client.witness``), without the cosigning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from consentry.domain.merkle import verify_consistency
from consentry.domain.notes import (
    Checkpoint,
    NoteError,
    NoteKey,
    open_checkpoint,
    parse_checkpoint,
    parse_note,
)


class ForkDetected(Exception):
    """The hub showed two checkpoints of which neither extends the other: its log was rewritten
    or it shows different histories to different readers. ``seen`` and ``shown`` are both
    signed checkpoints: keep them, they are the evidence."""

    def __init__(self, reason: str, seen: str, shown: str) -> None:
        super().__init__(
            f"the hub's evidence log forked: {reason}. Keep both signed checkpoints as "
            f"evidence.\n--- seen before:\n{seen}--- shown now:\n{shown}"
        )
        self.reason, self.seen, self.shown = reason, seen, shown


class BadCheckpoint(Exception):
    """What the hub showed as a checkpoint is not one its log key signed."""


@dataclass(frozen=True)
class ProofNeeded:
    """Ask the hub for the consistency proof from ``smaller`` to ``larger`` and give it to
    :meth:`LogWatch.settle`."""

    smaller: int
    larger: int


class LogWatch:
    """``client.witness``. ``log_key``: the log's verifier key (GET /v1/evidence/checkpoint-key,
    best taken from the hub's operator once); without it the first checkpoint's key is asked of
    the hub and trusted from then on. ``state``: a file to remember the last checkpoint in, so
    that a restarted app still compares with what it saw."""

    def __init__(self, log_key: str | None = None, state: Path | None = None) -> None:
        self.log_key = NoteKey.parse(log_key) if log_key else None
        self.state = state
        self.last: str | None = None
        if state is not None and state.exists():
            self.last = state.read_text(encoding="utf-8")

    @property
    def size(self) -> int | None:
        """The size of the log in the last checkpoint seen."""
        return parse_checkpoint(parse_note(self.last).text).size if self.last else None

    def examine(self, shown: str) -> ProofNeeded | None:
        """What believing ``shown`` needs: None when it can be settled at once (the first one,
        the same one, one extending an empty log); raises ForkDetected on a contradiction that
        needs no proof (two trees of one size)."""
        if self.log_key is None:
            raise ValueError("no log key: set one, or let the client fetch it")
        new = self._parse(shown)
        if self.last is None:
            self._keep(shown)
            return None
        old = parse_checkpoint(parse_note(self.last).text)
        if new.size == old.size:
            if new.root != old.root:
                raise ForkDetected(f"two different trees of {new.size} records", self.last, shown)
            return None
        if min(new.size, old.size) == 0:
            self.settle(shown, [])
            return None
        return ProofNeeded(min(old.size, new.size), max(old.size, new.size))

    def settle(self, shown: str, proof: list[bytes]) -> None:
        """Check the consistency proof between the last checkpoint and ``shown`` (either may be
        the larger: a node behind the others may serve an older one), and keep the larger."""
        assert self.last is not None
        new, old = self._parse(shown), parse_checkpoint(parse_note(self.last).text)
        small, large = (old, new) if old.size <= new.size else (new, old)
        if not verify_consistency(small.size, large.size, small.root, large.root, proof):
            raise ForkDetected(
                f"the tree of {large.size} records does not extend the tree of {small.size}",
                self.last,
                shown,
            )
        if new.size > old.size:
            self._keep(shown)

    def _parse(self, shown: str) -> Checkpoint:
        assert self.log_key is not None
        try:
            return open_checkpoint(shown, self.log_key)[1]
        except NoteError as exc:
            raise BadCheckpoint(f"not a checkpoint of the log: {exc}") from None

    def _keep(self, shown: str) -> None:
        self.last = shown
        if self.state is not None:
            fresh = self.state.with_name(self.state.name + ".new")
            with open(fresh, "w", encoding="utf-8") as out:
                out.write(shown)
                out.flush()
                os.fsync(out.fileno())
            os.replace(fresh, self.state)
