"""The device plumbing the CPU and CUDA paths share: uploads, graph buckets and their padding."""

from pathlib import Path

import numpy as np
import pytest
import torch

from slm.engine.attention import dense_mask
from slm.engine.device import MIN_BUCKET, bucket_for, make_uploader, mask_tensors, pad_to_bucket
from slm.engine.packing import ScoreRequest, pack
from slm.load import load_model
from tests.slm.cases import tiny_gemma3

pytestmark = pytest.mark.usefixtures("single_thread")
# Shorter than the test's blocks (a 3-token prefix with items of 2 and 3 tokens): the window matters.
SLIDING_WINDOW = 4


def test_buckets_are_powers_of_two_up_to_the_largest() -> None:
    assert bucket_for(1, 4096) == MIN_BUCKET
    assert bucket_for(MIN_BUCKET + 1, 4096) == 2 * MIN_BUCKET
    assert bucket_for(4096, 4096) == 4096
    assert bucket_for(4097, 4096) is None


def test_cpu_upload_shares_the_arrays() -> None:
    ids = np.arange(5, dtype=np.int64)
    (tensor,) = make_uploader(torch.device("cpu"))(ids)
    ids[0] = 42
    assert tensor[0].item() == 42


@pytest.mark.parametrize("window", [None, SLIDING_WINDOW])
def test_padding_to_a_bucket_leaves_real_tokens_unchanged(tiny_model_dir: Path, window: int | None) -> None:
    """Llama (one mask) and Gemma 3 with a window shorter than the blocks (a mask per layer type)."""
    model = load_model(tiny_model_dir, dtype="float32").model if window is None else tiny_gemma3(window)
    body = model.get_decoder()
    (batch,) = pack([ScoreRequest([1, 2, 3], [[4, 5], [6, 7, 8]])], 64)
    ids = torch.from_numpy(batch.input_ids)[None]
    positions = torch.from_numpy(batch.position_ids)[None]
    mask = dense_mask(batch, torch.float32, torch.device("cpu"), window)
    padded = pad_to_bucket(ids, positions, mask, MIN_BUCKET)
    assert padded[0].shape == (1, MIN_BUCKET)
    assert all(m.shape == (1, 1, MIN_BUCKET, MIN_BUCKET) for m in mask_tensors(padded[2]))
    with torch.inference_mode():
        want = body(input_ids=ids, position_ids=positions, attention_mask=mask).last_hidden_state
        got = body(input_ids=padded[0], position_ids=padded[1], attention_mask=padded[2]).last_hidden_state
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got[:, : batch.tokens], want)
