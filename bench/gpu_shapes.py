"""The GPU benchmark's models: tiny ones for the correctness checks, the paper's shapes for throughput.

- `tiny_models()`: a tiny Llama and a tiny Gemma 3 whose sliding window is shorter than the check
  requests' blocks (`tests.slm.cases`' builders), fp32 on the CPU, their yes-row spread (`SPREAD`).
- `shapes(default_model)`: Qwen3-0.6B (`bench.scorer_inputs.QWEN3_0_6B`), the same with OSSCAR's
  pruned MLP (intermediate 3072 → 512, their 375M), and the default model's shape (its
  config.json where the directory has one, else Gemma 3 270M's published values).
- `scaled(config, scale)`: the shape as a scale runs it: `FULL` (CUDA), `FEW_LAYERS` (CPU: the
  widths, 2 layers) or `TINY` (`--quick`: widths / 8, 2 layers, a 2,048-token vocabulary).
- `build(config, device, dtype)`: random weights, seeded, initialised on the device itself.

Throughput does not depend on the weights; no weights are downloaded.
"""

from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    Gemma3TextConfig,
    PretrainedConfig,
    PreTrainedModel,
    Qwen3Config,
)

from bench.scorer_inputs import QWEN3_0_6B
from slm.weights.tiny import tiny_config
from tests.slm.cases import YES, tiny_gemma3

# Scales the yes-row of the tiny models' output embedding: their random scores, all near 0.5,
# spread to ~0.05-0.95, so a rounding or masking error shows in P(yes) instead of hiding in a flat sigmoid.
SPREAD = 10.0
# Shorter than most check blocks (prefixes of 3-11 tokens, items of 1-49): the window matters.
TINY_WINDOW = 8
# OSSCAR's pruned Qwen3-0.6B keeps 512 of each MLP's 3,072 neurons (their 375M model).
OSSCAR_INTERMEDIATE = 512
# Gemma 3 270M's published shape, used where no default model has been built.
GEMMA3_270M = {
    "vocab_size": 262_144,
    "hidden_size": 640,
    "intermediate_size": 2048,
    "num_hidden_layers": 18,
    "num_attention_heads": 4,
    "num_key_value_heads": 1,
    "head_dim": 256,
    "sliding_window": 512,
}
SHRUNK = ("hidden_size", "intermediate_size", "head_dim")


@dataclass(frozen=True)
class Scale:
    """How much of a shape a run builds: layers (None: all), widths divided by `shrink`, vocabulary."""

    name: str
    layers: int | None = None
    shrink: int = 1
    vocab: int | None = None


FULL = Scale("full")
FEW_LAYERS = Scale("2 layers", layers=2)
TINY = Scale("tiny", layers=2, shrink=8, vocab=2048)


def tiny_models() -> list[tuple[str, PreTrainedModel]]:
    """(name, model) for the correctness checks: fp32, on the CPU, scores spread."""
    torch.manual_seed(0)
    llama = AutoModelForCausalLM.from_config(tiny_config(vocab_size=1024, bos_id=None, eos_id=None))
    models = [
        ("llama", llama.eval().requires_grad_(False)),
        (f"gemma3 (window {TINY_WINDOW})", tiny_gemma3(TINY_WINDOW)),
    ]
    for _, model in models:
        with torch.no_grad():
            model.get_output_embeddings().weight[YES] *= SPREAD
    return models


def shapes(default_model: Path) -> dict[str, PretrainedConfig]:
    """The throughput shapes by name; the default model's from its config.json when it has one."""
    config = default_model / "config.json"
    default = AutoConfig.from_pretrained(default_model) if config.is_file() else Gemma3TextConfig(**GEMMA3_270M)
    return {
        "qwen3-0.6b": Qwen3Config(**QWEN3_0_6B),
        "qwen3-0.6b-osscar-375m": Qwen3Config(**{**QWEN3_0_6B, "intermediate_size": OSSCAR_INTERMEDIATE}),
        f"default-model ({default.model_type}{'' if config.is_file() else ', 270M values'})": default,
    }


def scaled(config: PretrainedConfig, scale: Scale) -> PretrainedConfig:
    """The shape at `scale`; with fewer layers, a model of mixed layer types keeps its last ones (Gemma 3:
    sliding, then global)."""
    if scale == FULL:
        return config
    values = config.to_dict()
    values.update({key: values[key] // scale.shrink for key in SHRUNK if values.get(key)})
    if scale.layers is not None:
        values["num_hidden_layers"] = scale.layers
        if values.get("layer_types"):
            values["layer_types"] = values["layer_types"][-scale.layers :]
    if scale.vocab is not None:
        values["vocab_size"] = scale.vocab
    return type(config)(**values)


def build(config: PretrainedConfig, device: torch.device, dtype: torch.dtype) -> PreTrainedModel:
    """Random weights for `config`, seeded, initialised on `device` (no fp32 copy on the host)."""
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config)
    return model.to(dtype).eval().requires_grad_(False)
