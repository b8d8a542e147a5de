"""`bench.pruning` end to end on the tiny model: its quick form prunes by the methods asked for,
recovers by SFT and by distillation, measures each directory in a process of its own and writes the
table's JSON and plot after every row; `--resume` measures only the rows a run cut short left out, of
the methods asked for, and only on the CPU that measured the rest. Each method's pruning, saving and
reloading has its own tests (tests/slm/test_prune_*.py); here the two whose directories differ most
from the unpruned one stand for all: layer-drop (fewer layers) and osscar-heads (fewer heads and
neurons)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.pruning import QUICK_KEEP, RECOVERIES
from bench.pruning_row import sizes
from slm.load import load_model
from slm.prune import non_embedding_parameters, parameters
from tests.slm.test_data_onet import ONET_DIR

# 1 share x 2 methods x 3 recoveries + the unpruned model, and the unpruned model's speed beside each
# method: 9 child processes (~8 s each to import torch, index O*NET and compress its postings on a busy
# 2-core machine), 4 two-step recoveries; 3 queries per split keep the scoring itself short. ~1.5 min
# alone; the bound only stops a hang, and a machine shared with other jobs has taken 3x as long.
RUN_TIMEOUT_S = 1500
QUICK_METHODS = ("layer-drop", "osscar-heads")


def quick_run(model_dir: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    args = ["--quick", "--model", str(model_dir), "--onet-dir", str(ONET_DIR), "--out", str(out)]
    args += ["--recovery-steps", "2", "--split-queries", "3", "--threads", "1", *extra]
    command = [sys.executable, "-m", "bench.pruning", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)


@pytest.fixture(scope="module")
def quick_table(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pruning") / "pruning.json"
    done = quick_run(tiny_model_dir, out, *(arg for method in QUICK_METHODS for arg in ("--method", method)))
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_sizes_count_the_directorys_parameters(tiny_model_dir: Path) -> None:
    model = load_model(tiny_model_dir).model
    counted = sizes(tiny_model_dir)
    assert counted["parameters_m"] == round(parameters(model) / 1e6, 2)
    assert counted["non_embedding_parameters_m"] == round(non_embedding_parameters(model) / 1e6, 2)


def test_the_quick_form_measures_every_share_and_recovery_of_the_methods_asked(quick_table: Path) -> None:
    result = json.loads(quick_table.read_text())
    rows = result["rows"]
    grid = [(r["method"], r["keep"], r["recovery"]) for r in rows[1:]]
    assert grid == [(m, k, r) for k in QUICK_KEEP for m in QUICK_METHODS for r in RECOVERIES] and len(rows) == 7
    assert rows[0]["variant"] == "unpruned" and rows[0]["speedup_vs_unpruned"] == 1.0
    for row in rows:
        assert 0.0 <= row["ndcg@10_test"] <= 1.0 and 0.0 <= row["ndcg@10_unseen"] <= 1.0
        assert row["queries_test"] == row["queries_unseen"] == 3 and row["items_per_s"] > 0 and row["rss_mb"] > 0
        assert row["non_embedding_parameters_m"] < row["parameters_m"]
        assert row["speedup_vs_unpruned"] == round(row["items_per_s"] / row["unpruned_items_per_s"], 2)
    full = rows[0]["non_embedding_parameters_m"]
    assert all(r["non_embedding_parameters_m"] < full for r in rows[1:])
    assert quick_table.with_suffix(".png").stat().st_size > 0


def test_resume_measures_only_the_rows_missing_of_the_methods_asked(
    quick_table: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    whole = json.loads(quick_table.read_text())
    first, last = whole["rows"][1], whole["rows"][-1]  # the first method's first row, the last method's last
    assert (first["method"], last["method"]) == QUICK_METHODS
    cut = tmp_path / "pruning.json"
    kept = [whole["rows"][0], *whole["rows"][2:-1]]
    cut.write_text(json.dumps({**whole, "rows": kept}))  # two rows missing, as if cut short
    done = quick_run(tiny_model_dir, cut, "--resume", "--method", QUICK_METHODS[-1])
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(cut.read_text())["rows"]
    assert rows[:-1] == kept  # kept as they were, not measured again
    assert rows[-1]["variant"] == last["variant"]  # the method asked for: its missing row measured
    assert first["variant"] not in {r["variant"] for r in rows}  # another method's: left out
    other = quick_run(tiny_model_dir, cut, "--resume", "--split-queries", "4")
    assert other.returncode != 0 and "holds another run" in other.stderr
    cut.write_text(json.dumps({**whole, "machine": {**whole["machine"], "cpu": "another CPU"}, "rows": kept}))
    elsewhere = quick_run(tiny_model_dir, cut, "--resume")
    assert elsewhere.returncode != 0 and "measured on another CPU" in elsewhere.stderr
