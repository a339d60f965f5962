"""``consentry``: serve, worker, demo, evidence, apps, import, keys, retention, staff,
questions, catalogue, offers, witness, receipt."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from consentry.cli.logs import configure as configure_logs
from consentry.cli.logs import log_config
from consentry.cli.monitor import monitor
from consentry.cli.receipt import receipt_app
from consentry.cli.witness import witness_app
from consentry.domain.errors import DomainError
from consentry.settings import Settings
from consentry.vault.errors import VaultError

if TYPE_CHECKING:
    from consentry.services.hub import Hub

app = typer.Typer(help="Consentry: a consent and preference hub.", no_args_is_help=True)
evidence_app = typer.Typer(
    help="The evidence log: export it, read its head, verify it.", no_args_is_help=True
)
apps_app = typer.Typer(help="Apps (integrations) and their keys.", no_args_is_help=True)
import_app = typer.Typer(help="Import data from another system.", no_args_is_help=True)
keys_app = typer.Typer(help="The vault's keys.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention: delete what is past its time.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts for the staff desk (/desk/).", no_args_is_help=True)
questions_app = typer.Typer(
    help="The question bank for progressive profiling.", no_args_is_help=True
)
catalogue_app = typer.Typer(
    help="The catalogue: categories, sensitive topics, products, offers.", no_args_is_help=True
)
offers_app = typer.Typer(help="Offers and the decision engine.", no_args_is_help=True)
insights_app = typer.Typer(help="The console's counts.", no_args_is_help=True)
app.add_typer(questions_app, name="questions")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(offers_app, name="offers")
app.add_typer(insights_app, name="insights")
app.add_typer(staff_app, name="staff")
app.add_typer(evidence_app, name="evidence")
app.add_typer(keys_app, name="keys")
app.add_typer(retention_app, name="retention")
app.add_typer(apps_app, name="apps")
app.add_typer(import_app, name="import")
app.add_typer(witness_app, name="witness")
app.add_typer(receipt_app, name="receipt")
evidence_app.command("monitor")(monitor)

out = Console()
err = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=2)


def load_settings(data_dir: Path | None = None) -> Settings:
    try:
        return Settings(data_dir=data_dir) if data_dir is not None else Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


def open_hub(settings: Settings) -> Hub:
    # Imported here: the hub pulls in SQLAlchemy, the drivers and the vault (0.5 s), which
    # commands that never open one (evidence verify, receipt verify, witness) do without.
    from consentry.services.hub import Hub

    try:
        return Hub.open(settings)
    except VaultError as exc:
        raise fail(f"the vault cannot be opened: {exc}") from None
    except Exception as exc:  # the database is unreachable or unreadable: say so plainly
        raise fail(f"cannot open the database {settings.resolved_database_url!r}: {exc}") from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: Annotated[Path | None, typer.Option(help="Overrides CONSENTRY_DATA_DIR.")] = None,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
    log_level: Annotated[
        str, typer.Option(help="debug, info (one line a request), warning, error.")
    ] = "warning",
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="The reverse proxies whose X-Forwarded-For / -Proto are believed "
            "(comma-separated addresses or CIDRs; overrides CONSENTRY_FORWARDED_ALLOW_IPS). "
            "None by default: the peer's own address is the client's."
        ),
    ] = None,
) -> None:
    """Run the server; it creates or migrates the schema on start."""
    settings = load_settings(data_dir=data_dir)
    _require_free_port(host, port)
    proxies = settings.forwarded_allow_ips if forwarded_allow_ips is None else forwarded_allow_ips
    if data_dir is not None:
        os.environ["CONSENTRY_DATA_DIR"] = str(data_dir)
    if not settings.admin_key:
        err.print("[yellow]CONSENTRY_ADMIN_KEY is not set: no admin key will work.[/]")
    hub = open_hub(settings)  # migrate once, before any worker starts
    _refuse_missed_erasures(hub)
    if settings.admin_key:
        from consentry.services.apps import ensure_admin

        try:
            ensure_admin(hub, settings.admin_key)
        except DomainError as exc:
            raise fail(exc.detail) from None
    hub.close()
    import uvicorn

    uvicorn.run(
        "consentry.api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=log_config(settings.log_format, log_level),
        # Request lines carry paths and query strings only: personal data never travels in
        # URLs (look-ups are POSTs), so they are safe to log.
        access_log=log_level in ("debug", "info"),
        # Client addresses key the sign-in and link-request limits: a forwarded address is
        # believed only from a proxy the operator named (uvicorn would trust 127.0.0.1).
        proxy_headers=bool(proxies.strip()),
        forwarded_allow_ips=proxies.strip() or None,
    )


def _require_free_port(host: str, port: int) -> None:
    """Fail now, naming --port, if another program listens there (as uvicorn would bind)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise fail(
                f"cannot listen on {host}:{port} ({exc.strerror}): another program uses the "
                "port; choose another with --port"
            ) from None


