"""Batched greedy generation with any HF causal LM: the engine behind the abstractive compressor.

    generate = load_generator(path, max_new_tokens=64, timeout_s=30)
    generate(prompts) -> list[str]      # one completion per prompt, same order

A prompt is a user message, or a chat (a list of {"role", "content"} messages, e.g. with worked
examples as earlier turns); a chat that ends with an assistant message is continued from it
(prefill: the reply is forced to start that way) and the completion holds only the new text.
Chats are rendered with the model's chat template (messages joined by blank lines without one); the
last user message is cut to its first `max_prompt_tokens` tokens (callers put instructions first).
Decoding is greedy, so outputs are deterministic; prompts are sorted by length and run in
left-padded batches. `timeout_s` bounds a whole call: past it, decoding stops and the call raises
GenerationTimeout (callers fall back). With vLLM installed and a GPU present, `backend="auto"`
uses it (import-guarded). Ignores sampling settings in the model's generation_config.
"""

import importlib.util
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import torch
from transformers import GenerationConfig, PreTrainedTokenizerBase, StoppingCriteria, StoppingCriteriaList

from slm.load import Device, DType, LoadedModel, check_safetensors_only, load_model

GenerationBackend = Literal["auto", "torch", "vllm"]
Prompt = str | Sequence[Mapping[str, str]]
# A summary of a posting needs ~40-60 tokens; a bound keeps a rambling model from running on.
DEFAULT_MAX_NEW_TOKENS = 64
# The compressor's postings run ~200 tokens; anything longer is cut rather than slowing the batch.
DEFAULT_MAX_PROMPT_TOKENS = 512
# Rows per forward pass: on CPU larger batches pad more than they gain; GPUs want more.
DEFAULT_BATCH_SIZE = 8


class GenerationTimeout(TimeoutError):
    """The call ran past its deadline; no completions are returned."""


class _Deadline(StoppingCriteria):
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: object) -> torch.BoolTensor:
        self.expired = time.monotonic() > self.deadline
        return torch.full((input_ids.shape[0],), self.expired, dtype=torch.bool, device=input_ids.device)


def _cut(tokenizer: PreTrainedTokenizerBase, text: str, max_tokens: int) -> str:
    ids = tokenizer.encode(text, add_special_tokens=False)
    return tokenizer.decode(ids[:max_tokens]) if len(ids) > max_tokens else text


def render(tokenizer: PreTrainedTokenizerBase, prompt: Prompt, max_prompt_tokens: int) -> str:
    """The prompt as the model's input text: chat template, prefill, last message cut to size."""
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else [dict(m) for m in prompt]
    last = next(m for m in reversed(messages) if m["role"] == "user")
    last["content"] = _cut(tokenizer, last["content"], max_prompt_tokens)
    if not tokenizer.chat_template:
        return "\n\n".join(m["content"] for m in messages)
    prefill = messages[-1]["role"] == "assistant"
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=not prefill, continue_final_message=prefill
    )


class Generator:
    """Greedy batched generation on torch (CPU or CUDA)."""

    def __init__(
        self,
        loaded: LoadedModel,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        max_prompt_tokens: int = DEFAULT_MAX_PROMPT_TOKENS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        timeout_s: float | None = None,
    ) -> None:
        self.loaded = loaded
        self.name = loaded.name
        self.max_prompt_tokens = max_prompt_tokens
        self.batch_size = batch_size
        self.timeout_s = timeout_s
        tokenizer = loaded.tokenizer
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.config = GenerationConfig(
            do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=pad_id, eos_token_id=tokenizer.eos_token_id
        )

    def __call__(self, prompts: Sequence[Prompt]) -> list[str]:
        deadline = time.monotonic() + self.timeout_s if self.timeout_s else float("inf")
        tokenizer = self.loaded.tokenizer
        texts = [render(tokenizer, p, self.max_prompt_tokens) for p in prompts]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        outputs: dict[int, str] = {}
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            outputs.update(zip(batch, self._generate([texts[i] for i in batch], deadline), strict=True))
        return [outputs[i] for i in range(len(texts))]

    @torch.inference_mode()
    def _generate(self, texts: list[str], deadline: float) -> list[str]:
        if time.monotonic() > deadline:
            raise GenerationTimeout(f"generation passed its {self.timeout_s} s deadline")
        tokenizer = self.loaded.tokenizer
        tokenizer.padding_side = "left"  # every row's last prompt token sits at the same position
        batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.loaded.device)
        stop = _Deadline(deadline)
        out = self.loaded.model.generate(
            **batch, generation_config=self.config, stopping_criteria=StoppingCriteriaList([stop])
        )
        if stop.expired:
            raise GenerationTimeout(f"generation passed its {self.timeout_s} s deadline")
        new_tokens = out[:, batch["input_ids"].shape[1] :]
        return [text.strip() for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]


class VllmGenerator:
    """Greedy generation on vLLM (GPU). Its scheduler batches; timeouts are the caller's."""

    def __init__(self, path: Path, max_new_tokens: int, max_prompt_tokens: int) -> None:
        from vllm import LLM, SamplingParams

        self.llm = LLM(model=str(path), trust_remote_code=False)
        self.tokenizer = self.llm.get_tokenizer()
        self.name = path.resolve().name
        self.max_prompt_tokens = max_prompt_tokens
        self.params = SamplingParams(temperature=0.0, max_tokens=max_new_tokens)

    def __call__(self, prompts: Sequence[Prompt]) -> list[str]:
        texts = [render(self.tokenizer, p, self.max_prompt_tokens) for p in prompts]
        return [out.outputs[0].text.strip() for out in self.llm.generate(texts, self.params, use_tqdm=False)]


def vllm_available() -> bool:
    return importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()


def load_generator(
    path: str | Path,
    backend: GenerationBackend = "auto",
    device: Device = "auto",
    dtype: DType = "auto",
    threads: int | None = None,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    max_prompt_tokens: int = DEFAULT_MAX_PROMPT_TOKENS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    timeout_s: float | None = None,
) -> Generator | VllmGenerator:
    """A `generate(prompts) -> completions` callable for the model at `path` (safetensors only)."""
    if backend == "vllm" or (backend == "auto" and vllm_available()):
        check_safetensors_only(Path(path))
        return VllmGenerator(Path(path), max_new_tokens, max_prompt_tokens)
    loaded = load_model(path, device, dtype, threads)
    return Generator(loaded, max_new_tokens, max_prompt_tokens, batch_size, timeout_s)
