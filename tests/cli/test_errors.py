"""What a user sees when the configuration or the host is wrong: a line or two naming the fix.

The commands run as the user runs them (the installed console scripts, in a subprocess); `--help`
must not wait for torch, so importing the CLI must not import it.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import RANKSTREAM
from worker.startup import CONFIG_EXIT_CODE

WORKER = str(Path(sys.executable).parent / "rankstream-worker")
# What a startup error may take on the terminal; the tracebacks took 42 to 71 lines.
MAX_LINES = 5


def run(command: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def test_a_bad_setting_is_one_line_naming_the_variable() -> None:
    for command in ([RANKSTREAM, "worker"], [WORKER]):
        done = run(command, RANKSTREAM_TOKEN_BUDGET="abc")
        assert done.returncode == CONFIG_EXIT_CODE
        lines = done.stderr.splitlines()
        assert 1 <= len(lines) <= MAX_LINES, done.stderr
        assert lines[0].startswith("error: RANKSTREAM_TOKEN_BUDGET: Input should be a valid integer")
        assert lines[0].endswith("(got 'abc')") and "Traceback" not in done.stderr


def test_a_missing_model_directory_says_how_to_build_one(tmp_path: Path) -> None:
    done = run([RANKSTREAM, "worker"], RANKSTREAM_MODEL_PATH=str(tmp_path / "absent"), RANKSTREAM_HTTP_PORT="0")
    assert done.returncode == CONFIG_EXIT_CODE
    assert len(done.stderr.splitlines()) <= MAX_LINES, done.stderr
    assert "RANKSTREAM_MODEL_PATH: no model at" in done.stderr and "rankstream model build" in done.stderr


def test_a_second_worker_on_a_taken_port_is_told_which_variable_to_set(tiny_model_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = run([WORKER], RANKSTREAM_MODEL_PATH=str(tiny_model_dir), RANKSTREAM_HTTP_PORT=port)
    assert done.returncode == CONFIG_EXIT_CODE
    assert len(done.stderr.splitlines()) <= MAX_LINES, done.stderr
    assert f"RANKSTREAM_HTTP_PORT: port {port} on 0.0.0.0 is already in use" in done.stderr
    assert "set RANKSTREAM_HTTP_PORT to a free port" in done.stderr


def test_help_does_not_load_torch() -> None:
    probe = "import sys, cli.main; print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    done = run([sys.executable, "-c", probe])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert "Usage: rankstream" in run([RANKSTREAM, "--help"]).stdout
