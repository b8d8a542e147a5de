"""What a training run does, in one frozen record: the data, what is trained, the optimizer, the length.

Every field is written into the checkpoint and the model manifest, so a run is reproducible from its
record alone. A resumed run must carry the same record (the checkpoint refuses another one).
Defaults are the default model's recipe, chosen by pilot runs on a 2-core CPU (see `slm.train.build`).
"""

from dataclasses import asdict, dataclass

from slm.prompt import JOB_FIRST, PromptStyle

# A step is one block (`slm.data.blocks`): 24 neighbouring train queries graded against 8 shared
# postings (their own occupations first, then siblings and BM25 hard negatives). With the job-first
# prompt a posting is one prefix and the 24 queries its items: ~3k tokens per step, ~13 per (query,
# posting) pair. Pilots (NDCG@10 on 200 dev queries over BM25's top 50; BM25 0.39): the previous recipe
# (per-query lists of 16, compact prompt, 4 queries per step, 250 steps) 0.44; blocks of 24 x 24 0.48
# after 75 steps (13 min of training) and 0.47 after 150; 24 x 12 0.47 after 95 steps (7.3 min);
# 24 x 8 0.49 after 95 steps (4.9 min; 0.48 with another seed), 0.49 after 190 and 285 (1.6 epochs:
# the training loss falls, dev does not move). More postings per block cost tokens without raising
# dev NDCG (a block's 8 are its queries' own occupations, then their siblings or top BM25 negatives).
# Two of the 8 given to the block's most common BM25 confusers (its queries' top non-relevant hits, often
# from other code groups, as at evaluation): 0.483 against 0.486.
TRAIN_LIST_SIZE = 8
LISTS_PER_STEP = 24
# Top layers trained (the rest frozen, run without autograd). Pilots (60 steps, lr 2e-3; NDCG@10 on 40
# dev queries, list loss, demo queries whose right job ranks first): top 4 0.26 / 2.56; top 8 0.40 /
# 2.18 / 5 of 8; top 12 0.38 / 2.14 / 7 of 8; top 16 0.40 / 2.05 / 7 of 8 (the 8th second). Dev NDCG
# ties; more trained layers fit the lists better and carry over to company job ads (the demo), at
# ~1.4x the seconds per step of the top 8 (half of SmolLM2's 30 layers). All 30 layers (24 x 8 blocks,
# 95 steps, 200 dev queries): 0.43 against 0.49, at 1.5x the seconds per step; all 30 with the bottom
# 14 at a tenth of the rate (layer-wise rates): 0.49, at 1.6x.
TRAIN_LAYERS = 16
REFERENCE_DEPTH = 30  # SmolLM2-135M's layers, where TRAIN_LAYERS was chosen


def train_layers_for(depth: int) -> int:
    """The same share of another base's depth, top layers first. Gemma 3 270M (18 layers) trains its
    top 10 (pilots, 24 x 8 blocks, 95 steps: 0.496 on 200 dev queries; all 18 at lr 2e-3: 0.11),
    Qwen3-0.6B (28) its top 15."""
    return max(1, min(depth, round(depth * TRAIN_LAYERS / REFERENCE_DEPTH)))


# AdamW on a few hundred steps: a high rate for the top layers. Pilots (60 steps, 40 dev queries,
# NDCG@10 over BM25's top 50; BM25 0.36): 2e-4 0.19, 1e-3 0.35, 2e-3 0.39, 3e-3 0.38. With 24 x 8 blocks
# (95 steps, 200 dev queries): 1e-3 0.484, 2e-3 0.486, 4e-3 0.477. Short warmup, cosine to 10%.
LEARNING_RATE = 2e-3
WARMUP_STEPS = 20
MIN_LR_FRACTION = 0.1
WEIGHT_DECAY = 0.01
# Pointwise BCE next to the listwise loss keeps P(yes) calibrated (the listwise loss ignores shifts).
BCE_WEIGHT = 0.1
GRAD_CLIP = 1.0  # a few hard lists early on must not wreck the pretrained top layers
# Distillation (recovering a pruned model from its unpruned teacher, `slm.train.distill`): the KL to the
# teacher's list distribution weighs as much as the hard-label listwise term, at temperature 2, which
# softens a list of 8 logits spread ~5-10 apart enough that the teacher's order of the negatives
# carries signal (Hinton et al. used 2-20). A weight of 4 scored within the noise of 1 on the default
# model (docs/results.md, recovery variants); the temperature is not tuned.
DISTILL_WEIGHT = 1.0
DISTILL_TEMPERATURE = 2.0
# A student's recovery draws the lists after its teacher's (`TrainConfig.skip_steps` = the teacher's
# steps): lists the teacher never fitted carry more than its own half-epoch again. On the default model
# at keep 0.5 (docs/results.md), 100 queries per split: 0.528 / 0.537 against 0.528 / 0.532; with 64
# calibration queries (`slm.prune.calibrate`) too, the whole splits: 0.528 / 0.501 against the previous
# recipe's 0.529 / 0.491 (test / unseen; teacher 0.548 / 0.509).


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    seed: int = 0
    list_size: int = TRAIN_LIST_SIZE  # postings per list (per block, for the job-first prompt)
    lists_per_step: int = LISTS_PER_STEP  # queries per step (per block)
    train_layers: int = TRAIN_LAYERS
    learning_rate: float = LEARNING_RATE
    warmup_steps: int = WARMUP_STEPS
    min_lr_fraction: float = MIN_LR_FRACTION
    weight_decay: float = WEIGHT_DECAY
    bce_weight: float = BCE_WEIGHT
    grad_clip: float = GRAD_CLIP
    prompt: PromptStyle = JOB_FIRST
    distill_weight: float = 0.0  # > 0: the run needs a teacher (`slm.train.train(teacher=...)`)
    distill_temperature: float = DISTILL_TEMPERATURE
    skip_steps: int = 0  # steps' worth of lists skipped before the first (a student skips its teacher's)
    checkpoint_every: int = 50  # steps; a crash loses at most this much work

    def as_dict(self) -> dict:
        return asdict(self)
