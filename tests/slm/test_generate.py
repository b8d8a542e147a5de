"""Batched greedy generation, mechanics only (tiny random model with the real tokenizer): order,
determinism, left padding, bounds, the deadline and the chat rendering."""

from pathlib import Path

import pytest

from slm.generate import GenerationTimeout, Generator, load_generator, render, vllm_available

PROMPTS = ["Summarize: nurse, ICU, night shifts, BLS and ACLS required.", "Hi", "Role of a data engineer in retail?"]


@pytest.fixture(scope="module")
def generator(tiny_model_dir: Path) -> Generator:
    generate = load_generator(
        tiny_model_dir, backend="auto", device="cpu", dtype="float32", max_new_tokens=6, batch_size=3
    )
    assert isinstance(generate, Generator)  # no vLLM and no GPU here
    return generate


def test_one_deterministic_completion_per_prompt_in_order(generator: Generator) -> None:
    first = generator(PROMPTS)
    assert len(first) == len(PROMPTS) and all(isinstance(text, str) for text in first)
    assert generator(PROMPTS) == first
    assert generator(PROMPTS[::-1]) == first[::-1]


def test_left_padded_batches_match_one_prompt_at_a_time(generator: Generator) -> None:
    batched = generator(PROMPTS)
    alone = Generator(generator.loaded, max_new_tokens=6, batch_size=1)
    assert alone(PROMPTS) == batched


def test_completions_are_bounded_by_max_new_tokens(generator: Generator) -> None:
    tokenizer = generator.loaded.tokenizer
    assert all(len(tokenizer.encode(text, add_special_tokens=False)) <= 6 for text in generator(PROMPTS))


def test_deadline_raises_instead_of_returning_partial_text(generator: Generator) -> None:
    late = Generator(generator.loaded, max_new_tokens=50, timeout_s=1e-6)
    with pytest.raises(GenerationTimeout):
        late(PROMPTS)


def test_render_uses_the_chat_template_and_cuts_long_prompts(generator: Generator) -> None:
    tokenizer = generator.loaded.tokenizer
    rendered = render(tokenizer, "word " * 1000, max_prompt_tokens=20)
    assert "<|im_start|>user" in rendered and rendered.rstrip().endswith("<|im_start|>assistant")
    assert rendered.count("word") == 20


def test_a_chat_ending_with_the_assistant_is_continued(generator: Generator) -> None:
    chat = [
        {"role": "user", "content": "Example posting"},
        {"role": "assistant", "content": "Role: Cook"},
        {"role": "user", "content": "word " * 100},
        {"role": "assistant", "content": "Role:"},
    ]
    rendered = render(generator.loaded.tokenizer, chat, max_prompt_tokens=10)
    assert rendered.endswith("<|im_start|>assistant\nRole:") and "Role: Cook<|im_end|>" in rendered
    assert rendered.count("word") == 10  # only the last user message is cut
    [completion] = generator([chat])
    assert isinstance(completion, str) and not completion.startswith("Role:")


def test_vllm_is_only_chosen_where_it_can_run() -> None:
    assert vllm_available() is False
