"""The scorer benchmark's inputs and models: real job text, fixed token lengths, three model shapes.

- Items are real LinkedIn postings ("title at company, location: description"), tokenized once and
  cut to 60 tokens (a compressed context) or 450 tokens (a full description; shorter postings are
  left out). Cutting, not the compressor, so the lengths are exact and the benchmark does not move
  when the compressor does.
- Queries are other real postings' "title, level, work type, location: ..." cut to 20 tokens,
  each with 32 candidates drawn in order from the item pool.
- Models: the tiny test model, SmolLM2-135M (the base model, bf16 safetensors), and a
  Qwen3-0.6B-shaped config with random weights (throughput does not depend on the weights).

Data: "LinkedIn Job Postings (2023-2024)" by Arsh Koneru, doi:10.34740/KAGGLE/DSV/9200871,
CC BY-SA 4.0, read from the shared data directory and never copied into the project.
"""

import csv
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase, Qwen3Config, Qwen3ForCausalLM

from bench.compression_data import ATTRIBUTION as DATA_ATTRIBUTION
from slm.load import load_model
from slm.scorer import EncodedQuery
from slm.weights.bases import base_tokenizer, fetch_base
from slm.weights.tiny import build_tiny

ATTRIBUTION = DATA_ATTRIBUTION["linkedin"]
QUERY_TOKENS = 20
CANDIDATES = 32
ITEM_TOKENS = {"compressed": 60, "full": 450}
# Qwen3-0.6B's published shape (hidden 1024, 28 layers, GQA 16/8, head_dim 128, vocab 151,936).
QWEN3_0_6B = {
    "vocab_size": 151_936,
    "hidden_size": 1024,
    "intermediate_size": 3072,
    "num_hidden_layers": 28,
    "num_attention_heads": 16,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "max_position_embeddings": 40_960,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
}


@dataclass(frozen=True)
class BenchModel:
    name: str
    model: PreTrainedModel  # fp32: the naive baseline's dtype; the engine rows convert it to bf16
    tokenizer: PreTrainedTokenizerBase


def read_postings(data_dir: Path, name: str) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)  # descriptions are long quoted multi-line fields
    with (data_dir / "postings" / name).open(newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f) if row.get("description")]


def _item_text(row: dict[str, str]) -> str:
    return f"{row['title']} at {row['company_name']}, {row['location']}: {row['description']}"


def _query_text(row: dict[str, str]) -> str:
    parts = (row["title"], row["formatted_experience_level"], row["formatted_work_type"], row["location"])
    return ", ".join(p for p in parts if p) + ": " + row["description"]


def _cut(tokenizer: PreTrainedTokenizerBase, texts: list[str], tokens: int) -> list[list[int]]:
    """Token ids of the texts that have at least `tokens` of them, cut to exactly `tokens`."""
    return [ids[:tokens] for ids in tokenizer(texts, add_special_tokens=False)["input_ids"] if len(ids) >= tokens]


def workload(data_dir: Path, tokenizer: PreTrainedTokenizerBase, kind: str, requests: int) -> list[EncodedQuery]:
    """`requests` queries of ~20 tokens, each with 32 contexts of the kind's token length."""
    items = _cut(
        tokenizer, [_item_text(r) for r in read_postings(data_dir, "linkedin_postings_a.csv")], ITEM_TOKENS[kind]
    )
    query_ids = _cut(
        tokenizer, [_query_text(r) for r in read_postings(data_dir, "linkedin_postings_b.csv")], QUERY_TOKENS
    )
    queries = tokenizer.batch_decode(query_ids[:requests])
    return [
        EncodedQuery(text, [items[(i * CANDIDATES + j) % len(items)] for j in range(CANDIDATES)])
        for i, text in enumerate(queries)
    ]


def load_bench_model(name: str, home: Path) -> BenchModel:
    """One of "tiny", "smollm2-135m", "qwen3-0.6b-shape", in fp32."""
    if name == "qwen3-0.6b-shape":
        torch.manual_seed(0)
        model = Qwen3ForCausalLM(Qwen3Config(**QWEN3_0_6B)).eval().requires_grad_(False)
        return BenchModel(name, model, base_tokenizer(home))
    path = build_tiny(Path(tempfile.mkdtemp(prefix="bench-tiny-")), home) if name == "tiny" else fetch_base(home)
    loaded = load_model(path, device="cpu", dtype="float32")
    return BenchModel(name, loaded.model, loaded.tokenizer)
