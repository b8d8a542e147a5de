"""The CLI's offline commands: schema export and the tiny model (what tests and CI rely on)."""

import json
from pathlib import Path

from typer.testing import CliRunner

from slm import Scorer
from worker.cli import app


def test_schemas_export_writes_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schemas", "export", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert len(result.output.split()) == 4
    assert json.loads((tmp_path / "search-query.schema.json").read_text())["title"] == "SearchQuery"


def test_model_tiny_builds_a_loadable_scorer(tmp_path: Path, home: Path, monkeypatch) -> None:
    monkeypatch.setenv("RANKSTREAM_HOME", str(home))
    result = CliRunner().invoke(app, ["model", "tiny", "--out", str(tmp_path / "tiny")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "tiny" / "rankstream.json").read_text())
    assert manifest["name"] == "tiny-random-llama"
    scores = Scorer.load(tmp_path / "tiny", dtype="float32").score("nurse", ["ICU nurse", "barista"])
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
