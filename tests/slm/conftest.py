"""Fixtures for the model tests."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import PreTrainedModel

from slm.load import load_model
from tests.slm.cases import random_requests, reference, tiny_qwen3


@pytest.fixture(scope="module")
def single_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread: each op is too small to split, and on a busy machine
    two OpenMP threads wait on each other at every op (measured 200x slower under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_llama(tiny_model_dir: Path) -> PreTrainedModel:
    return load_model(tiny_model_dir, dtype="float32").model


@pytest.fixture(scope="module", params=["llama", "qwen3"])
def model_and_reference(
    request: pytest.FixtureRequest, tiny_llama: PreTrainedModel
) -> tuple[PreTrainedModel, np.ndarray]:
    model = tiny_llama if request.param == "llama" else tiny_qwen3()
    return model, reference(model, random_requests(0))
