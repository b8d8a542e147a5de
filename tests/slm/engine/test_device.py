"""The device plumbing the CPU and CUDA paths share: uploads, graph buckets and their padding."""

from pathlib import Path

import numpy as np
import pytest
import torch

from slm.engine.attention import dense_mask
from slm.engine.device import MIN_BUCKET, bucket_for, make_uploader, pad_to_bucket
from slm.engine.packing import ScoreRequest, pack
from slm.load import load_model

pytestmark = pytest.mark.usefixtures("single_thread")


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


def test_padding_to_a_bucket_leaves_real_tokens_unchanged(tiny_model_dir: Path) -> None:
    body = load_model(tiny_model_dir, dtype="float32").model.get_decoder()
    (batch,) = pack([ScoreRequest([1, 2, 3], [[4, 5], [6, 7, 8]])], 64)
    ids = torch.from_numpy(batch.input_ids)[None]
    positions = torch.from_numpy(batch.position_ids)[None]
    mask = dense_mask(batch, torch.float32, torch.device("cpu"))
    padded = pad_to_bucket(ids, positions, mask, MIN_BUCKET)
    assert padded[0].shape == (1, MIN_BUCKET) and padded[2].shape == (1, 1, MIN_BUCKET, MIN_BUCKET)
    with torch.inference_mode():
        want = body(input_ids=ids, position_ids=positions, attention_mask=mask).last_hidden_state
        got = body(input_ids=padded[0], position_ids=padded[1], attention_mask=padded[2]).last_hidden_state
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got[:, : batch.tokens], want)
