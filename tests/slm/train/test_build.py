"""`slm.train.build` and `slm.train.distill` end to end on the tiny model and real O*NET: loadable
directories whose manifests say how they were made and how they scored."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from slm.data.onet import ATTRIBUTION
from slm.manifest import read_manifest
from slm.prompt import JOB_FIRST
from slm.prune import prune_dir
from slm.scorer import Scorer
from slm.train.build import BuildOptions, build_default
from slm.train.config import DISTILL_WEIGHT
from slm.train.distill import build_pruned, teacher_dir
from tests.slm.test_data_onet import ONET_DIR

pytestmark = pytest.mark.usefixtures("single_thread")


def test_build_writes_a_scorable_model_with_its_manifest(tiny_model_dir: Path, home: Path, tmp_path: Path) -> None:
    out = tmp_path / "models" / "default"
    manifest = build_default(out, tmp_path, ONET_DIR, BuildOptions(32, steps=2, eval_queries=2, base=tiny_model_dir))
    assert manifest == read_manifest(out)
    assert not out.with_name("default.partial").exists() and not any((tmp_path / "runs").iterdir())
    assert manifest.prompt == JOB_FIRST and manifest.compressor.budget_tokens == 32
    training = manifest.training
    assert training.steps == 2 and training.lists == 2 * 24 and training.tokens > 0
    assert training.trained == "top 1 of 2 decoder layers and the final norm"  # SmolLM2's 16 of 30
    for split in ("test", "unseen"):
        row = manifest.evaluation[split]
        assert row.queries == 2 and 0.0 <= row.model["ndcg@10"] <= 1.0
        assert json.loads((out / f"eval-{split}.json").read_text())["queries"] == 2
    assert manifest.attribution == ATTRIBUTION and manifest.base_model == "tiny-random-llama"
    assert any(out.glob("*.safetensors")) and (out / "tokenizer.json").exists()
    scorer = Scorer.load(out, warmup=False)
    assert scorer.pieces.style == JOB_FIRST and len(scorer.score("registered nurse", ["ICU nurse", "cook"])) == 2


def test_a_pruned_base_is_trained_and_keeps_its_pruning_record(tiny_model_dir: Path, tmp_path: Path) -> None:
    pruned = tmp_path / "pruned"
    before = prune_dir(tiny_model_dir, pruned, 0.5, ONET_DIR, calibration_queries=2)
    out = tmp_path / "sft"
    manifest = build_default(out, tmp_path, ONET_DIR, BuildOptions(32, steps=1, eval_queries=1, base=pruned))
    assert manifest.base_model == before.name and manifest.name == before.name + "-sft"
    assert manifest.pruning == before.pruning and manifest.training.steps == 1
    assert Scorer.load(out, warmup=False).engine.body.config.intermediate_size == 64


def test_the_pruned_build_distills_a_student_and_keeps_its_teacher_beside_it(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "models" / "default"
    options = BuildOptions(32, steps=2, eval_queries=2, base=tiny_model_dir)
    manifest = build_pruned(out, tmp_path, ONET_DIR, 0.5, options, method="osscar-heads")
    teacher = read_manifest(teacher_dir(out))
    assert manifest == read_manifest(out) and teacher.pruning is None and teacher.training.steps == 2
    assert not (tmp_path / "models" / "default.partial").exists() and not any((tmp_path / "runs").iterdir())
    pruning, training, record = manifest.pruning, manifest.training, manifest.teacher
    assert pruning.method == "osscar-heads" and pruning.source == teacher.name
    assert pruning.attention_heads == (4, 2) and pruning.intermediate_size == (128, 64)
    assert training.steps == 2 and training.config["distill_weight"] == DISTILL_WEIGHT > 0
    assert training.config["skip_steps"] == teacher.training.steps  # the lists after the teacher's
    assert record.path == "default-teacher" and record.evaluation == teacher.evaluation
    assert pruning.non_embedding_parameters == (record.non_embedding_parameters, pruning.non_embedding_parameters[1])
    assert pruning.non_embedding_parameters[1] < record.non_embedding_parameters
    assert manifest.name == f"{teacher.name}-osscar-heads-50-distilled"
    for split in ("test", "unseen"):
        assert manifest.evaluation[split].queries == teacher.evaluation[split].queries == 2
    student = Scorer.load(out, warmup=False, prefix_cache_mb=16)
    assert student.engine.body.config.num_attention_heads == 2
    assert len(student.score("registered nurse", ["ICU nurse", "cook"])) == 2
    again = build_pruned(out, tmp_path, ONET_DIR, 0.5, options, method="osscar-heads")
    assert read_manifest(teacher_dir(out)) == teacher and again.teacher == record  # the teacher is reused


def test_the_seed_changes_the_training_order_and_a_teacher_of_another_seed_is_not_reused(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "models" / "default"
    options = BuildOptions(32, steps=1, eval_queries=1, base=tiny_model_dir)
    first = build_pruned(out, tmp_path, ONET_DIR, 0.5, options)
    reseeded = build_pruned(out, tmp_path, ONET_DIR, 0.5, replace(options, seed=1))
    assert (first.training.seed, reseeded.training.seed) == (0, 1)
    assert read_manifest(teacher_dir(out)).training.seed == 1  # rebuilt, not reused
    assert reseeded.training.final_loss != first.training.final_loss
