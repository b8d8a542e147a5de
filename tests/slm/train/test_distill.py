"""Distillation: the loss on hand-computed values, the teacher's logits on the same packed lists, and a
short distilled run on the tiny model that moves the student toward its teacher."""

import copy
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from slm.data.lists import ListSampler
from slm.load import load_model
from slm.train import train
from slm.train.loop import Trainer
from slm.train.loss import distill_loss, list_loss, listwise_loss, pointwise_loss
from tests.slm.train.test_train import SMOKE, sampler  # noqa: F401  (the module's list fixture)

pytestmark = pytest.mark.usefixtures("single_thread")

# KL([1/4, 3/4] || [1/2, 1/2]) = 1/4 ln(1/2) + 3/4 ln(3/2), by hand.
KL_QUARTER_VS_HALF = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)


def test_distillation_loss_on_hand_computed_values() -> None:
    uniform = torch.zeros(2)
    # Teacher logits [0, ln 3] at T = 1: the teacher's list distribution is [1/4, 3/4].
    assert distill_loss(uniform, torch.tensor([0.0, math.log(3)]), 1.0).item() == pytest.approx(KL_QUARTER_VS_HALF)
    # At T = 2 the teacher's [0, 2 ln 3] gives the same distribution, and the KL is scaled by T^2 = 4.
    teacher = torch.tensor([0.0, 2 * math.log(3)])
    assert distill_loss(uniform, teacher, 2.0).item() == pytest.approx(4 * KL_QUARTER_VS_HALF)
    student = torch.tensor([1.0, -2.0, 0.5])
    assert distill_loss(student, student + 3.0, 2.0).item() == pytest.approx(0.0, abs=1e-6)  # shift-invariant
    assert distill_loss(student, -student, 2.0) > 0
    with pytest.raises(ValueError, match="temperature"):
        distill_loss(student, student, 0.0)


def test_list_loss_adds_the_weighted_distillation_term() -> None:
    logits, grades, teacher = torch.tensor([0.0, 0.0]), torch.tensor([2, 0]), torch.tensor([0.0, 2 * math.log(3)])
    hard = listwise_loss(logits, grades).item() + 0.1 * pointwise_loss(logits, grades).item()
    assert list_loss(logits, grades, 0.1).item() == pytest.approx(hard)
    assert list_loss(logits, grades, 0.1, teacher, 0.0, 2.0).item() == pytest.approx(hard)
    distilled = hard + 0.5 * 4 * KL_QUARTER_VS_HALF
    assert list_loss(logits, grades, 0.1, teacher, 0.5, 2.0).item() == pytest.approx(distilled)


def test_a_distilled_run_needs_a_teacher(tiny_model_dir: Path) -> None:
    loaded = load_model(tiny_model_dir, dtype="float32")
    with pytest.raises(ValueError, match="teacher"):
        Trainer(loaded.model, loaded.tokenizer, replace(SMOKE, distill_weight=1.0))


def _kl_to_teacher(trainer: Trainer, sampler: ListSampler) -> float:  # noqa: F811
    rankings = list(sampler.epoch(0))
    with torch.no_grad():
        student, _ = trainer.list_logits(rankings)
    teacher = trainer.teacher_logits(rankings)
    return float(np.mean([distill_loss(s, t, 1.0).item() for s, t in zip(student, teacher, strict=True)]))


def test_the_teacher_scores_the_same_lists_and_distillation_pulls_the_student_to_it(
    tiny_model_dir: Path,
    sampler: ListSampler,  # noqa: F811
) -> None:
    teacher = load_model(tiny_model_dir, dtype="float32")
    train(teacher.model, teacher.tokenizer, sampler, SMOKE, progress=False)  # a teacher that ranks
    student = load_model(tiny_model_dir, dtype="float32")
    config = replace(SMOKE, steps=40, distill_weight=5.0, distill_temperature=1.0)
    same = Trainer(copy.deepcopy(teacher.model), teacher.tokenizer, config, teacher=teacher.model)
    assert _kl_to_teacher(same, sampler) == pytest.approx(0.0, abs=1e-6)  # a copy of the teacher: nothing to learn
    before = _kl_to_teacher(Trainer(student.model, student.tokenizer, config, teacher=teacher.model), sampler)
    stats = train(student.model, student.tokenizer, sampler, config, progress=False, teacher=teacher.model)
    after = _kl_to_teacher(Trainer(student.model, student.tokenizer, config, teacher=teacher.model), sampler)
    assert stats.steps == config.steps and after < 0.5 * before, (before, after)
