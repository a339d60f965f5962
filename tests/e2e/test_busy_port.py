"""A busy port is named at once, with the option that fixes it — before the demo spends
minutes building data for a server that could not start."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("command", ["demo", "serve"])
def test_a_busy_port_is_a_clear_error(tmp_path: Path, command: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = [sys.executable, "-m", "consentry.cli", command, "--port", str(port)]
        args += ["--data-dir", str(tmp_path / "demo")]
        env = {
            "PATH": "/usr/bin:/bin",
            "CONSENTRY_ADMIN_KEY": "k" * 40,
            "CONSENTRY_DATABASE_URL": "",
        }
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    said = " ".join((done.stdout + done.stderr).split())
    assert f"127.0.0.1:{port}" in said and "--port" in said
    assert "Traceback" not in said
    if command == "demo":
        assert not (tmp_path / "demo").exists()  # nothing built for nothing