def _refuse_missed_erasures(hub: Hub) -> None:
    from consentry.services.backups import outstanding

    missed = outstanding(hub)
    if missed:
        hub.close()
        raise fail(
            f"{len(missed)} customers erased since this database's backup are back in it "
            "(the erasure journal, CONSENTRY_ERASURE_JOURNAL, holds them): run "
            "`consentry replay-erasures` before serving"
        )


@app.command()
def backup(
    folder: Annotated[Path, typer.Argument(help="A new directory for the backup.")],
    keystore_only: Annotated[
        bool,
        typer.Option(
            "--keystore-only",
            help="Only the key store (PostgreSQL: back the database up with pg_dump or base "
            "backups, and the key store with this).",
        ),
    ] = False,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """A consistent online backup of the database, then of the key store, with a manifest
    (time, log size, head). Not the master key file, nor the erasure journal: keep those on
    storage of their own (docs/operations.md)."""
    from consentry.services.backups import BackupError
    from consentry.services.backups import backup as make_backup

    if folder.exists():
        raise fail(f"{folder} exists: a backup goes into a new directory")
    hub = open_hub(load_settings(data_dir=data_dir))
    try:
        manifest = make_backup(hub, folder, keystore_only=keystore_only)
    except BackupError as exc:
        raise fail(str(exc)) from None
    finally:
        hub.close()
    files = ", ".join(manifest["files"].values())
    out.print(
        f"backed up {files} to {folder} at {manifest['taken_at']} "
        f"(log of {manifest['log_size']} records)"
    )


@app.command()
def restore(
    folder: Annotated[Path, typer.Argument(help="A directory `consentry backup` made.")],
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Put a backup back (stop every server first), then erase again every customer the
    erasure journal erased since: nobody erased comes back."""
    from consentry.services.backups import BackupError, replay
    from consentry.services.backups import restore as put_back

    settings = load_settings(data_dir=data_dir)
    try:
        manifest = put_back(settings, folder)
    except BackupError as exc:
        raise fail(str(exc)) from None
    hub = open_hub(settings)
    try:
        again = replay(hub)
    finally:
        hub.close()
    out.print(
        f"restored the backup of {manifest['taken_at']}; erased again {again} customers "
        "the journal erased since"
    )


@app.command("replay-erasures")
def replay_erasures(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Erase again every customer the erasure journal erased whom the database shows (after a
    restore made by other means: pg_restore, a point-in-time recovery)."""
    from consentry.services.backups import replay

    hub = open_hub(load_settings(data_dir=data_dir))
    try:
        out.print(f"erased again {replay(hub)} customers")
    finally:
        hub.close()


@app.command()
def worker(
    data_dir: Annotated[Path | None, typer.Option()] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then stop.")
    ] = False,
) -> None:
    """Deliver webhooks (fan-out, signing, retries) without serving HTTP. Run as many as you
    like next to `consentry serve` (with CONSENTRY_WEBHOOK_DELIVERY=false there, or not):
    they never deliver the same message at once."""
    from consentry.services.webhook_worker import WebhookWorker, deliver_now

    settings = load_settings(data_dir=data_dir)
    configure_logs(settings.log_format, "info")
    hub = open_hub(settings)
    try:
        if once:
            hub.outbox.integrate_all()
            out.print(f"{deliver_now(hub, rounds=100)} deliveries attempted")
            return
        out.print("delivering webhooks; Ctrl-C to stop")
        loop = WebhookWorker(hub)
        with suppress(KeyboardInterrupt):
            loop.run_forever()
    finally:
        hub.close()


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its files.")] = Path(
        "./consentry-demo"
    ),
    customers: Annotated[int, typer.Option(help="How many demo customers.")] = 3000,
    port: Annotated[int, typer.Option()] = 8000,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Only create the data.")] = False,
) -> None:
    """Create a fresh demo retailer (purposes, customers, consent histories) and serve it."""
    import secrets
    import shutil

    from consentry.demo.retailer import STORE_NAMES, build_demo, demo_centre_link

    if not no_serve:
        _require_free_port(host, port)  # before minutes of building data for a dead server
    if data_dir.exists():
        shutil.rmtree(data_dir)
    admin_key = "demo_admin_" + secrets.token_urlsafe(24)
    os.environ["CONSENTRY_DATA_DIR"] = str(data_dir)
    os.environ["CONSENTRY_ADMIN_KEY"] = admin_key
    os.environ["CONSENTRY_PUBLIC_URL"] = f"http://{host}:{port}"
    os.environ["CONSENTRY_LOCATIONS"] = json.dumps(STORE_NAMES)
    os.environ.pop("CONSENTRY_DATABASE_URL", None)
    settings = load_settings()
    hub = open_hub(settings)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("demo customers", total=customers)
        summary = build_demo(hub, customers, lambda n: progress.advance(task, n))
    centre_link = demo_centre_link(hub)
    from consentry.services.desk import add_staff

    clerk_password = secrets.token_urlsafe(12)
    add_staff(hub, "clerk", "Sam Kaur", clerk_password, "store", "store-01-london")
    console_password = secrets.token_urlsafe(12)
    add_staff(hub, "privacy", "Priya Shah", console_password, None, None, "admin")
    add_staff(hub, "marketing", "Tom Reed", console_password, None, None, "marketer")
    hub.close()
    base = f"http://{host}:{port}"
    out.print(f"[bold]Consentry demo[/] — {summary}")
    out.print(f"  data directory  {data_dir.resolve()}")
    out.print(f"  start here      {base}/")
    out.print(f"  admin key       {admin_key}")
    out.print(f"  API             {base}/v1/purposes")
    out.print(f"  API docs        {base}/docs")
    out.print(f"  signed head     {base}/v1/evidence/head")
    out.print(f"  her preferences {centre_link}", soft_wrap=True)
    out.print("                  (customer with card 6000000001; the link works once)")
    out.print(f"  ask for a link  {base}/p/request", soft_wrap=True)
    out.print(
        f"                  (mail goes to {data_dir.resolve() / 'outbox'}: each as .eml, and"
        " as .txt to read)",
        soft_wrap=True,
    )
    # The link command builds links with the public URL; a demo off the default port says so.
    default = Settings.model_fields["public_url"].default
    public = "" if base == default else f"CONSENTRY_PUBLIC_URL={base} "
    out.print(
        f"  a new link      {public}consentry link --card 6000000001 --data-dir {data_dir}",
        soft_wrap=True,
    )
    out.print(
        f"  staff desk      {base}/desk/  (user clerk, password {clerk_password})", soft_wrap=True
    )
    out.print(
        f"  console         {base}/console/  (user privacy, an admin, or marketing, a marketer;"
        f" password {console_password})",
        soft_wrap=True,
    )
    out.print(f"  public keys     {base}/.well-known/jwks.json")
    out.print(
        f"  try             curl -H 'Authorization: Bearer {admin_key}' {base}/v1/purposes",
        soft_wrap=True,
    )
    if no_serve:
        return
    import uvicorn

    uvicorn.run("consentry.api.asgi:app", host=host, port=port, log_level="warning")


