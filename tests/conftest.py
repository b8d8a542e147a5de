"""Shared fixtures: the project's home for cached downloads, and a tiny random model.

Tests never reach a model hub (HF_HUB_OFFLINE=1). The tiny model uses the real SmolLM2 tokenizer,
taken from the base GGUF cached under RANKSTREAM_HOME (default `.rankstream/` at the project root).
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def home() -> Path:
    """Where downloads and models are cached between test runs."""
    return Path(os.environ.get("RANKSTREAM_HOME", PROJECT_ROOT / ".rankstream")).resolve()


@pytest.fixture(scope="session")
def tiny_model_dir(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from slm.tiny import build_tiny

    return build_tiny(tmp_path_factory.mktemp("tiny-model"), home)
