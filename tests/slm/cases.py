"""Shared cases for the engine tests: random requests, the reference scores, a tiny Qwen3 and Gemma 3."""

import numpy as np
import torch
from transformers import Gemma3ForCausalLM, Gemma3TextConfig, PreTrainedModel, Qwen3Config, Qwen3ForCausalLM

from slm.engine import ScoringEngine
from slm.engine.packing import ScoreRequest
from slm.weights.tiny import tiny_config

YES, NO = 10, 11
QWEN3_SHAPE = (
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "tie_word_embeddings",
)
# fp32 multi-item vs pairwise vs the full model: the bound.
FP32_TOLERANCE = 1e-4


def random_requests(seed: int, counts: tuple[int, ...] = (1, 6, 11)) -> list[ScoreRequest]:
    rng = np.random.default_rng(seed)
    return [
        ScoreRequest(
            rng.integers(20, 1000, int(rng.integers(3, 12))).tolist(),
            [rng.integers(20, 1000, int(rng.integers(1, 50))).tolist() for _ in range(n)],
        )
        for n in counts
    ]


def reference(model: PreTrainedModel, requests: list[ScoreRequest]) -> np.ndarray:
    """What a user would write: each (prefix, item) alone, full logits, softmax over the label pair."""
    scores = []
    with torch.inference_mode():
        for r in requests:
            for item in r.items:
                logits = model(input_ids=torch.tensor([[*r.prefix, *item]])).logits[0, -1]
                scores.append(torch.softmax(logits[[YES, NO]].float(), 0)[0].item())
    return np.array(scores)


def tiny_qwen3() -> PreTrainedModel:
    """The tiny Llama's shape in Qwen3's architecture (per-head q/k norms, explicit head_dim)."""
    torch.manual_seed(0)
    llama = tiny_config(vocab_size=1024, bos_id=None, eos_id=None)
    shape = {key: getattr(llama, key) for key in QWEN3_SHAPE}
    config = Qwen3Config(**shape, head_dim=llama.hidden_size // llama.num_attention_heads)
    return Qwen3ForCausalLM(config).eval().requires_grad_(False)


def tiny_gemma3(sliding_window: int) -> PreTrainedModel:
    """The tiny Llama's shape in Gemma 3's architecture: a sliding-window layer, then a global one."""
    torch.manual_seed(0)
    llama = tiny_config(vocab_size=1024, bos_id=None, eos_id=None)
    shape = {key: getattr(llama, key) for key in QWEN3_SHAPE}
    head_dim = llama.hidden_size // llama.num_attention_heads
    config = Gemma3TextConfig(
        **shape,
        head_dim=head_dim,
        query_pre_attn_scalar=head_dim,
        sliding_window=sliding_window,
        layer_types=["sliding_attention", "full_attention"],
    )
    return Gemma3ForCausalLM(config).eval().requires_grad_(False)


def scores(engine: ScoringEngine, requests: list[ScoreRequest]) -> np.ndarray:
    return np.concatenate(engine.score(requests))
