"""`bench.pruning` end to end on the tiny model: its quick form prunes by every method, recovers by SFT
and by distillation, measures each directory in a process of its own and writes the table's JSON and plot."""

import json
import subprocess
import sys
from pathlib import Path

from bench.pruning import QUICK_KEEP, RECOVERIES
from bench.pruning_row import sizes
from slm.load import load_model
from slm.prune import METHODS, non_embedding_parameters, parameters
from tests.slm.test_data_onet import ONET_DIR

# 1 share x 4 methods x 3 recoveries + the unpruned model twice: 14 child processes (~8 s each to
# import torch, index O*NET and compress its postings on a busy 2-core machine), 8 two-step recoveries;
# 3 queries per split keep the scoring itself short. ~4.5 min alone; the bound only stops a hang, and
# a machine shared with other jobs has taken over 10 min.
RUN_TIMEOUT_S = 1500


def test_sizes_count_the_directorys_parameters(tiny_model_dir: Path) -> None:
    model = load_model(tiny_model_dir).model
    counted = sizes(tiny_model_dir)
    assert counted["parameters_m"] == round(parameters(model) / 1e6, 2)
    assert counted["non_embedding_parameters_m"] == round(non_embedding_parameters(model) / 1e6, 2)


def test_the_quick_form_measures_every_method_share_and_recovery(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "pruning.json"
    args = ["--quick", "--model", str(tiny_model_dir), "--onet-dir", str(ONET_DIR), "--out", str(out)]
    command = [
        sys.executable,
        "-m",
        "bench.pruning",
        *args,
        "--recovery-steps",
        "2",
        "--split-queries",
        "3",
        "--threads",
        "1",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    rows = result["rows"]
    grid = {(r["method"], r["keep"], r["recovery"]) for r in rows[1:-1]}
    assert grid == {(m, k, r) for m in METHODS for k in QUICK_KEEP for r in RECOVERIES} and len(rows) == 14
    assert rows[0]["variant"] == rows[-1]["variant"] == "unpruned"
    for row in rows:
        assert 0.0 <= row["ndcg@10_test"] <= 1.0 and 0.0 <= row["ndcg@10_unseen"] <= 1.0
        assert row["queries_test"] == row["queries_unseen"] == 3 and row["items_per_s"] > 0 and row["rss_mb"] > 0
        assert row["non_embedding_parameters_m"] < row["parameters_m"]
    full = rows[0]["non_embedding_parameters_m"]
    assert all(r["non_embedding_parameters_m"] < full for r in rows[1:-1])
    assert out.with_suffix(".png").stat().st_size > 0
