"""The serving engine: prefill-only, multi-item scoring of token ids, and what it runs on.

`engine` (the ScoringEngine, configured by an EngineConfig) packs requests (`packing`), keeps rows
and items apart (`attention`), keeps posting prefixes' keys and values across calls (`prefix_cache`),
and uploads to the device (`device`, with CUDA graphs); `vllm` is the optional vLLM backend behind the
same contract. Ignores tokenization, prompts and model loading (`slm.scorer`, `slm.prompt`, `slm.load`).
"""

from slm.engine.engine import DEFAULT_TOKEN_BUDGET, Attention, EngineConfig, Mode, ScoringEngine, compile_elementwise
from slm.engine.packing import ScoreRequest

__all__ = [
    "DEFAULT_TOKEN_BUDGET",
    "Attention",
    "EngineConfig",
    "Mode",
    "ScoreRequest",
    "ScoringEngine",
    "compile_elementwise",
]
