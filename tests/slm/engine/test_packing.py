"""Token-budget packing: every item exactly once, rows and positions as the engine expects."""

import numpy as np
import pytest

from slm.engine.packing import PackedBatch, ScoreRequest, pack

PREFIX = [1, 2, 3, 4]


def requests(*item_counts: int, length: int = 5) -> list[ScoreRequest]:
    """Requests with distinct token ids (so a position's owner can be read back from its id)."""
    rng = np.random.default_rng(0)
    return [
        ScoreRequest(
            [100 * (r + 1), *PREFIX],
            [list(rng.integers(1000, 2000, int(rng.integers(1, length + 1)))) for _ in range(n)],
        )
        for r, n in enumerate(item_counts)
    ]


def check_batches(reqs: list[ScoreRequest], batches: list[PackedBatch], budget: int) -> None:
    """Each item once; its tokens and positions sit where the engine reads them; blocks tile the stream."""
    flat = [(r, item) for r in reqs for item in r.items]
    seen = np.concatenate([b.targets for b in batches]) if batches else np.empty(0, dtype=np.int64)
    assert sorted(seen.tolist()) == list(range(len(flat)))
    for b in batches:
        assert b.tokens <= budget or len(b.targets) == 1
        assert b.block_start[0] == 0 and np.array_equal(b.block_start[1:], (b.block_start + b.block_len)[:-1])
        assert b.block_len.sum() == b.tokens
        for at, target in zip(b.score_at, b.targets, strict=True):
            request, item = flat[target]
            start = at - len(item) + 1
            assert b.input_ids[start : at + 1].tolist() == list(item)
            plen = len(request.prefix)
            assert b.position_ids[start : at + 1].tolist() == list(range(plen, plen + len(item)))
            row = np.searchsorted(b.row_starts, start, side="right") - 1
            row_start = b.row_starts[row]
            assert b.input_ids[row_start : row_start + plen].tolist() == list(request.prefix)


@pytest.mark.parametrize("items_per_row", [None, 1, 3])
@pytest.mark.parametrize("budget", [16, 40, 1000])
def test_every_item_is_packed_once_under_the_budget(items_per_row: int | None, budget: int) -> None:
    reqs = requests(1, 7, 0, 12, length=9)
    check_batches(reqs, list(pack(reqs, budget, items_per_row)), budget)


def test_one_item_is_one_causal_block() -> None:
    (batch,) = pack(requests(1), 64)
    assert batch.block_len.tolist() == [batch.tokens] and batch.block_prefix_len.tolist() == [0]


def test_multi_item_row_has_a_prefix_block_and_item_blocks_that_see_it() -> None:
    (batch,) = pack(requests(3), 64)
    assert batch.block_len[0] == len(PREFIX) + 1
    assert batch.block_prefix_len.tolist() == [0, 5, 5, 5]
    assert np.all(batch.block_prefix_start == 0)


def test_pairwise_puts_one_item_per_row() -> None:
    (batch,) = pack(requests(4), 1000, items_per_row=1)
    assert len(batch.row_starts) - 1 == 4 and np.all(batch.block_prefix_len == 0)


def test_a_thousand_items_split_across_rows_that_repeat_the_prefix() -> None:
    reqs = requests(1000, length=20)
    batches = list(pack(reqs, 512))
    check_batches(reqs, batches, 512)
    assert len(batches) > 1
    assert all(len(b.row_starts) == 2 for b in batches)  # one request: one row per batch


def test_an_item_longer_than_the_budget_is_scored_alone() -> None:
    reqs = [ScoreRequest(PREFIX, [[7] * 3, [8] * 100, [9] * 2])]
    batches = list(pack(reqs, 32))
    check_batches(reqs, batches, 32)
    assert [b.tokens for b in batches if 1 in b.targets] == [len(PREFIX) + 100]


def test_rows_are_sorted_by_tokens_per_item() -> None:
    reqs = [ScoreRequest(PREFIX, [[5] * n]) for n in (30, 2, 17, 9)]
    batches = list(pack(reqs, 10_000, items_per_row=1))
    lengths = np.diff(batches[0].row_starts) - len(PREFIX)
    assert lengths.tolist() == [2, 9, 17, 30]


def test_no_requests_or_no_items_make_no_batches() -> None:
    assert list(pack([], 64)) == []
    assert list(pack([ScoreRequest(PREFIX, [])], 64)) == []


def test_an_empty_item_or_a_bad_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="no tokens"):
        list(pack([ScoreRequest(PREFIX, [[1], []])], 64))
    with pytest.raises(ValueError, match="positive"):
        list(pack(requests(1), 0))
