"""`consentry import consents` of a CSV of historical consents into a fresh database.

python bench/bench_import.py [ROWS] [POSTGRES_SERVER_URL] [WORKERS]   (default 200,000 rows,
    SQLite, one worker; with a PostgreSQL URL, a scratch database is created on that server;
    "-" for SQLite with a number of workers)
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import write
from consentry.schemas.purposes import PurposeCreate
from consentry.services import purposes
from consentry.services.hub import Hub
from consentry.settings import Settings


def make_csv(path: Path, rows: int) -> None:
    rng = random.Random(3)
    with path.open("w") as out:
        out.write("email,purpose,channel,action,captured_at,location,external_id\n")
        for n in range(rows):
            customer = n // 2
            action = "grant" if n % 2 == 0 or rng.random() < 0.5 else "withdraw"
            out.write(
                f"c{customer}@example.com,newsletter,email,{action},"
                f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T10:{n % 60:02d}:00Z,"
                f"store-{n % 40},legacy-{n}\n"
            )


def scratch_postgres(server_url: str) -> str:
    """A new, empty database on the PostgreSQL server of ``server_url``."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"consentry_import_{random.randrange(1 << 30)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres(server_url: str, database_url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{make_url(database_url).database}" WITH (FORCE)'))
    admin.dispose()


def main(rows: int, url: str | None, workers: int = 1) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database = scratch_postgres(url) if url else f"sqlite:///{folder / 'consentry.db'}"
        hub = Hub.open(Settings(database_url=database, data_dir=folder))
        with hub.db.write() as conn:
            purposes.create(
                hub,
                conn,
                PurposeCreate(
                    id="newsletter",
                    title="News",
                    description="Offers by e-mail",
                    legal_basis="consent",
                    channels=["email", "sms"],
                ),
            )
        hub.close()
        csv = folder / "legacy.csv"
        make_csv(csv, rows)
        env = {"CONSENTRY_DATABASE_URL": database, "CONSENTRY_DATA_DIR": str(folder)}
        t0 = time.perf_counter()
        result = subprocess.run(
            [
                *(sys.executable, "-m", "consentry.cli", "import", "consents", str(csv)),
                *("--workers", str(workers)),
            ],
            capture_output=True,
            text=True,
            env={**__import__("os").environ, **env},
        )
        elapsed = time.perf_counter() - t0
        if url:
            drop_postgres(url, database)
        assert result.returncode == 0, result.stderr[-2000:]
    engine = "postgres" if url else "sqlite"
    write(
        f"import_{engine}" + (f"_{workers}_workers" if workers > 1 else ""),
        {
            "rows": rows,
            "workers": workers,
            "seconds": round(elapsed, 2),
            "records_per_s": round(rows / elapsed),
            "output": result.stdout.strip(),
        },
    )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 200_000,
        sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None,
        int(sys.argv[3]) if len(sys.argv) > 3 else 1,
    )
