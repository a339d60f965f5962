"""The round loop the witness and the monitor share: one round, or one every ``every`` seconds;
a passing error (the hub down, a bad answer) is printed and, when looping, tried again."""

from __future__ import annotations

import time
from collections.abc import Callable

import typer
from rich.console import Console

err = Console(stderr=True)


def run_rounds(
    every: float, one_round: Callable[[], None], passing: tuple[type[Exception], ...]
) -> None:
    while True:
        try:
            one_round()
        except passing as exc:
            err.print(f"[bold red]error:[/] {exc}")
            if not every:
                raise typer.Exit(2) from None
        if not every:
            return
        time.sleep(every)
