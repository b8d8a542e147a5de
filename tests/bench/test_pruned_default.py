"""`bench.pruned_default` on a tiny pruned build: its teacher and student measured in processes of their
own, the student's speedup in paired rounds with its teacher in one process (`bench.speedup`), the goals
and the build's own figures per build."""

import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench.pruned_default import goals
from slm.train.build import BuildOptions
from slm.train.distill import build_pruned
from tests.slm.test_data_onet import ONET_DIR

RUN_TIMEOUT_S = 300  # 3 children (~8 s each to start on a busy 2-core machine), 2 queries per split, 2 rounds


def test_goals_are_the_issues_ratios() -> None:
    teacher = {"non_embedding_parameters_m": 100.0, "ndcg@10_test": 0.5, "ndcg@10_unseen": 0.4}
    student = {"non_embedding_parameters_m": 60.0, "ndcg@10_test": 0.49, "ndcg@10_unseen": 0.396}
    met = goals(teacher, student, speedup=1.3)
    assert met == {
        "fewer_non_embedding": 0.4,
        "ndcg_share_test": 0.98,
        "ndcg_share_unseen": 0.99,
        "speedup": 1.3,
        "met": True,
    }
    assert not goals(teacher, {**student, "ndcg@10_unseen": 0.39}, speedup=1.3)["met"]
    assert not goals(teacher, student, speedup=1.29)["met"]


def test_a_build_is_measured_against_its_teacher(tiny_model_dir: Path, tmp_path: Path) -> None:
    build = tmp_path / "models" / "pruned"
    build_pruned(build, tmp_path, ONET_DIR, 0.5, BuildOptions(32, steps=1, eval_queries=1, base=tiny_model_dir))
    out = tmp_path / "pruned_default.json"
    args = [str(build), "--onet-dir", str(ONET_DIR), "--split-queries", "2", "--threads", "1", "--out", str(out)]
    args += ["--speed-rounds", "2"]
    command = [sys.executable, "-m", "bench.pruned_default", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert [r["model"] for r in result["rows"]] == ["teacher", "student"]
    teacher, student = result["rows"]
    assert teacher["queries_test"] == student["queries_unseen"] == 2
    assert student["non_embedding_parameters_m"] < teacher["non_embedding_parameters_m"]
    (figures,) = result["builds"]
    assert figures["seed"] == 0 and figures["build"] == "pruned" and 0 < figures["fewer_non_embedding"] < 1
    speed = figures["speed"]
    assert speed["rounds"] == len(speed["ratios"]) == 2 and speed["items_per_round"] == 5 * 50
    assert speed["speedup_min"] <= figures["speedup"] <= speed["speedup_max"]
    assert abs(figures["speedup"] - statistics.median(speed["ratios"])) <= 1e-3  # each rounded to 3 places
    assert result["spread"]["speedup"] == [figures["speedup"]] * 2
    assert out.with_suffix(".png").stat().st_size > 0
