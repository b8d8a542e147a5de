"""`rankstream model build`: the default model, pruned and distilled from the unpruned one it was cut from.

Contract: `build_pruned(out, home, onet_dir, keep, ...) -> Manifest` builds the student into `out`
and its teacher beside it, into `<out>-teacher` (`teacher_dir`), and returns the student's manifest:
its `pruning` record, its `training` record (the distilled recovery), its `evaluation`, and a
`teacher` record (name, directory, parameters, the teacher's evaluation on the same queries). Each
directory appears whole or not at all; a crash reruns from the last finished step (the teacher, the
pruned weights, or the recovery's checkpoint). `rankstream model build --no-prune` builds the teacher
alone (`slm.train.build.build_default`).

Measured on the default model (docs/results.md), on the whole test / unseen splits: at keep 0.375 the
student keeps 99.9% / 101.4% (seed 0) and 105.3% / 104.6% (seed 1) of its teacher's NDCG@10 with 44%
fewer non-embedding parameters, at 1.31-1.38x its items/s on an Intel Xeon with AMX (paired rounds in
one process, `bench.speedup`); at keep 0.5, 99.4% / 102.9% and 108.0% / 107.2% with 35% fewer, at 1.36x
on an AMD EPYC but mostly under 1.3x on the Xeon.
Ignores: pruning without recovery (`rankstream model prune`).
"""

import shutil
import time
from pathlib import Path

from slm.load import load_model, model_name
from slm.manifest import MANIFEST, Manifest, TeacherRecord, TrainingRecord, read_manifest
from slm.prompt import CHAT
from slm.prune import Method, non_embedding_parameters, parameters, prune_dir
from slm.train.build import (
    DEFAULT_OPTIONS,
    DEFAULT_STEPS,
    BuildOptions,
    build_default,
    run_dir,
    train_into,
    trained_manifest,
)
from slm.train.config import DISTILL_WEIGHT, TrainConfig, train_layers_for

# OSSCAR over the MLP neurons only. On the default model at keep 0.5, distilled (100 queries per split,
# docs/results.md): MLP neurons 0.540 / 0.540 NDCG@10 (test / unseen; teacher 0.553 / 0.542) for 35%
# fewer non-embedding parameters; MLP neurons and attention heads 0.510 / 0.503 for 47% fewer: halving
# the heads of Gemma 3's bottom layers changes their outputs by 1-4%, about twice what halving their MLPs
# does, for a third of the parameters, and those layers stay frozen in recovery (`TrainConfig.train_layers`).
DEFAULT_METHOD: Method = "osscar"
# The recovery's steps: as many as the teacher had before its recipe was cut to 80 (`DEFAULT_STEPS`).
# 64 steps lost ~1 point of the teacher's NDCG@10 on the whole test split (docs/results.md): the recovery
# is where the pruned build's minutes buy quality.
DEFAULT_RECOVERY_STEPS = 95
# Three eighths of every MLP's neurons (2,048 -> 768 on Gemma 3 270M): 44% fewer non-embedding parameters
# at 99.9% / 101.4% (seed 0) and 105.3% / 104.6% (seed 1) of the teacher's NDCG@10 on the whole splits,
# 1.31-1.38x its items/s on an Intel Xeon, where keep 0.5 (35% fewer) ran 1.2-1.36x, mostly under the
# 1.3x asked (docs/results.md). `rankstream model build` repeats this number (the CLI imports no torch).
DEFAULT_KEEP = 0.375


def teacher_dir(out: Path) -> Path:
    return out.with_name(out.name + "-teacher")


