"""SFT: the losses on hand-made lists, the schedule, what is trained, the differentiable path equals
the serving path, a short run on the tiny model lowers the loss, and resuming reproduces the run."""

import itertools
import math
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from schemas import JobPosting
from slm.data.blocks import BlockSampler
from slm.data.contexts import compressed_contexts
from slm.data.lists import ListSampler
from slm.data.onet import Onet, Query
from slm.load import load_model
from slm.manifest import read_manifest, write_manifest
from slm.prompt import COMPACT, JOB_FIRST, PromptStyle
from slm.scorer import EncodedQuery, Scorer
from slm.tokens import TextEncoder
from slm.train import TrainConfig, train
from slm.train.config import train_layers_for
from slm.train.loop import Trainer, learning_rate, lists_from, step_lists
from slm.train.loss import list_loss, listwise_loss, pointwise_loss
from slm.train.trainable import make_trainable

pytestmark = pytest.mark.usefixtures("single_thread")

FIELDS = {
    "29-1141": ("Registered Nurse", "Care for patients in hospitals, give medication, monitor vital signs."),
    "15-1252": ("Software Developer", "Write Python code, design software systems, review pull requests."),
    "35-2014": ("Restaurant Cook", "Prepare meals, grill meat, season dishes in a busy kitchen."),
    "53-3032": ("Truck Driver", "Drive heavy trucks, deliver freight, inspect the vehicle."),
}
# Two occupations per field (siblings), one query per occupation.
POSTINGS = tuple(
    JobPosting(job_id=f"{code}.0{i}", title=f"{title} {i}", description=text)
    for code, (title, text) in FIELDS.items()
    for i in (0, 1)
)
QUERIES = tuple(
    Query(f"q-{p.job_id}", f"{p.title.split()[0].lower()} {p.title.split()[1].lower()} job", (p.job_id,))
    for p in POSTINGS
)
ONET = Onet(POSTINGS, QUERIES)
# Smoke run: the tiny random model reads scores through a tiny label direction, so it needs a high
# rate and a few hundred lists to fit these eight queries (~2 s on one thread).
SMOKE = TrainConfig(steps=150, list_size=6, lists_per_step=2, train_layers=2, learning_rate=1e-2, warmup_steps=5)


@pytest.fixture(scope="module")
def sampler(tiny_model_dir: Path) -> ListSampler:
    encode = TextEncoder.load(tiny_model_dir).encode
    return ListSampler(ONET, QUERIES, {}, compressed_contexts(POSTINGS, encode, 32), size=6, seed=0)


def test_listwise_loss_on_hand_made_lists() -> None:
    flat = torch.zeros(3)
    assert listwise_loss(torch.zeros(2), torch.tensor([2, 0])).item() == pytest.approx(math.log(2))
    # Targets 3/4, 1/4, 0 (gains 2^g - 1) against a uniform model: -(3/4 + 1/4) log(1/3).
    assert listwise_loss(flat, torch.tensor([2, 1, 0])).item() == pytest.approx(math.log(3))
    good, bad = torch.tensor([5.0, 1.0, -3.0]), torch.tensor([-3.0, 1.0, 5.0])
    grades = torch.tensor([2, 1, 0])
    assert listwise_loss(good, grades) < listwise_loss(flat, grades) < listwise_loss(bad, grades)
    assert listwise_loss(good + 7.0, grades).item() == pytest.approx(listwise_loss(good, grades).item(), rel=1e-6)
    assert listwise_loss(good, torch.tensor([0, 0, 0])).item() == 0.0


def test_pointwise_loss_targets_grade_over_two() -> None:
    assert pointwise_loss(torch.zeros(3), torch.tensor([2, 1, 0])).item() == pytest.approx(math.log(2))
    sure = torch.tensor([20.0, -20.0])
    assert pointwise_loss(sure, torch.tensor([2, 0])).item() < 1e-6
    assert list_loss(sure, torch.tensor([2, 0]), 0.5).item() == pytest.approx(
        listwise_loss(sure, torch.tensor([2, 0])).item() + 0.5 * pointwise_loss(sure, torch.tensor([2, 0])).item()
    )


def test_learning_rate_warms_up_then_decays_to_the_floor() -> None:
    config = TrainConfig(steps=100, learning_rate=1.0, warmup_steps=10, min_lr_fraction=0.1)
    rates = [learning_rate(s, config) for s in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(rates[9:], rates[10:], strict=False))
    assert rates[-1] == pytest.approx(0.1, abs=1e-3)


@pytest.mark.parametrize(("depth", "trained"), [(30, 16), (18, 10), (28, 15), (2, 1), (1, 1)])
def test_other_bases_train_the_same_share_of_their_layers(depth: int, trained: int) -> None:
    assert train_layers_for(depth) == trained


