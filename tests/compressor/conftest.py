"""The real SmolLM2 tokenizer as an `encode` function: budgets are counted in the scoring model's tokens."""

from pathlib import Path

import pytest

from compressor import Encode


@pytest.fixture(scope="session")
def encode(home: Path) -> Encode:
    from slm.base import base_tokenizer
    from slm.tokens import TextEncoder

    return TextEncoder(base_tokenizer(home)).encode
