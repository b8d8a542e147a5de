"""Multi-item attention: the dense 4D mask states the rule; the block attention computes the same."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from slm.engine import attention
from slm.engine.attention import block_attention, block_layout, dense_mask
from slm.engine.packing import PackedBatch, ScoreRequest, pack


def mixed_batch() -> PackedBatch:
    """Two requests (one of a single item), items of 1 to 40 tokens: several length classes."""
    reqs = [
        ScoreRequest([1, 2, 3], [[4] * n for n in (1, 2, 5, 6, 7, 17, 40)]),
        ScoreRequest([5, 6], [[7] * 9]),
    ]
    (batch,) = pack(reqs, 10_000)
    return batch


def allowed_by_rule(batch: PackedBatch) -> np.ndarray:
    """Token by token: a query sees earlier tokens of its own block and its row's prefix."""
    owner = np.repeat(np.arange(len(batch.block_len)), batch.block_len)
    allowed = np.zeros((batch.tokens, batch.tokens), dtype=bool)
    for q in range(batch.tokens):
        b = owner[q]
        prefix = range(batch.block_prefix_start[b], batch.block_prefix_start[b] + batch.block_prefix_len[b])
        for k in range(batch.tokens):
            allowed[q, k] = (owner[k] == b and k <= q) or k in prefix
    return allowed


def test_dense_mask_is_the_rule_as_an_additive_mask() -> None:
    batch = mixed_batch()
    mask = dense_mask(batch, torch.float32, torch.device("cpu"))
    assert mask.shape == (1, 1, batch.tokens, batch.tokens)
    assert np.array_equal((mask[0, 0] == 0).numpy(), allowed_by_rule(batch))
    assert torch.all(mask[0, 0][mask[0, 0] != 0] == torch.finfo(torch.float32).min)


def test_items_see_the_prefix_but_not_each_other() -> None:
    batch = mixed_batch()
    allowed = (dense_mask(batch, torch.float32, torch.device("cpu"))[0, 0] == 0).numpy()
    at = dict(zip(batch.targets.tolist(), batch.score_at.tolist(), strict=True))
    first, second = at[0], at[1]  # the first request's two shortest items: 1 and 2 tokens
    prefix_start = second - 1 - 1 - 3  # back over its own first token, the first item, the prefix
    assert allowed[second, prefix_start : prefix_start + 3].all() and not allowed[second, first]


def test_a_sliding_window_gives_a_second_mask_that_block_attention_applies_alike() -> None:
    """Per layer type: the full mask is the rule; the sliding one also hides keys `window` positions back."""
    batch, window = mixed_batch(), 4
    masks = dense_mask(batch, torch.float32, torch.device("cpu"), window)
    assert isinstance(masks, dict) and set(masks) == {attention.FULL_LAYERS, attention.SLIDING_LAYERS}
    near = batch.position_ids[None, :] > batch.position_ids[:, None] - window
    sliding = masks[attention.SLIDING_LAYERS]
    assert np.array_equal((masks[attention.FULL_LAYERS][0, 0] == 0).numpy(), allowed_by_rule(batch))
    assert np.array_equal((sliding[0, 0] == 0).numpy(), allowed_by_rule(batch) & near)
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 1, 2, batch.tokens, 8)
    layer = torch.nn.Module()
    layer.sliding_window = window
    layout = block_layout(batch, torch.float32, torch.device("cpu"), window=window)
    got, _ = block_attention(layer, q, k, v, None, scaling=8**-0.5, block_layout=layout)
    want = F.scaled_dot_product_attention(q, k, v, sliding)
    torch.testing.assert_close(got, want.transpose(1, 2), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("heads", "kv_heads"), [(4, 4), (6, 2)])
@pytest.mark.parametrize("plane", [attention.MAX_SCORE_PLANE, 64])  # 64: one block per group
def test_block_attention_equals_sdpa_with_the_dense_mask(
    heads: int, kv_heads: int, plane: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attention, "MAX_SCORE_PLANE", plane)
    batch = mixed_batch()
    torch.manual_seed(0)
    dim, tokens = 16, batch.tokens
    q = torch.randn(1, heads, tokens, dim)
    k, v = torch.randn(1, kv_heads, tokens, dim), torch.randn(1, kv_heads, tokens, dim)
    mask = dense_mask(batch, torch.float32, torch.device("cpu"))
    rep = heads // kv_heads
    want = F.scaled_dot_product_attention(q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1), mask)
    layout = block_layout(batch, torch.float32, torch.device("cpu"))
    got, _ = block_attention(torch.nn.Module(), q, k, v, None, scaling=dim**-0.5, block_layout=layout)
    classes = len(np.unique(np.ceil(np.log2(batch.block_len))))
    assert len(layout.groups) == classes if plane > 64 else len(layout.groups) > classes
    torch.testing.assert_close(got, want.transpose(1, 2), atol=1e-5, rtol=1e-5)


def test_block_attention_without_a_layout_is_plain_sdpa() -> None:
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 1, 2, 5, 4)
    got, _ = block_attention(torch.nn.Module(), q, k, v, None, scaling=0.5)
    want = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.5)
    torch.testing.assert_close(got, want.transpose(1, 2))


def test_block_attention_backpropagates_like_the_dense_mask() -> None:
    """Training can use the block attention: its gradients are those of SDPA with the dense mask."""
    batch = mixed_batch()
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 4, batch.tokens, 8, requires_grad=True) for _ in range(3))
    layout = block_layout(batch, torch.float32, torch.device("cpu"))
    got, _ = block_attention(torch.nn.Module(), q, k, v, None, scaling=8**-0.5, block_layout=layout)
    got.square().sum().backward()
    grads = [x.grad.clone() for x in (q, k, v)]
    for x in (q, k, v):
        x.grad = None
    want = F.scaled_dot_product_attention(q, k, v, dense_mask(batch, torch.float32, torch.device("cpu")))
    want.transpose(1, 2).square().sum().backward()
    for grad, x in zip(grads, (q, k, v), strict=True):
        torch.testing.assert_close(grad, x.grad, atol=1e-5, rtol=1e-5)
