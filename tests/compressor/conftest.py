"""The real SmolLM2 tokenizer as an `encode` function: budgets are counted in the scoring model's tokens."""

from pathlib import Path

import pytest

from compressor import Encode


@pytest.fixture(scope="session")
def encode(home: Path) -> Encode:
    from slm.tokens import TextEncoder
    from slm.weights.bases import base_tokenizer

    return TextEncoder(base_tokenizer(home)).encode
