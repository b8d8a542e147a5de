"""`bench.pruned_default` on a tiny pruned build: its teacher and student measured in processes of their
own, the teacher's speed again last, the goals and the build's own figures per build."""

import json
import subprocess
import sys
from pathlib import Path

from bench.pruned_default import goals
from slm.train.build import BuildOptions
from slm.train.distill import build_pruned
from tests.slm.test_data_onet import ONET_DIR

RUN_TIMEOUT_S = 300  # 3 children (~8 s each to start on a busy 2-core machine), 2 queries per split


def test_goals_are_the_issues_ratios() -> None:
    teacher = {"non_embedding_parameters_m": 100.0, "ndcg@10_test": 0.5, "ndcg@10_unseen": 0.4}
    student = {"non_embedding_parameters_m": 60.0, "ndcg@10_test": 0.49, "ndcg@10_unseen": 0.396, "items_per_s": 26}
    met = goals(teacher, student, teacher_speed=20.0)
    assert met == {
        "fewer_non_embedding": 0.4,
        "ndcg_share_test": 0.98,
        "ndcg_share_unseen": 0.99,
        "speedup": 1.3,
        "met": True,
    }
    assert not goals(teacher, {**student, "ndcg@10_unseen": 0.39}, teacher_speed=20.0)["met"]
    assert not goals(teacher, {**student, "items_per_s": 25}, teacher_speed=20.0)["met"]


def test_a_build_is_measured_against_its_teacher(tiny_model_dir: Path, tmp_path: Path) -> None:
    build = tmp_path / "models" / "pruned"
    build_pruned(build, tmp_path, ONET_DIR, 0.5, BuildOptions(32, steps=1, eval_queries=1, base=tiny_model_dir))
    out = tmp_path / "pruned_default.json"
    args = [str(build), "--onet-dir", str(ONET_DIR), "--split-queries", "2", "--threads", "1", "--out", str(out)]
    command = [sys.executable, "-m", "bench.pruned_default", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert [r["model"] for r in result["rows"]] == ["teacher", "student", "teacher (speed again)"]
    teacher, student, again = result["rows"]
    assert teacher["queries_test"] == student["queries_unseen"] == 2 and "ndcg@10_test" not in again
    assert student["non_embedding_parameters_m"] < teacher["non_embedding_parameters_m"]
    (figures,) = result["builds"]
    assert figures["seed"] == 0 and figures["build"] == "pruned" and 0 < figures["fewer_non_embedding"] < 1
    assert figures["speedup"] == round(
        student["items_per_s"] / ((teacher["items_per_s"] + again["items_per_s"]) / 2), 2
    )
    assert result["spread"]["speedup"] == [figures["speedup"]] * 2
    assert out.with_suffix(".png").stat().st_size > 0
