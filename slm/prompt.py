"""The scoring prompt, split into the pieces that multi-item scoring shares and repeats.

A scored sequence is `lead + first + middle + second + tail`, each piece tokenized on its own and
concatenated, so a context's token ids can be computed once (at compression time) and reused for
every query. `prefix(first)` is what multi-item scoring shares, `item(second)` what it repeats. The
score is read at the last token of `tail`, where the model would answer.

Three styles, named in a model's manifest (`prompt`, `slm.manifest`); a model without one gets `CHAT`:
- `chat-v1`: the tokenizer's chat template (rendered around sentinels and split), so any instruct
  model gets its own format zero-shot; plain text where the tokenizer has no template. Its template
  and instruction cost ~25 tokens per item.
- `compact-v1`, for trained models: no chat template; the instruction sits in the prefix (paid once
  per row), and each item carries only a ~3-token head and tail; the labels are " yes" / " no", the
  natural next token after "Answer:". First the query, then the job.
- `job-first-v1`, for trained models: the compact text with the job first. The job (~80 tokens) is
  the shared prefix and each query (~13 tokens with the middle and tail) an item, so one posting is
  scored for many queries at a fraction of the tokens: training sees ~2.2x the queries per second
  (`slm.data.blocks`).
Changing any text of a style changes what a trained model expects: add a new style name instead.
"""

from dataclasses import dataclass
from typing import Literal, cast, get_args

from transformers import PreTrainedTokenizerBase

PromptStyle = Literal["chat-v1", "compact-v1", "job-first-v1"]
STYLES: tuple[PromptStyle, ...] = get_args(PromptStyle)
CHAT: PromptStyle = "chat-v1"
COMPACT: PromptStyle = "compact-v1"
JOB_FIRST: PromptStyle = "job-first-v1"
PROMPT_VERSION = "rankstream-prompt-v1"  # the chat style's text, as older manifests record it
INSTRUCTION = "Does this job match the search query? Answer yes or no."
# The answer tokens of each style; score = P(yes) / (P(yes) + P(no)).
LABELS: dict[PromptStyle, tuple[str, str]] = {CHAT: ("yes", "no"), COMPACT: (" yes", " no"), JOB_FIRST: (" yes", " no")}
# A query is a search-box string; cap its tokens so one request cannot blow up the prefix.
MAX_QUERY_TOKENS = 64

_QUERY, _JOB = "\x00QUERY\x00", "\x00JOB\x00"
# Newlines around the slots: BPE splits there anyway, so separately tokenized pieces stay natural.
_COMPACT_TEXT = f"{INSTRUCTION}\nSearch query:\n{_QUERY}\nJob:\n{_JOB}\nAnswer:"
_JOB_FIRST_TEXT = f"{INSTRUCTION}\nJob:\n{_JOB}\nSearch query:\n{_QUERY}\nAnswer:"


@dataclass(frozen=True)
class PromptPieces:
    """Token ids of the fixed parts of the prompt, plus the two label tokens."""

    lead: tuple[int, ...]  # everything before the first slot (preamble, instruction, its label)
    middle: tuple[int, ...]  # between the slots
    tail: tuple[int, ...]  # after the second slot, up to where the answer starts
    yes_id: int
    no_id: int
    style: PromptStyle = CHAT

    @property
    def job_first(self) -> bool:
        """The job is the first slot (the shared prefix) and the query the second."""
        return self.style == JOB_FIRST

    def prefix(self, first_ids: list[int]) -> list[int]:
        return [*self.lead, *first_ids]

    def item(self, second_ids: list[int]) -> list[int]:
        return [*self.middle, *second_ids, *self.tail]


def _chat_text(tokenizer: PreTrainedTokenizerBase) -> str:
    user = f"Search query:\n{_QUERY}\nJob posting:\n{_JOB}\n{INSTRUCTION}"
    if not tokenizer.chat_template:
        return f"{user}\nAnswer:"
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": user}], tokenize=False, add_generation_prompt=True
    )


def _split(text: str) -> tuple[str, str, str]:
    """The text around its two slots, in the order they appear."""
    first, second = sorted((_QUERY, _JOB), key=text.index)
    lead, rest = text.split(first)
    middle, tail = rest.split(second)
    return lead, middle, tail


def label_token_id(tokenizer: PreTrainedTokenizerBase, label: str) -> int:
    """The single token a label is; refuse tokenizers that split it (the score would be ill-defined)."""
    ids = tokenizer.encode(label, add_special_tokens=False)
    if len(ids) != 1:
        raise ValueError(f"label {label!r} is {len(ids)} tokens in this tokenizer; need exactly 1")
    return ids[0]


def prompt_style(name: str) -> PromptStyle:
    """`name` as a style, or a ValueError listing the known ones."""
    if name not in STYLES:
        raise ValueError(f"unknown prompt style {name!r}; known: {', '.join(STYLES)}")
    return cast(PromptStyle, name)


def build_pieces(tokenizer: PreTrainedTokenizerBase, style: PromptStyle = CHAT) -> PromptPieces:
    style = prompt_style(style)
    texts = {CHAT: _chat_text(tokenizer), COMPACT: _COMPACT_TEXT, JOB_FIRST: _JOB_FIRST_TEXT}
    lead, middle, tail = _split(texts[style])
    encode = tokenizer.encode
    yes, no = LABELS[style]
    return PromptPieces(
        lead=tuple(encode(lead, add_special_tokens=True)),
        middle=tuple(encode(middle, add_special_tokens=False)),
        tail=tuple(encode(tail, add_special_tokens=False)),
        yes_id=label_token_id(tokenizer, yes),
        no_id=label_token_id(tokenizer, no),
        style=style,
    )
