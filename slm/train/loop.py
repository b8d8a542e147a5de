"""The SFT loop: listwise lists through the scoring engine's own packing, masking and logits, with grad.

Contract: `train(model, tokenizer, sampler, config, run_dir) -> TrainStats` trains `model` in place
(its top layers, see `slm.train.trainable`) for `config.steps` AdamW steps of `config.lists_per_step`
lists each, drawn in order from `sampler` epoch after epoch. A step's lists become requests through
the serving path (`Scorer.requests`: one per query in a query-first style, one per distinct posting
with the step's queries as items in the job-first style, so a block's pairs share prefixes),
the engine packs a step's requests together (`ScoringEngine.batches`) and computes l_yes - l_no at
each item's end (`ScoringEngine.logits`): what is trained is exactly what is served. The loss is
`slm.train.loss`. With a `teacher` (a frozen model with the same tokenizer, say the unpruned model a
pruned student was cut from) and `config.distill_weight > 0`, each step also runs the same packed
requests through the teacher's own engine (inference only) and adds the listwise distillation term
on each list.

Learning rate: linear warmup, then cosine down to `min_lr_fraction` of the peak. Seeded: the data
order is the sampler's (seed, epoch), and nothing else is random. With `run_dir`, a checkpoint is
written every `checkpoint_every` steps and at the end, and a run restarts from the latest one (same
config), reproducing the uninterrupted run. Progress (`slm.progress`: a bar on a terminal, a plain line
every 30 s elsewhere) shows loss, tokens/s and the ETA.

Attention: training uses the serving path's block attention (`slm.engine.attention`, differentiable): on a
2-core CPU it trains ~1.6x the tokens/s of the dense 4D mask (1,270 vs 790 on SmolLM2, top 8 layers).
Ignores: evaluation and saving the model (`slm.train.build`), where the lists come from (`slm.data`).
"""

import itertools
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from slm.data.lists import Lists, RankingList
from slm.engine import EngineConfig, ScoringEngine
from slm.progress import progress as shown_progress
from slm.prompt import build_pieces
from slm.scorer import EncodedQuery, Scorer
from slm.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from slm.train.config import TrainConfig
from slm.train.loss import list_loss
from slm.train.trainable import make_trainable, mixed_precision

# A step's lists (a 24 x 8 block, ~3k tokens) share one forward pass; longer steps split across passes.
TRAIN_TOKEN_BUDGET = 8192
TRAIN_ENGINE = EngineConfig(token_budget=TRAIN_TOKEN_BUDGET, attention="blocks")

StepHook = Callable[[int, "TrainStats"], None]


@dataclass
class TrainStats:
    steps: int = 0  # the run's steps done, counting those before a resume
    resumed_from: int = 0
    lists: int = 0  # lists, tokens, seconds and losses: this invocation's
    tokens: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)  # mean list loss of each step


def learning_rate(step: int, config: TrainConfig) -> float:
    peak = config.learning_rate
    if step < config.warmup_steps:
        return peak * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(config.steps - config.warmup_steps, 1)
    floor = config.min_lr_fraction
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def lists_from(sampler: Lists, start: int) -> Iterator[RankingList]:
    """Lists of epoch 0, 1, ... in order, from the `start`-th on."""
    stream = (ranking for epoch in itertools.count() for ranking in sampler.epoch(epoch))
    return itertools.islice(stream, start, None)


def step_lists(sampler: Lists, config: TrainConfig, step: int) -> Iterator[RankingList]:
    """The lists of step `step` on: after `config.skip_steps` steps' worth, `lists_per_step` a step."""
    return lists_from(sampler, (config.skip_steps + step) * config.lists_per_step)


