"""The abstractive compressor (the paper's summarizer): an instruct LLM writes a fixed-format
summary (role, seniority, key skills, domain) under the same token budget as the extractive one.

    AbstractiveCompressor(generate, budget_tokens, timeout_s, model_name).compress_many_encoded(postings, encode)

`generate(prompts) -> completions` is injected (`slm.generate.load_generator` builds one; this
package never imports `slm`); it is called once per batch. The model reads the posting's extractive
digest (header and best segments, INPUT_TOKENS long), never the raw text, so blurbs and legal text
cost no generation time. Each summary is parsed and checked; a posting whose summary lacks a role or
skills gets its extractive context instead, and so does the whole batch when `generate` raises or
passes `timeout_s`. `Compressed.compressor` names who made each context, so fallbacks are visible.
"""

import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from compressor.budget import Encode, fit
from compressor.extractive import DEFAULT_BUDGET_TOKENS, Compressed, ExtractiveCompressor, header
from schemas import JobPosting

log = logging.getLogger(__name__)

NAME = "abstractive"
VERSION = "1"  # bump with PROMPT or the summary format
# The model reads this much of the extractive digest: most of a posting's signal, ~half its length.
INPUT_TOKENS = 192
# SmolLM2-135M summarizes a batch of 16 postings in ~20 s on 2 CPU cores; a stuck engine stops here.
DEFAULT_TIMEOUT_S = 120.0
# Skills kept from a summary; small models repeat themselves past this.
MAX_SKILLS = 10
# A "skill" longer than this is a sentence the model wrote instead of a list item.
MAX_SKILL_WORDS = 5
MAX_ROLE_WORDS = 12

Generate = Callable[[list[str]], list[str]]

PROMPT = """Summarize the job posting below for a job search engine. Reply with exactly four lines:
Role: <the job, in a few words>
Seniority: <entry, mid, senior, lead, executive, or unknown>
Key skills: <the most important skills and tools, comma-separated>
Domain: <the industry or field>

Job posting:
{posting}"""

_FIELD = re.compile(r"^[\s*#>-]*(role|seniority|key skills|skills|domain|industry)[\s*]*:[\s*]*(.*?)[\s*]*$", re.I)
_ALIASES = {"skills": "key skills", "industry": "domain"}
_PLACEHOLDER = re.compile(r"[<>{}]|^(n/?a|none|unknown|not (specified|mentioned))\.?$", re.I)


@dataclass(frozen=True)
class Summary:
    role: str
    seniority: str
    skills: list[str]
    domain: str

    def render(self, head: str) -> str:
        """The header, then role/seniority/domain, then skills last (the budget cuts from the end)."""
        facts = " | ".join(f"{k}: {v}" for k, v in (("Role", self.role), ("Seniority", self.seniority),
                                                      ("Domain", self.domain)) if v)
        return f"{head}\n{facts}\nKey skills: {', '.join(self.skills)}"


def _value(raw: str) -> str:
    text = " ".join(raw.split()).strip(" .;")
    return "" if _PLACEHOLDER.search(text) else text


def _skills(raw: str) -> list[str]:
    items = (_value(s) for s in re.split(r"[,;•]", raw))
    first: dict[str, str] = {}
    for skill in items:
        if skill and len(skill.split()) <= MAX_SKILL_WORDS:
            first.setdefault(skill.lower(), skill)
    return list(first.values())[:MAX_SKILLS]


def parse_summary(completion: str) -> Summary | None:
    """The summary in a completion, or None when it lacks a usable role or skills."""
    fields: dict[str, str] = {}
    for line in completion.splitlines():
        match = _FIELD.match(line)
        if match:
            key = match[1].lower()
            fields.setdefault(_ALIASES.get(key, key), match[2])
    role = _value(fields.get("role", ""))
    skills = _skills(fields.get("key skills", ""))
    if not role or len(role.split()) > MAX_ROLE_WORDS or not skills:
        return None
    return Summary(role, _value(fields.get("seniority", "")), skills, _value(fields.get("domain", "")))


class AbstractiveCompressor:
    name = NAME

    def __init__(
        self,
        generate: Generate,
        budget_tokens: int = DEFAULT_BUDGET_TOKENS,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        model_name: str = "llm",
    ) -> None:
        self.generate = generate
        self.budget_tokens = budget_tokens
        self.timeout_s = timeout_s
        self.version = f"{VERSION}+{model_name}"  # a different summarizer writes different contexts
        self.fallback = ExtractiveCompressor(budget_tokens)
        self.digest = ExtractiveCompressor(INPUT_TOKENS)
        # One worker: a timed-out call keeps it busy, so the next batch falls back instead of piling up.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="summarizer")

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def _complete(self, prompts: list[str]) -> list[str] | None:
        """The completions, or None when generation failed or ran past the timeout."""
        future = self._pool.submit(self.generate, prompts)
        try:
            completions = future.result(timeout=self.timeout_s)
        except TimeoutError:
            log.warning("summarizer passed %.0f s for %d postings; using extractive", self.timeout_s, len(prompts))
            return None
        except Exception:
            log.exception("summarizer failed for %d postings; using extractive", len(prompts))
            return None
        if len(completions) != len(prompts):
            log.error("summarizer returned %d completions for %d prompts", len(completions), len(prompts))
            return None
        return completions

    def compress_many_encoded(self, postings: Sequence[JobPosting], encode: Encode) -> list[Compressed]:
        if not postings:
            return []
        digests = self.digest.compress_many(postings, encode)
        completions = self._complete([PROMPT.format(posting=d) for d in digests]) or [""] * len(postings)
        summaries = [parse_summary(c) for c in completions]
        texts = [s.render(header(p)) for p, s in zip(postings, summaries, strict=True) if s is not None]
        fitted = iter(fit(texts, self.budget_tokens, encode))
        failed = [p for p, s in zip(postings, summaries, strict=True) if s is None]
        fallbacks = iter(self.fallback.compress_many_encoded(failed, encode))
        return [
            next(fallbacks) if s is None else Compressed(*next(fitted), self.id)
            for s in summaries
        ]

    def compress_many(self, postings: Sequence[JobPosting], encode: Encode) -> list[str]:
        return [c.text for c in self.compress_many_encoded(postings, encode)]
