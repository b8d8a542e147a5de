"""Fixtures for the model tests."""

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(scope="module")
def single_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread: each op is too small to split, and on a busy machine
    two OpenMP threads wait on each other at every op (measured 200x slower under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
