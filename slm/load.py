"""Load any Hugging Face causal-LM directory for scoring: safetensors only, never remote code.

Picks the device (auto: CUDA if present, else CPU) and the dtype (auto: bf16 where the hardware has
native bf16 matmuls — CUDA with bf16 support, or a CPU with AVX512-BF16 or AMX — fp32 otherwise).
The directory's manifest (`slm.manifest`) comes with the model; `model_name` and `context_budget`
read it. Ignores the compressor: a budget the manifest does not name is the caller's to default.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from slm.manifest import Manifest, read_manifest

Device = Literal["auto", "cpu", "cuda"]
DType = Literal["auto", "bfloat16", "float32"]


@dataclass(frozen=True)
class LoadedModel:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    device: torch.device
    dtype: torch.dtype
    name: str
    manifest: Manifest


@cache
def cpu_has_native_bf16() -> bool:
    """True on CPUs whose matmuls run bf16 natively (oneDNN uses AVX512-BF16 or AMX tiles)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_device(device: Device) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch sees no CUDA device")
    return torch.device(device)


def resolve_dtype(dtype: DType, device: torch.device) -> torch.dtype:
    if dtype != "auto":
        return getattr(torch, dtype)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_has_native_bf16() else torch.float32


def check_safetensors_only(path: Path) -> None:
    if not path.is_dir():
        raise FileNotFoundError(f"model directory {path} does not exist")
    if not any(path.glob("*.safetensors")):
        raise ValueError(f"{path} holds no .safetensors weights; pickled checkpoints are refused")


def load_model(
    path: str | Path, device: Device = "auto", dtype: DType = "auto", threads: int | None = None
) -> LoadedModel:
    """Load weights and tokenizer from a local directory for inference."""
    path = Path(path)
    check_safetensors_only(path)
    if threads:
        torch.set_num_threads(threads)
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    model = AutoModelForCausalLM.from_pretrained(
        path,
        dtype=torch_dtype,
        use_safetensors=True,
        trust_remote_code=False,
        local_files_only=True,
        attn_implementation="sdpa",
    )
    model.to(dev).eval().requires_grad_(False)
    tokenizer = load_tokenizer(path)
    return LoadedModel(model, tokenizer, dev, torch_dtype, model_name(path), read_manifest(path))


def model_name(path: Path) -> str:
    """The manifest's name for the model, else the directory's name."""
    name = read_manifest(path).name
    return path.resolve().name if name is None else name


def load_tokenizer(path: Path) -> PreTrainedTokenizerBase:
    """The directory's (fast) tokenizer, from local files only."""
    return AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)


def context_budget(path: Path, configured: int | None = None) -> int | None:
    """Tokens per compressed context for the model at `path`: the configured budget, else the one the
    model was trained with (its manifest), else None (the caller falls back to the compressor's default)."""
    if configured is not None:
        return configured
    compressor = read_manifest(path).compressor
    return compressor.budget_tokens if compressor and compressor.budget_tokens else None
