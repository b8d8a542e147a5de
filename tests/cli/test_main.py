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


def test_model_build_prunes_unless_told_not_to(tmp_path: Path, home: Path, tiny_model_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("RANKSTREAM_HOME", str(home))
    monkeypatch.setenv("RANKSTREAM_ONET_DIR", str(ONET_DIR))
    monkeypatch.setenv("RANKSTREAM_CONTEXT_BUDGET_TOKENS", "32")
    common = ["model", "build", "--base", str(tiny_model_dir), "--steps", "1", "--eval-queries", "1"]
    result = CliRunner().invoke(app, [*common, "--out", str(tmp_path / "default")])
    assert result.exit_code == 0, result.output
    student = json.loads((tmp_path / "default" / "rankstream.json").read_text())
    teacher = json.loads((tmp_path / "default-teacher" / "rankstream.json").read_text())
    assert student["pruning"]["keep"] == 0.375 and student["teacher"]["path"] == "default-teacher"
    assert teacher.get("pruning") is None and "teacher test: NDCG@10" in result.output
    result = CliRunner().invoke(app, [*common, "--no-prune", "--out", str(tmp_path / "unpruned")])
    assert result.exit_code == 0, result.output
    unpruned = json.loads((tmp_path / "unpruned" / "rankstream.json").read_text())
    assert unpruned.get("pruning") is None and unpruned.get("teacher") is None
    assert not (tmp_path / "unpruned-teacher").exists()
