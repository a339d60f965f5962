"""``consentry witness``: keep a hub's evidence log honest from outside it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

from consentry.cli.rounds import run_rounds
from consentry.client.witness import (
    SplitView,
    WitnessError,
    create_key,
    load_key,
    verifier_key,
    witness_once,
)
from consentry.domain.notes import NoteError, check_name
from consentry.domain.notes import log_key as parse_log_key

witness_app = typer.Typer(
    help="Witness a hub's evidence log: cosign each checkpoint that extends the last.",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)

Name = Annotated[
    str,
    typer.Option(help="The witness's name, a schema-less URL such as auditor.example/w1."),
]


@witness_app.command("key")
def key(
    file: Annotated[Path, typer.Argument(help="Where to write the new key.")], name: Name
) -> None:
    """Create a witness key and print its verifier key, for the hub's CONSENTRY_WITNESSES."""
    try:
        check_name(name)
        created = create_key(file)
        out.print(verifier_key(name, created), soft_wrap=True)
    except FileExistsError:
        err.print(f"[bold red]error:[/] {file} exists: a witness key is never overwritten")
        raise typer.Exit(2) from None
    except NoteError as exc:
        err.print(f"[bold red]error:[/] --name: {exc}")
        raise typer.Exit(2) from None


@witness_app.command("run")
def run(
    url: Annotated[
        str, typer.Argument(help="The hub's base URL, e.g. https://consent.shop.example")
    ],
    state: Annotated[Path, typer.Option(help="Where the last cosigned checkpoint is kept.")],
    key_file: Annotated[Path, typer.Option("--key", help="The witness key (`witness key`).")],
    name: Name,
    log_key: Annotated[
        str, typer.Option(help="The log's verifier key (GET /v1/evidence/checkpoint-key).")
    ],
    api_key: Annotated[
        str, typer.Option(envvar="CONSENTRY_API_KEY", help="An API key of the hub (any scope).")
    ],
    every: Annotated[
        float, typer.Option(help="Seconds between rounds; 0: one round, then exit.")
    ] = 0,
) -> None:
    """Cosign the hub's checkpoint if it extends the last one cosigned. A checkpoint that does
    not is never cosigned: both are printed, as evidence, and the exit status is 1."""
    try:
        log = parse_log_key(log_key)
        witness = load_key(key_file)
    except (NoteError, WitnessError, OSError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:

        def one_round() -> None:
            try:
                done = witness_once(http, state, witness, name, log)
            except SplitView as split:
                err.print(f"[bold red]SPLIT VIEW:[/] {split.reason}. Not cosigned.")
                err.print("The checkpoint this witness cosigned before:\n" + split.seen)
                err.print("The checkpoint the hub shows now:\n" + split.shown)
                raise typer.Exit(1) from None
            before = "first" if done.previous is None else f"after {done.previous}"
            out.print(f"cosigned {log.name} at {done.size} records ({before})")

        run_rounds(every, one_round, (WitnessError,))
