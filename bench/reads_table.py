"""The README's tables of bench_reads.py's latest results: one table per engine, one and two
server processes side by side (req/s, p99, share of the check in the same run).

    python bench/reads_table.py
"""

from __future__ import annotations

import json

from _common import RESULTS

LABELS = {
    "check": "`GET /v1/check` (the yardstick)",
    "lookup_email": "`POST /v1/customers/lookup` by e-mail",
    "lookup_email_with_consents": 'the same with `"include": ["consents"]`',
    "lookup_loyalty_card": "look-up by loyalty card",
    "lookup_phone": "look-up by phone",
    "lookup_name_postcode": "look-up by name + postcode",
    "customer": "`GET /v1/customers/{id}` (identifiers, name, postcode opened)",
    "consents": "`GET …/consents`",
    "consents_history": "`GET …/consents/history?limit=20`",
    "answers": "`GET …/answers` (three, opened)",
    "points": "`GET …/points`",
    "decisions": "`POST …/decisions` (in_app, 3 offers)",
    "changes_page": "`GET /v1/changes?limit=100`",
    "export": "`GET …/export`",
    "centre_page": "the preference centre's page `/p/`",
}


def cell(figure: dict[str, float] | None) -> str:
    if figure is None:
        return "—"
    return (
        f"{figure['requests_per_s']:,.0f} req/s, p99 {figure['p99_ms']:g} ms, "
        f"{figure['share_of_check']:.0%}"
    )


def bare(run: dict | None) -> str:  # type: ignore[type-arg]
    if run is None:
        return "—"
    before, after = run["bare_healthz_before"], run["bare_healthz_after"]
    return f"{before['requests_per_s']:,.0f} / {after['requests_per_s']:,.0f} req/s"


def main() -> None:
    for engine in ("sqlite", "postgres"):
        runs = {}
        for workers in (1, 2):
            path = RESULTS / f"reads_{engine}_{workers}p.json"
            runs[workers] = json.loads(path.read_text()) if path.exists() else None
        print(f"\n{engine}: | read | one process | two processes |")
        print("| --- | --- | --- |")
        print(f"| bare `/healthz` (start / end of the run) | {bare(runs[1])} | {bare(runs[2])} |")
        for name, label in LABELS.items():
            one = runs[1]["routes"].get(name) if runs[1] else None
            two = runs[2]["routes"].get(name) if runs[2] else None
            print(f"| {label} | {cell(one)} | {cell(two)} |")


if __name__ == "__main__":
    main()
