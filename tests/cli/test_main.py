"""The CLI's offline commands: schema export, the tiny model (what tests and CI rely on), pruning (with
plain progress lines, since its output is not a terminal)."""

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from slm import Scorer
from tests.slm.test_data_onet import ONET_DIR


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


def test_model_prune_writes_a_pruned_directory(tmp_path: Path, tiny_model_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("RANKSTREAM_ONET_DIR", str(ONET_DIR))
    out = tmp_path / "pruned"
    args = ["model", "prune", "--model", str(tiny_model_dir), "--out", str(out), "--keep", "0.25"]
    result = CliRunner().invoke(app, [*args, "--method", "magnitude", "--calibration-queries", "2"])
    assert result.exit_code == 0, result.output
    assert "MLP width 128 -> 32" in result.output and f"wrote {out}" in result.output
    assert "pruning MLPs (magnitude): 2/2 (100%)" in result.output, "off a terminal, progress is plain lines"
    assert json.loads((out / "rankstream.json").read_text())["pruning"]["method"] == "magnitude"
