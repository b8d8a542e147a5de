"""The attention heads a structured pruner cuts: query heads within their key/value groups, or whole groups.

Contract: `attentions(model)` returns each decoder layer's attention, checked to be the form Llama,
Qwen2/3 and Gemma 3 share (`q_proj`, `k_proj`, `v_proj`: hidden -> heads x head_dim; `o_proj`:
heads x head_dim -> hidden). `head_shape(config)` reads its query heads, key/value heads and head
size. `heads_kept(shape, keep, hidden_size, unit)` says how many units survive a kept share `keep`
(the count nearest the share, or the next smaller one whose query heads divide the hidden size: Llama's
and Gemma's configs refuse any other, so Gemma 3 270M's 4 heads at 75% keep 2, not 3):
- "query": query heads within each key/value group (every group keeps the same number: grouped-query
  attention repeats each key/value head for an equal share of the query heads), key/value heads kept;
- "group": whole key/value groups, each with all its query heads;
- "auto": "query" where groups hold several query heads (Gemma 3 270M: 4 per group, 1 group; SmolLM2:
  3; Qwen3-0.6B: 2), "group" where each holds one (multi-head attention).
`narrow_heads(attn, shape, kept, o_weight)` keeps the query heads `kept` (and the key/value heads of
their groups), installs `o_weight` as the output projection and fixes the module's group count, in
place. `set_heads(config, heads, kv_heads)` writes the new counts, `head_dim` unchanged.

A HF config holds one head count for every layer: every layer keeps the same number of heads (which
ones is per layer), so the result stays a plain directory any loader reads without remote code.
Ignores: the MLPs and whole layers (`slm.prune.layers`, `slm.prune.depth`); which heads to keep
(`slm.prune.osscar.select_units`).
"""

from dataclasses import dataclass
from typing import Literal

import torch
from transformers import PretrainedConfig, PreTrainedModel

from slm.prune.layers import decoder_layers, linear

HeadUnit = Literal["auto", "query", "group"]
_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj")


@dataclass(frozen=True)
class HeadShape:
    heads: int  # query heads per layer
    kv_heads: int
    head_dim: int

    @property
    def group(self) -> int:
        """Query heads sharing one key/value head."""
        return self.heads // self.kv_heads


def head_shape(config: PretrainedConfig) -> HeadShape:
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return HeadShape(heads, kv_heads, head_dim)


def attentions(model: PreTrainedModel) -> list[torch.nn.Module]:
    found = [getattr(layer, "self_attn", None) for layer in decoder_layers(model)]
    for i, attn in enumerate(found):
        if not all(isinstance(getattr(attn, name, None), torch.nn.Linear) for name in _PROJECTIONS):
            raise ValueError(f"layer {i}'s attention has no {', '.join(_PROJECTIONS)} projections")
    return found


def heads_kept(shape: HeadShape, keep: float, hidden_size: int, unit: HeadUnit = "auto") -> HeadShape:
    """The shape after keeping a share `keep` in (0, 1] of the heads (at least one per group), with a
    query-head count that divides `hidden_size`."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    by_query = unit == "query" or (unit == "auto" and shape.group > 1)
    units, heads_per_unit = (shape.group, shape.kv_heads) if by_query else (shape.kv_heads, shape.group)
    kept = max(1, round(units * keep))
    while kept > 1 and hidden_size % (kept * heads_per_unit):
        kept -= 1
    if by_query:
        return HeadShape(kept * shape.kv_heads, shape.kv_heads, shape.head_dim)
    return HeadShape(kept * shape.group, kept, shape.head_dim)


def unit_buckets(shape: HeadShape, after: HeadShape) -> tuple[int, list[list[int]], int]:
    """The search's units, their buckets and the units kept per bucket (`select_units`' arguments)."""
    if after.kv_heads == shape.kv_heads:  # query heads within each group
        groups = [list(range(k * shape.group, (k + 1) * shape.group)) for k in range(shape.kv_heads)]
        return shape.heads, groups, after.group
    return shape.kv_heads, [list(range(shape.kv_heads))], after.kv_heads


def narrow_heads(attn: torch.nn.Module, shape: HeadShape, kept: torch.Tensor, o_weight: torch.Tensor) -> None:
    """Keep query heads `kept` (sorted; whole groups or an equal number per group) in place."""
    d = shape.head_dim
    groups = torch.unique(kept // shape.group)
    rows = (kept[:, None] * d + torch.arange(d, device=kept.device)).reshape(-1)
    kv_rows = (groups[:, None] * d + torch.arange(d, device=kept.device)).reshape(-1)
    attn.q_proj = _rows(attn.q_proj, rows)
    attn.k_proj = _rows(attn.k_proj, kv_rows)
    attn.v_proj = _rows(attn.v_proj, kv_rows)
    bias = attn.o_proj.bias
    attn.o_proj = linear(o_weight.to(attn.o_proj.weight), None if bias is None else bias.detach())
    attn.num_key_value_groups = len(kept) // len(groups)


def set_heads(config: PretrainedConfig, after: HeadShape) -> None:
    config.head_dim = after.head_dim  # explicit: some configs derive it from the head count
    config.num_attention_heads = after.heads
    config.num_key_value_heads = after.kv_heads


def _rows(layer: torch.nn.Linear, rows: torch.Tensor) -> torch.nn.Linear:
    bias = None if layer.bias is None else layer.bias.detach()[rows]
    return linear(layer.weight[rows], bias)