def test_a_run_that_skips_steps_starts_with_the_lists_after_them(sampler: ListSampler) -> None:
    config = TrainConfig(steps=3, lists_per_step=2, skip_steps=4)
    epoch = list(sampler.epoch(0)) + list(sampler.epoch(1))  # 8 queries an epoch: 4 steps' worth
    assert [r.query for r in itertools.islice(step_lists(sampler, config, 0), 4)] == [r.query for r in epoch[8:12]]
    resumed = itertools.islice(step_lists(sampler, config, 1), 2)  # a resume at step 1 skips one more
    assert [r.query for r in resumed] == [r.query for r in itertools.islice(lists_from(sampler, 10), 2)]


def test_only_the_top_layers_and_the_final_norm_train_in_fp32(tiny_model_dir: Path) -> None:
    model = load_model(tiny_model_dir, dtype="bfloat16").model
    params = make_trainable(model, 1)
    assert params and all(p.dtype == torch.float32 for p in params.values())
    assert all(name.startswith(("model.layers.1.", "model.norm.")) for name in params)
    frozen = [p for name, p in model.named_parameters() if name not in params]
    assert all(not p.requires_grad and p.dtype == torch.bfloat16 for p in frozen)
    with pytest.raises(ValueError, match="train_layers"):
        make_trainable(model, 3)


@pytest.mark.parametrize("prompt", [COMPACT, JOB_FIRST])
def test_the_trained_logits_are_the_served_scores(
    tiny_model_dir: Path, sampler: ListSampler, tmp_path: Path, prompt: PromptStyle
) -> None:
    loaded = load_model(tiny_model_dir, dtype="float32")
    trainer = Trainer(loaded.model, loaded.tokenizer, replace(SMOKE, prompt=prompt))
    blocks = BlockSampler(sampler, queries=3, postings=5)  # job-first: a posting's queries share a row
    rankings = list(itertools.islice((blocks if prompt == JOB_FIRST else sampler).epoch(0), 3))
    logits, _ = trainer.list_logits(rankings)  # packed into one pass, as a step does
    assert all(x.requires_grad for x in logits)
    served_dir = shutil.copytree(tiny_model_dir, tmp_path / "served")
    write_manifest(served_dir, read_manifest(served_dir).model_copy(update={"prompt": prompt}))
    served = Scorer.load(served_dir, dtype="float32", warmup=False)  # block attention, as served
    for x, ranking in zip(logits, rankings, strict=True):  # one list at a time: packing leaks nothing
        (scores,) = served.score_encoded([EncodedQuery(ranking.query.text, ranking.contexts)])
        np.testing.assert_allclose(torch.sigmoid(x).detach().numpy(), scores, atol=1e-5)


def _lists_loss(trainer: Trainer, sampler: ListSampler) -> float:
    with torch.no_grad():
        rankings = list(sampler.epoch(0))
        logits, _ = trainer.list_logits(rankings)
        losses = [list_loss(x, torch.tensor(r.grades), 0.1).item() for x, r in zip(logits, rankings, strict=True)]
    return float(np.mean(losses))


def test_a_short_run_on_the_tiny_model_lowers_the_loss(tiny_model_dir: Path, sampler: ListSampler) -> None:
    loaded = load_model(tiny_model_dir, dtype="float32")
    before = _lists_loss(Trainer(loaded.model, loaded.tokenizer, SMOKE), sampler)
    stats = train(loaded.model, loaded.tokenizer, sampler, SMOKE, progress=False)
    after = _lists_loss(Trainer(loaded.model, loaded.tokenizer, SMOKE), sampler)
    assert stats.steps == SMOKE.steps and stats.lists == SMOKE.steps * SMOKE.lists_per_step and stats.tokens > 0
    assert after < 0.8 * before, (before, after)
    assert np.mean(stats.losses[-5:]) < np.mean(stats.losses[:5])


class Crash(Exception):
    pass


def _crash_at(step: int) -> Callable[[int, object], None]:
    def hook(done: int, _stats: object) -> None:
        if done == step:
            raise Crash

    return hook


def test_a_resumed_run_reproduces_the_uninterrupted_one(
    tiny_model_dir: Path, sampler: ListSampler, tmp_path: Path
) -> None:
    config = TrainConfig(
        steps=4, list_size=6, lists_per_step=2, train_layers=1, learning_rate=1e-3, warmup_steps=1, checkpoint_every=2
    )
    whole = load_model(tiny_model_dir, dtype="float32").model
    train(whole, load_model(tiny_model_dir).tokenizer, sampler, config, tmp_path / "whole", progress=False)
    crashed = load_model(tiny_model_dir, dtype="float32")
    with pytest.raises(Crash):
        train(crashed.model, crashed.tokenizer, sampler, config, tmp_path / "run", _crash_at(3), progress=False)
    resumed = load_model(tiny_model_dir, dtype="float32")
    stats = train(resumed.model, resumed.tokenizer, sampler, config, tmp_path / "run", progress=False)
    assert stats.steps == 4 and stats.resumed_from == 2 and len(stats.losses) == 2  # steps 3, 4 again
    for (name, a), b in zip(whole.state_dict().items(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    other = TrainConfig(**{**config.as_dict(), "learning_rate": 2e-3})
    with pytest.raises(ValueError, match="another run"):
        train(resumed.model, resumed.tokenizer, sampler, other, tmp_path / "run", progress=False)
