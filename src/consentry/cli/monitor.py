"""``consentry evidence monitor``: keep a copy of a hub's evidence log and name any rewrite."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

from consentry.cli.rounds import run_rounds
from consentry.client.monitor import MonitorError, Rewritten, monitor_once
from consentry.domain.notes import NoteError
from consentry.domain.notes import log_key as parse_log_key

out = Console()
err = Console(stderr=True)


def monitor(
    url: Annotated[
        str, typer.Argument(help="The hub's base URL, e.g. https://consent.shop.example")
    ],
    state: Annotated[Path, typer.Option(help="Where the copy of the log is kept.")],
    log_key: Annotated[
        str, typer.Option(help="The log's verifier key (GET /v1/evidence/checkpoint-key).")
    ],
    api_key: Annotated[
        str,
        typer.Option(envvar="CONSENTRY_API_KEY", help="An API key of the hub with evidence:read."),
    ],
    every: Annotated[
        float, typer.Option(help="Seconds between rounds; 0: one round, then exit.")
    ] = 0,
) -> None:
    """Copy the records new since the last round and check that they, with the copy, make
    exactly the hub's signed checkpoint. If the hub's history changed, name the changed records
    and print both checkpoints; the exit status is then 1."""
    try:
        log = parse_log_key(log_key)
    except NoteError as exc:
        err.print(f"[bold red]error:[/] --log-key: {exc}")
        raise typer.Exit(2) from None
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http:

        def one_round() -> None:
            try:
                done = monitor_once(http, state, log)
            except Rewritten as rewrite:
                err.print(f"[bold red]REWRITTEN:[/] {rewrite.reason}.")
                for change in rewrite.changes:
                    err.print(f"  changed: {change}", soft_wrap=True)
                err.print("The checkpoint verified before:\n" + rewrite.seen, soft_wrap=True)
                err.print("The checkpoint the hub shows now:\n" + rewrite.shown, soft_wrap=True)
                raise typer.Exit(1) from None
            out.print(f"{log.name}: {done.size} records verified ({done.new} new)")

        run_rounds(every, one_round, (MonitorError, OSError, ValueError))
