"""Prefill-only scoring: run the decoder body, read two label logits at each item's end.

Contract: `ScoringEngine(model, yes_id, no_id, config).score(requests)` takes token ids (a shared
prefix and its items, prompt pieces already applied) and returns one float32 array of
P(yes | prefix, item) per request, in item order. It never generates and never computes the
full-vocabulary head: the last hidden state of each item is multiplied by the yes/no rows of the
output embedding only, and softmax([l_yes, l_no])[0] = sigmoid(l_yes - l_no) is one dot product per item.

One way to score: `score` packs the requests (`batches`) and runs each batch (`run`: the sigmoid of
`logits`, under inference_mode); training (`slm.train`) calls `batches` and `logits` with grad.

`EngineConfig` (frozen; it refuses combinations that cannot run):
- token_budget: tokens per packed batch.
- mode "multi-item": one row = prefix + many items (masked from each other); "pairwise": one item
  per row. Both go through the same packer (`slm.engine.packing`) and the same model call.
- attention "blocks" (default): `slm.engine.attention.block_attention`; "mask": the model's own SDPA with
  the dense 4D additive mask, the reference path (quadratic in the batch's tokens).
- compile: torch.compile each MLP and RMSNorm (dynamic shapes, so batches of any size reuse one
  graph); fuses the SiLU·mul and the norms' elementwise passes, which eager runs one by one.
- cuda_graphs (CUDA only, with attention "mask"): replay captured graphs over bucketed shapes.
- prefix_cache_bytes (attention "blocks"): keep each prefix's keys and values (`slm.engine.prefix_cache`);
  a prefix seen in an earlier batch is not run again, only its items are.

Hygiene: inference_mode, no Python work per token, `warmup()` runs one full batch and then freezes
the GC (gc.freeze) so the long-lived model objects are never scanned again.

The engine owns the model it is given: it switches its attention implementation to
`BLOCK_ATTENTION` (plain SDPA for any call without a block layout) and, on CPU, sets the process to
flush subnormal floats to zero.

Ignores: tokenization and prompt text (`slm.scorer`), the wire format and deadlines (`worker`).
"""

import gc
from collections.abc import Container, Iterator, Mapping, Sequence
from typing import Literal, Self

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, model_validator
from transformers import PreTrainedModel

from slm.engine.attention import BLOCK_ATTENTION, block_layout, dense_mask, model_window
from slm.engine.device import GraphedBody, Uploader, make_uploader
from slm.engine.memory import release_free_memory
from slm.engine.packing import PackedBatch, Prefix, ScoreRequest, pack
from slm.engine.prefix_cache import PrefixCache, PrefixKeys, split_kept, stack_past

Mode = Literal["multi-item", "pairwise"]
Attention = Literal["blocks", "mask"]
# Tuned by `python -m bench.scorer` on a 2-core AVX512-BF16 CPU: the block attention's cost does not
# grow with the batch, so the budget only trades per-call overhead against latency and memory.
DEFAULT_TOKEN_BUDGET = 2048
# The block path pads each batch's token stream to a multiple of this. CPU matmul libraries keep
# ~0.3-0.6 MB of kernel state for every new shape they meet, for good: with a token count that
# differs from call to call, a worker's RSS grew by gigabytes over hours. Padding bounds the shapes
# to budget / 128 (32 at the default budget) for ~64 extra tokens per call (measured flat memory).
SHAPE_BUCKET_TOKENS = 128

__all__ = ["DEFAULT_TOKEN_BUDGET", "Attention", "EngineConfig", "Mode", "ScoreRequest", "ScoringEngine"]


class EngineConfig(BaseModel):
    """How an engine packs and runs (the module docstring says what each choice does)."""

    model_config = ConfigDict(frozen=True)

    token_budget: int = DEFAULT_TOKEN_BUDGET
    mode: Mode = "multi-item"
    attention: Attention = "blocks"
    compile: bool = False
    cuda_graphs: bool = False
    prefix_cache_bytes: int = 0

    @model_validator(mode="after")
    def _runnable(self) -> Self:
        if self.cuda_graphs and self.attention != "mask":
            raise ValueError("cuda_graphs needs attention='mask' (static shapes)")
        if self.prefix_cache_bytes and self.attention != "blocks":
            raise ValueError("a prefix cache needs attention='blocks'")
        return self


def bucketed(stream: torch.Tensor) -> torch.Tensor:
    """A (1, T) stream padded with zeros to a multiple of SHAPE_BUCKET_TOKENS. The block attention
    gives padding tokens no block: they attend to nothing, nothing attends to them, and their
    hidden states are cut off."""
    pad = -stream.shape[1] % SHAPE_BUCKET_TOKENS
    return torch.nn.functional.pad(stream, (0, pad)) if pad else stream


