"""``consentry receipt verify``: check a consent receipt years later, without the hub."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from consentry.audit.receipts import verify_bundle
from consentry.domain.notes import COSIGNATURE_V1, NoteError, NoteKey

receipt_app = typer.Typer(help="Consent receipts and their proofs.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _json(path: Path, what: str) -> dict[str, object]:
    if not path.is_file():
        err.print(f"[red]error:[/] no {what} file {path}")
        raise typer.Exit(code=2)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        err.print(f"[red]error:[/] {path} is not JSON: {exc}")
        raise typer.Exit(code=2) from None
    if not isinstance(document, dict):
        err.print(f"[red]error:[/] {path} is not a JSON object")
        raise typer.Exit(code=2)
    return document


@receipt_app.command("verify")
def verify(
    receipt: Annotated[
        Path, typer.Argument(help="The receipt bundle (JSON: receipt and tlog_proof).")
    ],
    key: Annotated[Path, typer.Option("--key", help="The hub's public keys (JWKS JSON).")],
    witness_key: Annotated[
        list[str] | None,
        typer.Option(
            "--witness-key",
            help="A witness's verifier key (name+id+key) whose cosignature is required; "
            "repeat for several.",
        ),
    ] = None,
) -> None:
    """Check a receipt offline: its signature, the logged record it names, that record's
    inclusion in a checkpoint the hub signed and the given witnesses cosigned."""
    bundle, jwks = _json(receipt, "receipt"), _json(key, "JWKS")
    witnesses = []
    for vkey in witness_key or []:
        try:
            parsed = NoteKey.parse(vkey)
        except NoteError as exc:
            err.print(f"[red]error:[/] --witness-key {vkey!r}: {exc}")
            raise typer.Exit(code=2) from None
        if parsed.kind != COSIGNATURE_V1:
            err.print(f"[red]error:[/] --witness-key {vkey!r} is not a cosignature key (0x04)")
            raise typer.Exit(code=2)
        witnesses.append(parsed)
    verdict = verify_bundle(bundle, jwks, witnesses)
    if not verdict.ok:
        err.print("[bold red]NOT VALID[/]")
        for problem in verdict.problems:
            err.print(f"[red]-[/] {problem}")
        raise typer.Exit(code=1)
    claims = verdict.claims
    cosigned = ", ".join(verdict.witnesses) or "no witness asked for"
    out.print(
        f"[green]OK[/] receipt {claims.get('record_id')}: {claims.get('action')} "
        f"{claims.get('purpose')} ({claims.get('channel') or 'every channel'}) captured "
        f"{claims.get('captured_at')}; record {verdict.index} of a log of {verdict.size} "
        f"records signed by the hub; cosigned by {cosigned}"
    )
