"""A witness outside the hub: cosigns each checkpoint that extends the last, never another."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from consentry.cli.main import app
from consentry.client.witness import STATE_FILE, SplitView, WitnessError, witness_once
from consentry.domain.notes import COSIGNATURE_V1, Checkpoint, Note, NoteKey, parse_note, verify
from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store.tables import cosignatures
from tests.helpers import change, make_customer, make_purpose, witnessed_settings

NAME = "auditor.example/w1"
WITNESS = Ed25519PrivateKey.generate()
WITNESS_KEY = NoteKey.of(NAME, COSIGNATURE_V1, WITNESS)
SECOND = NoteKey.of("partner.example/w2", COSIGNATURE_V1, Ed25519PrivateKey.generate())


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # The second witness never cosigns here: the console must say so.
    return witnessed_settings(tmp_path, database_url, WITNESS_KEY.vkey(), SECOND.vkey())


def _log_key(client: TestClient) -> NoteKey:
    return NoteKey.parse(client.get("/v1/evidence/checkpoint-key").text)


def test_the_witness_cosigns_each_checkpoint_that_extends_the_last(
    client: TestClient, tmp_path: Path
) -> None:
    state = tmp_path / "witness"
    make_purpose(client)
    cid = make_customer(client)
    change(client, cid)
    first = witness_once(client, state, WITNESS, NAME, _log_key(client))
    assert (first.size, first.previous) == (1, None)
    for action in ("withdraw", "grant"):
        change(client, cid, action=action)
    later = witness_once(client, state, WITNESS, NAME, _log_key(client))
    assert (later.size, later.previous) == (3, 1)
    again = witness_once(client, state, WITNESS, NAME, _log_key(client))  # nothing new
    assert (again.size, again.previous) == (3, 3)
    served = parse_note(client.get("/v1/evidence/checkpoint").text)
    assert verify(served, [WITNESS_KEY])[0][0] == WITNESS_KEY
    assert parse_note((state / STATE_FILE).read_text()).text == served.text


@pytest.mark.parametrize("seen_size", [2, 7])
def test_a_checkpoint_that_does_not_extend_the_last_is_never_cosigned(
    client: TestClient, hub: Hub, tmp_path: Path, seen_size: int
) -> None:
    make_purpose(client)
    cid = make_customer(client)
    for action in ("grant", "withdraw", "grant"):
        change(client, cid, action=action)
    # What the witness cosigned before: a checkpoint signed with the log's own key (an operator
    # holding it can sign anything), of another history of 2 records, or of 7 (since cut).
    origin = hub.settings.resolved_log_origin
    text = Checkpoint(origin, seen_size, bytes([7]) * 32).text()
    seen = Note(text, (hub.signer.sign_note(text, origin),)).render()
    state = tmp_path / "witness"
    state.mkdir()
    (state / STATE_FILE).write_text(seen)
    with pytest.raises(SplitView) as split:
        witness_once(client, state, WITNESS, NAME, _log_key(client))
    assert split.value.seen == seen and "\n3\n" in split.value.shown
    assert (state / STATE_FILE).read_text() == seen  # the state never goes backwards
    assert len(parse_note(client.get("/v1/evidence/checkpoint").text).signatures) == 1


def test_the_witness_commands_say_what_is_wrong(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["witness", "key", str(tmp_path / "w.pem"), "--name", NAME])
    assert made.exit_code == 0, made.output
    key = NoteKey.parse(made.output.strip())
    assert (key.name, key.kind) == (NAME, COSIGNATURE_V1)
    again = runner.invoke(app, ["witness", "key", str(tmp_path / "w.pem"), "--name", NAME])
    assert again.exit_code == 2 and "never overwritten" in again.output
    bad_name = runner.invoke(app, ["witness", "key", str(tmp_path / "x.pem"), "--name", "a b"])
    assert bad_name.exit_code == 2 and not (tmp_path / "x.pem").exists()
    args = ["witness", "run", "http://127.0.0.1:9", "--state", str(tmp_path / "s")]
    args += ["--key", str(tmp_path / "w.pem"), "--name", NAME, "--api-key", "k"]
    wrong_log_key = runner.invoke(app, [*args, "--log-key", made.output.strip()])
    assert wrong_log_key.exit_code == 2 and "0x01" in wrong_log_key.output
    log_key = NoteKey.of("hub.example/evidence", 1, Ed25519PrivateKey.generate()).vkey()
    down = runner.invoke(app, [*args, "--log-key", log_key])
    assert down.exit_code == 2 and "did not answer" in down.output


def test_a_damaged_state_is_named_not_overwritten(client: TestClient, tmp_path: Path) -> None:
    make_purpose(client)
    change(client, make_customer(client))
    state = tmp_path / "witness"
    state.mkdir()
    (state / STATE_FILE).write_text("half a checkpoint\n")
    with pytest.raises(WitnessError, match="not a checkpoint this witness kept"):
        witness_once(client, state, WITNESS, NAME, _log_key(client))
    assert (state / STATE_FILE).read_text() == "half a checkpoint\n"


def test_the_console_shows_each_witness_and_warns_when_one_falls_behind(
    client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    from tests.integration.test_console import _member, _sign_in

    _member(hub, "olga", "read_only")
    browser, _ = _sign_in(client, "olga")
    make_purpose(client)
    cid = make_customer(client)
    for action in ("grant", "withdraw"):
        change(client, cid, action=action)
    witness_once(client, tmp_path / "w1", WITNESS, NAME, _log_key(client))

    overview = browser.get("/console/").text
    alert = overview.split('id="witnesses-behind"')[1].split("</div>")[0]
    assert "1 of 2 witnesses is falling behind" in alert
    assert "partner.example/w2: has never cosigned" in alert and NAME not in alert
    page = browser.get("/console/evidence").text
    row = page.split(f"<code>{NAME}</code>")[1].split("</tr>")[0]
    assert "2 records" in row and "keeping up" in row and "seconds ago" in row

    # The first witness goes quiet for 20 minutes while the log grows past it.
    change(client, cid, action="grant")
    client.get("/v1/evidence/checkpoint")
    with hub.db.write() as conn:
        conn.execute(update(cosignatures).values(received_at=hub.now_micros() - 20 * 60 * 10**6))
    alert = browser.get("/console/").text.split('id="witnesses-behind"')[1]
    assert "2 of 2 witnesses are falling behind" in alert
    assert f"{NAME}: last cosigned 2 records, 20 minutes ago; 1 record since" in alert
    row = browser.get("/console/evidence").text.split(f"<code>{NAME}</code>")[1]
    assert "falling behind" in row.split("</tr>")[0]