class ScoringEngine:
    def __init__(self, model: PreTrainedModel, yes_id: int, no_id: int, config: EngineConfig) -> None:
        if config.cuda_graphs and model.device.type != "cuda":
            raise ValueError("cuda_graphs needs a CUDA device")
        model.set_attn_implementation(BLOCK_ATTENTION)  # SDPA unless a call brings a block layout
        self.body = model.get_decoder()
        self.window = model_window(model)
        if config.compile:
            compile_elementwise(self.body)
        head = model.get_output_embeddings()
        rows = head.weight[[yes_id, no_id]].detach().float()
        self.direction = rows[0] - rows[1]
        bias = getattr(head, "bias", None)
        self.offset = float(bias[yes_id] - bias[no_id]) if bias is not None else 0.0
        self.device = self.direction.device
        self.config = config
        self.upload: Uploader = make_uploader(self.device)
        self.graphed = GraphedBody(self.body, config.token_budget) if config.cuda_graphs else None
        self.cache = PrefixCache(config.prefix_cache_bytes) if config.prefix_cache_bytes else None
        if self.device.type == "cpu":
            # Subnormal floats take a slow microcode path in the softmax and matmuls (3x measured).
            torch.set_flush_denormal(True)

    @property
    def dtype(self) -> torch.dtype:
        """The model's dtype now (masks are built in it; the model may be cast after construction)."""
        return self.body.dtype

    def score(self, requests: Sequence[ScoreRequest]) -> list[np.ndarray]:
        sizes = [len(r.items) for r in requests]
        scores = np.empty(sum(sizes), dtype=np.float32)
        found = self.cache.lookup(tuple(r.prefix) for r in requests) if self.cache is not None else {}
        for batch in self.batches(requests, found):
            scores[batch.targets] = self.run(batch, found)
        if self.device.type == "cpu":
            release_free_memory()
        return np.split(scores, np.cumsum(sizes)[:-1]) if requests else []

    def batches(
        self, requests: Sequence[ScoreRequest], cached: Container[Prefix] = frozenset()
    ) -> Iterator[PackedBatch]:
        """The requests packed as this engine runs them (mode, token budget, prefixes `cached`)."""
        return pack(requests, self.config.token_budget, 1 if self.config.mode == "pairwise" else None, cached)

    @torch.inference_mode()
    def run(self, batch: PackedBatch, found: Mapping[Prefix, PrefixKeys] | None = None) -> np.ndarray:
        """P(yes) at each of the batch's score positions, in the batch's item order. `found` holds
        the keys of the batch's past prefixes (from this engine's cache)."""
        return torch.sigmoid(self.logits(batch, found)).cpu().numpy()

    def logits(self, batch: PackedBatch, found: Mapping[Prefix, PrefixKeys] | None = None) -> torch.Tensor:
        """l_yes - l_no (float32) at each score position, in the batch's item order. Differentiable
        when called with grad enabled (training: `slm.train`); `run` calls it under inference_mode."""
        ids, positions, score_at = self.upload(batch.input_ids, batch.position_ids, batch.score_at)
        last = self._hidden(batch, ids[None], positions[None], found or {}).index_select(0, score_at).float()
        return last @ self.direction + self.offset

    def _hidden(
        self, batch: PackedBatch, ids: torch.Tensor, positions: torch.Tensor, found: Mapping[Prefix, PrefixKeys]
    ) -> torch.Tensor:
        """Final hidden states (T, hidden) of the batch's stream; fresh prefixes go to the cache."""
        layout = None
        if self.config.attention == "blocks":
            keep = self.cache is not None and not torch.is_grad_enabled()
            layout = block_layout(batch, self.dtype, self.device, stack_past(batch.past, found), keep, self.window)
            # A 2D no-padding mask: transformers then skips its own mask (restarting positions
            # would otherwise make it build a T x T "packed sequence" mask the blocks do not use).
            ids, positions = bucketed(ids), bucketed(positions)
            args = {"attention_mask": torch.ones_like(ids, dtype=torch.bool), "block_layout": layout}
        else:
            mask = dense_mask(batch, self.dtype, self.device, self.window)
            if self.graphed is not None:
                return self.graphed(ids, positions, mask)
            args = {"attention_mask": mask}
        hidden = self.body(input_ids=ids, position_ids=positions, use_cache=False, **args).last_hidden_state[0]
        hidden = hidden[: batch.tokens]
        if layout is not None and layout.keep is not None and self.cache is not None:
            for prefix, keys in split_kept(batch.fresh, layout.kept):
                self.cache.put(prefix, keys)
        return hidden

    def warmup(self) -> None:
        """Run one full-budget batch (allocator pools, kernels), then freeze the GC."""
        item_tokens = max((self.config.token_budget - 1) // 4, 1)
        self.score([ScoreRequest(prefix=[0], items=[[0] * item_tokens] * 4)])
        if self.cache is not None:
            self.cache.clear()
        gc.collect()
        gc.freeze()


def compile_elementwise(body: torch.nn.Module) -> None:
    """Compile the decoder's elementwise-heavy leaves in place; attention stays eager (its block
    layout changes shape every batch, which would recompile)."""
    for module in body.modules():
        if type(module).__name__.endswith(("MLP", "RMSNorm")):
            module.compile(dynamic=True)
