"""What a training run does, in one frozen record: the data, what is trained, the optimizer, the length.

Every field is written into the checkpoint and the model manifest, so a run is reproducible from its
record alone. A resumed run must carry the same record (the checkpoint refuses another one).
Defaults are the default model's recipe, chosen by pilot runs on a 2-core CPU (see `slm.build`).
"""

from dataclasses import asdict, dataclass

from slm.prompt import COMPACT, PromptStyle

# 16 candidates per list: 2 positives, up to 3 siblings and a dozen BM25 hard negatives share one
# query prefix; ~1.1k tokens with the compact prompt and 64-token contexts, one forward pass.
LIST_SIZE = 16
# Top layers trained (the rest frozen, run without autograd): on this CPU training the top 8 of
# SmolLM2's 30 layers runs ~2x the tokens/s of full fine-tuning; pilots ranked far better than top 4
# (0.10 vs 0.32 NDCG@10 after 30 steps at lr 2e-3) or top 2.
TRAIN_LAYERS = 8
# Lists per optimizer step: gradients of a few queries average out one query's label noise.
LISTS_PER_STEP = 4
# AdamW on a few hundred steps: a high rate for the top layers. Pilots (60 steps, 40 dev queries,
# NDCG@10 over BM25's top 50; BM25 0.36): 2e-4 0.19, 1e-3 0.35, 2e-3 0.39. Short warmup, cosine to 10%.
LEARNING_RATE = 2e-3
WARMUP_STEPS = 20
MIN_LR_FRACTION = 0.1
WEIGHT_DECAY = 0.01
# Pointwise BCE next to the listwise loss keeps P(yes) calibrated (the listwise loss ignores shifts).
BCE_WEIGHT = 0.1
GRAD_CLIP = 1.0  # a few hard lists early on must not wreck the pretrained top layers


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    seed: int = 0
    list_size: int = LIST_SIZE
    lists_per_step: int = LISTS_PER_STEP
    train_layers: int = TRAIN_LAYERS
    learning_rate: float = LEARNING_RATE
    warmup_steps: int = WARMUP_STEPS
    min_lr_fraction: float = MIN_LR_FRACTION
    weight_decay: float = WEIGHT_DECAY
    bce_weight: float = BCE_WEIGHT
    grad_clip: float = GRAD_CLIP
    prompt: PromptStyle = COMPACT
    checkpoint_every: int = 50  # steps; a crash loses at most this much work

    def as_dict(self) -> dict:
        return asdict(self)