def build_pruned(
    out: Path,
    home: Path,
    onet_dir: Path,
    keep: float = DEFAULT_KEEP,
    options: BuildOptions = DEFAULT_OPTIONS,
    method: Method = DEFAULT_METHOD,
) -> Manifest:
    """The student into `out`, the teacher into `teacher_dir(out)`; the student's manifest.

    1. The teacher: `build_default` into `teacher_dir(out)` (trained, saved, evaluated), unless a
       finished teacher of the same base, steps and seed is already there (a rerun after a crash).
    2. Prune it (`slm.prune.prune_dir`: calibrated on O*NET train queries, `method` at `keep`) into
       `<home>/runs/<out>-pruned-...` (kept until the student is saved; pruned again, and the
       recovery's checkpoints dropped, whenever the teacher was built anew).
    3. Recover: train the pruned model on the teacher's recipe (the same layers share,
       `DEFAULT_RECOVERY_STEPS` steps unless `options.steps` says, on the lists that follow the
       teacher's: `TrainConfig.skip_steps`) with the distillation term (`DISTILL_WEIGHT` x KL to the
       teacher's scores on the same blocks, `slm.train.loss`) beside the hard labels; save and
       evaluate it (`train_into`).
    4. Record the teacher in the student's manifest; delete the pruned intermediate.
    """
    began = time.perf_counter()
    teacher_path = teacher_dir(out)
    reused = _finished(teacher_path, options)
    teacher = reused or build_default(teacher_path, home, onet_dir, options)
    budget = teacher.compressor.budget_tokens
    pruned = home / "runs" / f"{out.name}-pruned-{method}-{round(keep * 100)}"
    fresh = reused is None or not (pruned / MANIFEST).exists()
    if fresh:
        prune_dir(teacher_path, pruned, keep, onet_dir, method, threads=options.threads)
    student = load_model(pruned, dtype="auto", threads=options.threads)
    config = recovery_config(student.model.config.num_hidden_layers, teacher, options.steps, options.seed)
    if fresh:  # another pruned model: a previous recovery's checkpoints do not apply
        shutil.rmtree(run_dir(home, config, budget, pruned), ignore_errors=True)
    teacher_model = load_model(teacher_path, dtype="auto", threads=options.threads).model

    def describe(training: TrainingRecord) -> Manifest:
        manifest = trained_manifest(student, config, budget, training, None)
        record = TeacherRecord(
            name=teacher.name,
            path=teacher_path.name,
            parameters=parameters(teacher_model),
            non_embedding_parameters=non_embedding_parameters(teacher_model),
            evaluation=teacher.evaluation,
        )
        return manifest.model_copy(update={"name": f"{student.name}-distilled", "teacher": record})

    args = (out, home, onet_dir, student, pruned, budget, config, options.eval_queries, describe, began)
    manifest = train_into(*args, teacher=teacher_model)
    shutil.rmtree(pruned)
    return manifest


def recovery_config(
    depth: int, teacher: Manifest, steps: int | None = None, seed: int = 0, distill_weight: float = DISTILL_WEIGHT
) -> TrainConfig:
    """The recovery recipe of a model pruned from `teacher`, `depth` decoder layers deep: the
    teacher's layers share and prompt, `DEFAULT_RECOVERY_STEPS` steps unless `steps` says, on the
    lists after the teacher's, `distill_weight` x KL to the teacher's scores (0: the hard labels alone)."""
    return TrainConfig(
        steps=steps or DEFAULT_RECOVERY_STEPS,
        seed=seed,
        train_layers=train_layers_for(depth),
        distill_weight=distill_weight,
        prompt=teacher.prompt or CHAT,
        skip_steps=teacher.training.steps if teacher.training else 0,
    )


def _finished(path: Path, options: BuildOptions) -> Manifest | None:
    """The manifest of a teacher built at `path` by `options`' base, steps and seed (a build renames
    its directory there only when done), else None."""
    if not (path / MANIFEST).exists():
        return None
    manifest = read_manifest(path)
    training = manifest.training
    base_name = options.base_model.name if options.base is None else model_name(options.base)
    done = (
        training is not None
        and (training.steps, training.seed) == (options.steps or DEFAULT_STEPS, options.seed)
        and manifest.evaluation is not None
    )
    return manifest if done and manifest.base_name == base_name else None
