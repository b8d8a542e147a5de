"""Prompt styles: the pieces each style produces, the manifest's choice, and multi-item == pairwise
for the compact style through the scorer API."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from transformers import PreTrainedTokenizerBase

from slm.load import load_tokenizer
from slm.manifest import Manifest, read_manifest, write_manifest
from slm.prompt import CHAT, COMPACT, INSTRUCTION, JOB_FIRST, PromptStyle, build_pieces
from slm.scorer import Scorer

pytestmark = pytest.mark.usefixtures("single_thread")

ITEMS = ["ICU nurse, night shifts", "Senior Python developer, remote", "Barista — café Zürich"]


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> PreTrainedTokenizerBase:
    return load_tokenizer(tiny_model_dir)


def test_chat_style_is_the_tokenizers_template_with_bare_labels(tokenizer: PreTrainedTokenizerBase) -> None:
    pieces = build_pieces(tokenizer, CHAT)
    text = tokenizer.decode([*pieces.prefix(tokenizer.encode("nurse")), *pieces.item(tokenizer.encode("ICU"))])
    assert text.startswith("<|im_start|>system") and text.endswith("<|im_start|>assistant\n")
    assert f"Search query:\nnurse\nJob posting:\nICU\n{INSTRUCTION}" in text
    assert tokenizer.convert_ids_to_tokens([pieces.yes_id, pieces.no_id]) == ["yes", "no"]


def test_compact_style_keeps_the_instruction_in_the_prefix(tokenizer: PreTrainedTokenizerBase) -> None:
    compact, chat = build_pieces(tokenizer, COMPACT), build_pieces(tokenizer, CHAT)
    assert tokenizer.decode(compact.lead) == f"{INSTRUCTION}\nSearch query:\n"
    assert tokenizer.decode(compact.middle) == "\nJob:\n"
    assert tokenizer.decode(compact.tail) == "\nAnswer:"
    assert [tokenizer.decode([i]) for i in (compact.yes_id, compact.no_id)] == [" yes", " no"]
    per_item = len(compact.middle) + len(compact.tail)
    assert per_item <= 8 < 3 * per_item < len(chat.middle) + len(chat.tail)


def test_job_first_style_puts_the_job_in_the_shared_prefix(tokenizer: PreTrainedTokenizerBase) -> None:
    pieces, compact = build_pieces(tokenizer, JOB_FIRST), build_pieces(tokenizer, COMPACT)
    text = tokenizer.decode([*pieces.prefix(tokenizer.encode("ICU")), *pieces.item(tokenizer.encode("nurse"))])
    assert pieces.job_first and not compact.job_first
    assert text == f"{INSTRUCTION}\nJob:\nICU\nSearch query:\nnurse\nAnswer:"
    assert (pieces.yes_id, pieces.no_id) == (compact.yes_id, compact.no_id)


def test_the_manifest_names_the_style_and_defaults_to_chat(tokenizer: PreTrainedTokenizerBase) -> None:
    assert Manifest().pieces(tokenizer).style == CHAT
    assert Manifest(prompt=COMPACT).pieces(tokenizer) == build_pieces(tokenizer, COMPACT)
    with pytest.raises(ValueError, match="unknown prompt style"):
        Manifest.model_validate({"prompt": "shouting-v9"}).pieces(tokenizer)


@pytest.mark.parametrize("style", [COMPACT, JOB_FIRST])
def test_multi_item_equals_pairwise_through_the_scorer(
    tiny_model_dir: Path, tmp_path: Path, style: PromptStyle
) -> None:
    model_dir = shutil.copytree(tiny_model_dir, tmp_path / style)
    write_manifest(model_dir, read_manifest(model_dir).model_copy(update={"prompt": style}))
    multi = Scorer.load(model_dir, dtype="float32", token_budget=256, warmup=False)
    pairwise = Scorer.load(model_dir, dtype="float32", token_budget=256, mode="pairwise", warmup=False)
    assert multi.pieces.style == style
    np.testing.assert_allclose(
        multi.score("python developer", ITEMS), pairwise.score("python developer", ITEMS), atol=1e-4
    )
    assert Scorer.load(tiny_model_dir, dtype="float32", warmup=False).pieces.style == CHAT
