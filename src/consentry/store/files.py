"""Files that hold personal data or keys are the server's alone: directories 0700, files 0600,
whatever the process's umask."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO

DIRECTORY = 0o700
FILE = 0o600


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700, and make it 0700 if it exists."""
    path.mkdir(mode=DIRECTORY, parents=True, exist_ok=True)
    os.chmod(path, DIRECTORY)


def private_sqlite(database: str) -> None:
    """Before SQLite opens ``database``: create it 0600 if new, so that its WAL and shared
    memory files, which SQLite creates with the database file's mode, are 0600 too; make an
    existing one and its companions 0600. A new parent directory is 0700 (an existing one is
    left as it is: it may be shared, like /tmp)."""
    path = Path(database)
    path.parent.mkdir(mode=DIRECTORY, parents=True, exist_ok=True)
    # O_EXCL: an existing database is never opened here. Closing any descriptor of a file
    # drops every POSIX lock this process holds on it, SQLite's included.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE))
    for companion in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        if companion.exists():
            os.chmod(companion, FILE)


def private_file(path: Path, content: bytes) -> None:
    """Write a new file readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


def private_lock_file(path: Path) -> IO[str]:
    """A lock file (empty; only flock()ed), 0600 like the rest."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE), "a")
