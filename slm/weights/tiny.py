"""A tiny, randomly initialised Llama-architecture model with the real SmolLM2 tokenizer.

For tests of mechanics (shapes, masks, batching, the worker's plumbing), never for quality: its
scores are noise, but deterministic for a given seed. Builds in seconds on a CPU.
"""

from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from slm.manifest import write_manifest
from slm.weights.bases import base_tokenizer, untrained_manifest

TINY_NAME = "tiny-random-llama"


def tiny_config(vocab_size: int, bos_id: int | None, eos_id: int | None) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        pad_token_id=eos_id,
    )


def build_tiny(out: Path, home: Path, seed: int = 0) -> Path:
    tokenizer = base_tokenizer(home)
    torch.manual_seed(seed)
    config = tiny_config(len(tokenizer), tokenizer.bos_token_id, tokenizer.eos_token_id)
    model = LlamaForCausalLM(config).to(torch.float32)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    write_manifest(out, untrained_manifest(TINY_NAME, f"random init (seed {seed})", tokenizer))
    return out
