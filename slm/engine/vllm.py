"""Optional vLLM backend behind the scorer API (`Scorer.load(..., backend="vllm")`).

Contract: `VllmEngine.score(requests)` returns what `ScoringEngine.score` returns: one float32 array
of P(yes | prefix, item) per request. vLLM loads the causal LM as a sequence classifier whose only
row is (yes row − no row) of the output embedding (`method="from_2_way_softmax"`), so it reads two
label rows, never the vocabulary head, and its sigmoid equals softmax over the label pair. Prompts
go in as token ids (prefix + item), never re-tokenized; prefix caching computes each query's
prefix once, vLLM's counterpart of multi-item rows; vLLM batches by tokens itself
(`max_num_batched_tokens`).

Runs only where vllm and a GPU exist: importing this module without vllm raises ImportError with
the install hint. Safetensors only and no remote code, as everywhere.
"""

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from slm.engine.packing import ScoreRequest
from slm.load import DType

try:
    from vllm import LLM
    from vllm.inputs import TokensPrompt
except ImportError as exc:  # pragma: no cover - exercised only where vllm is absent
    raise ImportError("backend='vllm' needs vllm and a GPU: pip install vllm (CUDA build)") from exc

# Tokens per engine step: the same role as the torch engine's token budget, sized for a GPU.
MAX_BATCHED_TOKENS = 16384


class VllmEngine:
    def __init__(self, path: Path, no_yes_tokens: list[str], dtype: DType = "auto") -> None:
        """`no_yes_tokens`: the label tokens as vocabulary strings, the "no" label first."""
        self.llm = LLM(
            model=str(path),
            runner="pooling",
            dtype="bfloat16" if dtype == "auto" else dtype,
            trust_remote_code=False,
            enable_prefix_caching=True,
            max_num_batched_tokens=MAX_BATCHED_TOKENS,
            hf_overrides={
                "architectures": [_classifier_architecture(path)],
                "classifier_from_token": no_yes_tokens,  # [false, true]: score row = yes − no
                "method": "from_2_way_softmax",
            },
        )

    def score(self, requests: Sequence[ScoreRequest]) -> list[np.ndarray]:
        prompts = [TokensPrompt(prompt_token_ids=[*r.prefix, *item]) for r in requests for item in r.items]
        outputs = self.llm.classify(prompts, use_tqdm=False) if prompts else []
        scores = np.array([out.outputs.probs[0] for out in outputs], dtype=np.float32)
        return np.split(scores, np.cumsum([len(r.items) for r in requests])[:-1]) if requests else []


def _classifier_architecture(path: Path) -> str:
    """`LlamaForCausalLM` → `LlamaForSequenceClassification` (vLLM converts the weights on load)."""
    architecture = json.loads((path / "config.json").read_text())["architectures"][0]
    return architecture.replace("ForCausalLM", "ForSequenceClassification")