@evidence_app.command("head")
def evidence_head(
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Print the current signed tree head as JSON (integrating pending records first)."""
    from consentry.services import evidence

    hub = open_hub(load_settings(data_dir=data_dir))
    out.print_json(json.dumps(evidence.head(hub).as_json()))
    hub.close()


@evidence_app.command("jwks")
def evidence_jwks(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Print the public keys (JWKS) that verify heads and receipts."""
    hub = open_hub(load_settings(data_dir=data_dir))
    out.print_json(json.dumps(hub.signer.jwks()))
    hub.close()


@evidence_app.command("export")
def evidence_export(
    output: Annotated[Path, typer.Argument(help="Where to write the NDJSON export.")],
    head_file: Annotated[
        Path | None, typer.Option("--head", help="Also write the head here.")
    ] = None,
    jwks_file: Annotated[
        Path | None, typer.Option("--jwks", help="Also write the JWKS here.")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Write the whole log, one leaf a line, up to a freshly signed head."""
    from consentry.services import evidence

    hub = open_hub(load_settings(data_dir=data_dir))
    head = evidence.head(hub)
    with output.open("wb") as handle:
        for line in evidence.export_lines(hub, head.size):
            handle.write(line)
    if head_file:
        head_file.write_text(json.dumps(head.as_json(), indent=2) + "\n")
    if jwks_file:
        jwks_file.write_text(json.dumps(hub.signer.jwks(), indent=2) + "\n")
    err.print(f"wrote {head.size} records to {output}")
    hub.close()


@evidence_app.command("verify")
def evidence_verify(
    export: Annotated[Path, typer.Argument(help="The NDJSON export.")],
    head: Annotated[Path, typer.Option("--head", help="The signed tree head (JSON).")],
    jwks: Annotated[Path, typer.Option("--jwks", help="The public keys (JWKS JSON).")],
) -> None:
    """Recompute the root from the export alone and check it against the signed head."""
    from consentry.audit.verify import verify_export_file

    for path in (export, head, jwks):
        if not path.is_file():
            raise fail(f"no file {path}")
    try:
        head_doc = json.loads(head.read_text())
        jwks_doc = json.loads(jwks.read_text())
    except json.JSONDecodeError as exc:
        raise fail(f"cannot read JSON: {exc}") from None
    verdict = verify_export_file(export, head_doc, jwks_doc)
    if verdict.ok:
        out.print(
            f"[green]OK[/] {verdict.records} records; root {verdict.root_hash} matches "
            "the signed head"
        )
        return
    if verdict.first_bad_line is not None:
        err.print(
            f"[bold red]FIRST BAD RECORD[/] line {verdict.first_bad_line}"
            + (f" ({verdict.first_bad_record})" if verdict.first_bad_record else "")
        )
    for problem in verdict.problems[:20]:
        err.print(f"[red]-[/] {problem}")
    if len(verdict.problems) > 20:
        err.print(f"… and {len(verdict.problems) - 20} more")
    raise typer.Exit(code=1)


@apps_app.command("create")
def apps_create(
    name: Annotated[str, typer.Argument()],
    scope: Annotated[list[str], typer.Option("--scope", help="A scope; repeat for more.")],
    purpose: Annotated[
        list[str] | None, typer.Option("--purpose", help="A purpose, or '*'.")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Create an app and print its key (shown once)."""
    from consentry.services import apps

    hub = open_hub(load_settings(data_dir=data_dir))
    try:
        with hub.db.write() as conn:
            created = apps.create(hub, conn, name, scope, purpose or [])
    except DomainError as exc:
        raise fail(exc.detail) from None
    finally:
        hub.close()
    out.print_json(json.dumps(created))


@apps_app.command("list")
def apps_list(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """List apps and their scopes."""
    from consentry.services import apps

    hub = open_hub(load_settings(data_dir=data_dir))
    table = Table("id", "name", "scopes", "purposes", "revoked")
    after = None
    while True:
        page = apps.list_page(hub, after, 1000)
        for a in page["apps"]:
            table.add_row(
                a["id"],
                a["name"],
                " ".join(a["scopes"]),
                " ".join(a["purposes"]),
                a["revoked_at"] or "",
            )
        after = page["next"]
        if after is None:
            break
    hub.close()
    out.print(table)


@apps_app.command("revoke")
def apps_revoke(
    app_id: Annotated[str, typer.Argument()],
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Revoke an app's key at once."""
    from consentry.services import apps

    hub = open_hub(load_settings(data_dir=data_dir))
    try:
        with hub.db.write() as conn:
            apps.revoke(hub, conn, app_id)
    except DomainError as exc:
        raise fail(exc.detail) from None
    finally:
        hub.close()
    out.print(f"revoked {app_id}")


@contextmanager
def _rows_progress() -> Iterator[Callable[[int], None]]:
    """A progress bar counting rows on stderr; yields the function that advances it."""
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        TextColumn("{task.completed} rows"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("import", total=None)
        yield lambda n: progress.advance(task, n)


def _print_bad_rows(errors: list[tuple[int, str]]) -> None:
    for line, reason in errors[:50]:
        err.print(f"[red]line {line}:[/] {reason}", soft_wrap=True)
    if len(errors) > 50:
        err.print(f"… and {len(errors) - 50} more bad rows")


@import_app.command("consents")
def import_consents(
    file: Annotated[Path, typer.Argument(help="CSV (with a header) or NDJSON file.")],
    data_dir: Annotated[Path | None, typer.Option()] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes: rows are shared out by customer, so each core does its "
            "part of the per-row work. Default: one per core (at most 8) for files of 4 MiB "
            "or more, one for smaller files.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Import historical consents; bad rows are reported, good rows kept, re-runs add nothing."""
    from consentry.services.import_workers import (
        ImportFailed,
        default_workers,
        import_in_parallel,
    )
    from consentry.services.importer import import_consents as run_import

    if not file.is_file():
        raise fail(f"no file {file}")
    if workers is None:
        workers = default_workers(file)
    hub = open_hub(load_settings(data_dir=data_dir))
    try:
        with _rows_progress() as advance:
            if workers == 1:
                report = run_import(hub, file, advance)
            else:
                report = import_in_parallel(hub, file, workers, advance)
        hub.sequencer.integrate_all()
    except ImportFailed as exc:
        raise fail(f"the import stopped: {exc}. What was imported stays; run it again.") from None
    except UnicodeDecodeError:
        raise fail(
            f"{file} is not UTF-8 text: save it as UTF-8 and run the import again "
            "(what was imported stays)."
        ) from None
    finally:
        hub.close()
    _print_bad_rows(report.errors)
    out.print(
        f"imported {report.imported}, already imported {report.already_imported}, "
        f"bad {report.bad}, customers created {report.customers_created}"
    )
    if report.bad:
        raise typer.Exit(code=1)


@import_app.command("events")
def import_events(
    file: Annotated[Path, typer.Argument(help="CSV (with a header) or NDJSON file.")],
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Import purchases, returns, visits, views and app opens (the fields of POST /v1/events);
    bad rows are reported by line, good rows kept, re-runs add nothing."""
    from consentry.services.event_import import import_events as run_import

    if not file.is_file():
        raise fail(f"no file {file}")
    hub = open_hub(load_settings(data_dir=data_dir))
    try:
        with _rows_progress() as advance:
            report = run_import(hub, file, advance)
    finally:
        hub.close()
    _print_bad_rows(report.errors)
    out.print(f"imported {report.accepted}, already imported {report.duplicates}, bad {report.bad}")
    if report.bad:
        raise typer.Exit(code=1)


@keys_app.command("rotate")
def keys_rotate(
    data_dir: Annotated[Path | None, typer.Option()] = None,
    batch: Annotated[int, typer.Option(min=1, help="Data keys re-wrapped per transaction.")] = 5000,
) -> None:
    """Make a new key-encryption key and re-wrap every data key with it (the data itself is
    not re-encrypted). Servers keep running; an interrupted rotation resumes when run again."""
    settings = load_settings(data_dir=data_dir)
    hub = open_hub(settings)
    with Progress(
        TextColumn("re-wrapping data keys"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("rotate", total=None)
        done, retired = hub.vault.rotate(
            batch=batch,
            progress=lambda n, total: progress.update(task, completed=n, total=total),
            retention_days=settings.backup_retention_days,
        )
    current = hub.vault.master.current
    hub.close()
    out.print(f"re-wrapped {done} data keys under {current}")
    if retired:
        out.print(f"destroyed {', '.join(retired)} (retired longer than the backup retention)")


@app.command("link")
def preference_link(
    card: Annotated[str | None, typer.Option(help="The customer's loyalty card.")] = None,
    email: Annotated[str | None, typer.Option(help="The customer's e-mail address.")] = None,
    phone: Annotated[str | None, typer.Option(help="The customer's phone number.")] = None,
    customer: Annotated[str | None, typer.Option(help="The customer's id (cus_…).")] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """A new personal link to a customer's preference centre (it works once, for
    CONSENTRY_LINK_DAYS days), for a customer named by exactly one of the options."""
    from consentry.schemas.customers import CustomerLookup
    from consentry.services import customers, web_access

    named = {"loyalty_card": card, "email": email, "phone": phone, "customer": customer}
    given = {kind: value for kind, value in named.items() if value}
    if len(given) != 1:
        raise fail("name the customer by exactly one of --card, --email, --phone, --customer")
    hub = open_hub(load_settings(data_dir=data_dir))
    try:
        found = customer or customers.find(hub, CustomerLookup.model_validate(given))
        if found is None:
            raise fail(f"no customer has that {next(iter(given)).replace('_', ' ')}")
        link = web_access.create_link(hub, found)
    except DomainError as exc:
        raise fail(exc.detail) from None
    finally:
        hub.close()
    out.print(link["url"], soft_wrap=True)
    err.print(f"(for {found}; it works once, until {link['expires_at']})")


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument(help="Lower-case user name, e.g. sam.k")],
    name: Annotated[str, typer.Option(help="The name customers and colleagues know.")],
    desk: Annotated[
        str, typer.Option(help="store, call_centre, or none (an account for the console only)")
    ] = "store",
    location: Annotated[str, typer.Option(help="The store or desk, e.g. store-01-london")] = (
        "store-01"
    ),
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    role: Annotated[
        str | None,
        typer.Option(help="A console role: admin, privacy_officer, marketer or read_only."),
    ] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Create a staff account for the desk, the console or both (the password is hashed with
    argon2id; at least 12 characters)."""
    from consentry.services import desk as desk_service

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    hub = open_hub(load_settings(data_dir=data_dir))
    try:
        member = desk_service.add_staff(
            hub,
            username,
            name,
            password,
            None if desk == "none" else desk,
            None if desk == "none" else location,
            role,
        )
    except DomainError as exc:
        raise fail(exc.detail) from None
    finally:
        hub.close()
    where = f"{member.desk} at {member.location}" if member.desk else "no desk"
    role_text = f", console role {member.console_role}" if member.console_role else ""
    out.print(f"added {member.username} ({member.display_name}, {where}{role_text})")


@questions_app.command("load")
def questions_load(
    file: Annotated[Path, typer.Argument(help="A YAML or JSON file of questions.")],
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Create or update the questions of FILE (all or nothing). Questions not in the file
    are left as they are; DELETE /v1/questions/{id} retires one."""
    from consentry.services.question_file import load_file

    hub = open_hub(load_settings(data_dir=data_dir))
    try:
        counts, problems = load_file(hub, file)
    finally:
        hub.close()
    if problems:
        for problem in problems:
            err.print(f"[bold red]error:[/] {file}: {problem}", soft_wrap=True)
        raise typer.Exit(code=2)
    out.print(
        f"{counts['created']} questions created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged"
    )


@catalogue_app.command("load")
def catalogue_load(
    file: Annotated[
        Path,
        typer.Argument(
            help="A YAML or JSON file with categories, sensitive_topics, products and offers."
        ),
    ],
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Load a catalogue file, all or nothing: if it has categories, the catalogue (categories,
    sensitive topics, products) is replaced; its offers are created or updated (offers not in
    the file are left as they are; DELETE /v1/offers/{id} retires one)."""
    from consentry.services.catalogue_file import load_file

    hub = open_hub(load_settings(data_dir=data_dir))
    try:
        counts, problems = load_file(hub, file)
    finally:
        hub.close()
    if problems:
        for problem in problems:
            err.print(f"[bold red]error:[/] {file}: {problem}", soft_wrap=True)
        raise typer.Exit(code=2)
    out.print(
        f"{counts['categories']} categories, {counts['products']} products; "
        f"{counts['offers_created']} offers created, {counts['offers_updated']} updated; "
        f"{counts['triggers']} triggers"
    )


@insights_app.command("backfill")
def insights_backfill(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Count the answers stored before the answer distribution existed (it decrypts each
    answer once; running it again counts nothing)."""
    from consentry.services import insight_counts

    hub = open_hub(load_settings(data_dir=data_dir))
    try:
        counted = insight_counts.backfill_answers(hub)
    finally:
        hub.close()
    out.print(f"{counted} answers counted into the answer distribution")


@offers_app.command("learn")
def offers_learn(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Learn complements ("customers who buy A often buy B") from the baskets of the customers
    who granted profiling; replaces the rules the decision engine uses."""
    from consentry.services import complements

    hub = open_hub(load_settings(data_dir=data_dir))
    try:
        report = complements.learn(hub)
    finally:
        hub.close()
    out.print(
        f"{report['rules']} complement rules from {report['baskets']} baskets of "
        f"{report['customers']} customers who allowed profiling "
        f"(each rule from at least {hub.settings.offers_min_customers} customers)"
    )


@retention_app.command("run")
def retention_run(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Apply the retention policies once (the server also does it every hour); safe to stop
    and run again."""
    from consentry.services import retention

    hub = open_hub(load_settings(data_dir=data_dir))
    report = retention.run(hub)
    hub.close()
    out.print(
        f"deleted {report.access_entries} access-log entries, {report.stored_answers} stored "
        f"answers, {report.orphan_keys} orphan keys, {report.events} events, "
        f"{report.expired_answers} expired answers, {report.decisions} decisions and "
        "notifications; erased "
        f"{report.customers_erased} inactive customers",
        soft_wrap=True,
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