class Trainer:
    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        config: TrainConfig,
        teacher: PreTrainedModel | None = None,
    ) -> None:
        if config.distill_weight > 0 and teacher is None:
            raise ValueError("distill_weight > 0 needs a teacher model")
        self.model, self.config = model, config
        pieces = build_pieces(tokenizer, config.prompt)
        self.params = make_trainable(model, config.train_layers)
        self.engine = ScoringEngine(model, pieces.yes_id, pieces.no_id, TRAIN_ENGINE)
        self.scorer = Scorer(tokenizer, self.engine, "training", pieces)
        distilled = teacher is not None and config.distill_weight > 0
        self.teacher = ScoringEngine(teacher, pieces.yes_id, pieces.no_id, TRAIN_ENGINE) if distilled else None
        self.optimizer = torch.optim.AdamW(
            self.params.values(), lr=config.learning_rate, weight_decay=config.weight_decay
        )

    def list_logits(
        self, lists: Sequence[RankingList], engine: ScoringEngine | None = None
    ) -> tuple[list[torch.Tensor], int]:
        """l_yes - l_no of each list's candidates, in list order, and the tokens they took, by `engine`
        (the student's by default).

        The lists are packed together (`TRAIN_TOKEN_BUDGET` tokens per forward pass), as serving packs
        requests: fewer, larger matmuls than one pass per list."""
        engine = engine or self.engine
        prompts = self.scorer.requests([EncodedQuery(r.query.text, r.contexts) for r in lists])
        parts, order, tokens = [], [], 0
        for batch in engine.batches(prompts.requests):
            parts.append(engine.logits(batch))
            order.append(batch.targets)
            tokens += batch.tokens
        flat = torch.cat(parts)[torch.from_numpy(np.argsort(np.concatenate(order)))]
        return [flat[torch.from_numpy(i)] for i in prompts.index], tokens

    def teacher_logits(self, lists: Sequence[RankingList]) -> list[torch.Tensor | None]:
        """The teacher's l_yes - l_no on the same lists (no graph), or None per list without a teacher."""
        if self.teacher is None:
            return [None] * len(lists)
        with torch.inference_mode(), mixed_precision(self.teacher.body):
            logits, _ = self.list_logits(lists, self.teacher)
        return [x.float().clone() for x in logits]

    def step(self, lists: list[RankingList], lr: float) -> tuple[float, int]:
        """One optimizer step over `lists`: mean list loss, tokens."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        teacher = self.teacher_logits(lists)
        with mixed_precision(self.model):
            logits, tokens = self.list_logits(lists)
        c = self.config
        losses = [
            list_loss(x, torch.tensor(r.grades), c.bce_weight, t, c.distill_weight, c.distill_temperature)
            for x, r, t in zip(logits, lists, teacher, strict=True)
        ]
        loss = torch.stack(losses).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params.values(), self.config.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.item(), tokens


def train(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    sampler: Lists,
    config: TrainConfig,
    run_dir: Path | None = None,
    on_step: StepHook | None = None,
    progress: bool = True,
    teacher: PreTrainedModel | None = None,
) -> TrainStats:
    trainer = Trainer(model, tokenizer, config, teacher)
    record = config.as_dict()
    found = latest_checkpoint(run_dir) if run_dir is not None else None
    start = load_checkpoint(found, trainer.params, trainer.optimizer, record) if found else 0
    lists = step_lists(sampler, config, start)
    stats, began = TrainStats(steps=start, resumed_from=start), time.perf_counter()
    with shown_progress("training", config.steps, start, enabled=progress, transient=False) as bar:
        for step in range(start, config.steps):
            chunk = list(itertools.islice(lists, config.lists_per_step))
            loss, tokens = trainer.step(chunk, learning_rate(step, config))
            stats.steps, stats.lists, stats.tokens = step + 1, stats.lists + len(chunk), stats.tokens + tokens
            stats.seconds = time.perf_counter() - began
            stats.losses.append(loss)
            bar.advance(info=f"loss {loss:.3f}  {stats.tokens / stats.seconds:,.0f} tok/s")
            if run_dir is not None and (stats.steps % config.checkpoint_every == 0 or stats.steps == config.steps):
                save_checkpoint(run_dir, stats.steps, trainer.params, trainer.optimizer, record)
            if on_step is not None:
                on_step(stats.steps, stats)
    return stats
