"""The abstractive compressor (the paper's summarizer): an instruct LLM writes a fixed-format
summary (role, seniority, key skills, domain) under the same token budget as the extractive one.

    AbstractiveCompressor(generate, budget_tokens, timeout_s, model_name).compress_many_encoded(postings, encode)

`generate(prompts) -> completions` is injected (`slm.generate.load_generator` builds one; this
package never imports `slm`); it is called once per batch. Each prompt is a chat: the instruction
with a worked example as an earlier turn, then the posting, with the reply prefilled with "Role:"
so even a 135M model keeps the format. The model reads the posting's extractive digest (header and
best segments, INPUT_TOKENS long), never the raw text, so blurbs and legal text cost no generation.

Summaries are checked, not trusted: a skill must appear in the digest (small models copy the
example or invent), a role must share a word with it, seniority must be a known level. A posting
left without skills gets its extractive context instead, and so does the whole batch when
`generate` raises or passes `timeout_s`. `Compressed.compressor` names who made each context.
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
VERSION = "1"  # bump with the prompt, the checks or the summary format
# The model reads this much of the extractive digest: most of a posting's signal, ~half its length.
INPUT_TOKENS = 192
# SmolLM2-135M summarizes a batch of 16 postings in 15-40 s on 2 CPU cores; a stuck engine stops here.
DEFAULT_TIMEOUT_S = 120.0
# The summary format takes ~40 tokens; a model looping in its skills list stops here (generation
# cost grows with it). Pass it to the engine: `load_generator(path, max_new_tokens=...)`.
SUMMARY_MAX_NEW_TOKENS = 48
# Skills kept from a summary; small models repeat themselves past this.
MAX_SKILLS = 10
# A "skill" longer than this is a sentence the model wrote instead of a list item.
MAX_SKILL_WORDS = 5
MAX_ROLE_WORDS = 12

Chat = list[dict[str, str]]
Generate = Callable[[list[Chat]], list[str]]

INSTRUCTION = (
    "Summarize the job posting for a job search engine in four lines: Role, Seniority (intern, entry, mid, "
    "senior, lead or executive), Key skills (the skills and tools the posting names, comma-separated), "
    "Domain (the industry).\n\nJob posting:\n"
)
EXAMPLE_POSTING = (
    "Maintenance Planner | Hillside Foods | Fresno, CA | Full-time\n"
    "Plan preventive maintenance for packaging lines in SAP PM\n"
    "3+ years of maintenance planning in food manufacturing\n"
    "Read electrical schematics; strong Excel"
)
EXAMPLE_SUMMARY = (
    "Role: Maintenance Planner\nSeniority: mid\n"
    "Key skills: maintenance planning, SAP PM, preventive maintenance, electrical schematics, Excel\n"
    "Domain: food manufacturing"
)
RESPONSE_PREFIX = "Role:"
SENIORITY_LEVELS = ("intern", "entry", "junior", "mid", "senior", "lead", "principal", "director", "executive")

_FIELD = re.compile(r"^[\s*#>-]*(role|seniority|key skills|skills|domain|industry)[\s*]*:[\s*]*(.*?)[\s*]*$", re.I)
_ALIASES = {"skills": "key skills", "industry": "domain"}
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
_PLACEHOLDER = re.compile(r"[<>{}]|^(n/?a|none|unknown|not (specified|mentioned))\.?$", re.I)


@dataclass(frozen=True)
class Summary:
    role: str
    seniority: str
    skills: list[str]
    domain: str

    def render(self, head: str, known_seniority: str | None = None) -> str:
        """The header, then role/seniority/domain, then skills last (the budget cuts from the end).
        A seniority the posting states (it is in the header) beats the model's guess."""
        seniority = "" if known_seniority else self.seniority
        facts = " | ".join(
            f"{k}: {v}" for k, v in (("Role", self.role), ("Seniority", seniority), ("Domain", self.domain)) if v
        )
        return f"{head}\n{facts}\nKey skills: {', '.join(self.skills)}"


def prompt(digest: str) -> Chat:
    return [
        {"role": "user", "content": INSTRUCTION + EXAMPLE_POSTING},
        {"role": "assistant", "content": EXAMPLE_SUMMARY},
        {"role": "user", "content": INSTRUCTION + digest},
        {"role": "assistant", "content": RESPONSE_PREFIX},
    ]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[^\W_]+[+#]*", text.lower()))


def _value(raw: str) -> str:
    text = " ".join(raw.split()).strip(" .;")
    return "" if _PLACEHOLDER.search(text) else text


def _skills(raw: str, known: set[str]) -> list[str]:
    """Distinct list items that name something the source names, in the model's order."""
    first: dict[str, str] = {}
    for skill in map(_value, re.split(r"[,;•]", raw)):
        if skill and len(skill.split()) <= MAX_SKILL_WORDS and _words(skill) <= known:
            first.setdefault(skill.lower(), skill)
    return list(first.values())[:MAX_SKILLS]


def _seniority(raw: str) -> str:
    words = _value(raw).lower().split()
    return words[0] if words and words[0] in SENIORITY_LEVELS else ""


def _fields(completion: str) -> dict[str, str]:
    """Each field's first value; a value may go on over the lines below it (a bulleted skills
    list) until a blank line or the next field."""
    fields: dict[str, str] = {}
    current: str | None = None
    for line in completion.splitlines():
        match = _FIELD.match(line)
        if match:
            key = _ALIASES.get(match[1].lower(), match[1].lower())
            current = None if key in fields else key
            fields.setdefault(key, match[2])
        elif current and line.strip():
            fields[current] += ", " + _LIST_MARK.sub("", line)
        else:
            current = None
    return fields


def parse_summary(completion: str, source: str) -> Summary | None:
    """The summary in a completion, checked against the text it summarizes (`source`); None when
    no skill named in the source survives."""
    fields = _fields(completion)
    known = _words(source)
    skills = _skills(fields.get("key skills", ""), known)
    if not skills:
        return None
    role = _value(fields.get("role", ""))
    grounded_role = role if len(role.split()) <= MAX_ROLE_WORDS and _words(role) & known else ""
    return Summary(grounded_role, _seniority(fields.get("seniority", "")), skills, _value(fields.get("domain", "")))


def summarizer_version(model_name: str) -> str:
    """The version includes the summarizer's name: a different model writes different contexts."""
    return f"{VERSION}+{model_name}"


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
        self.version = summarizer_version(model_name)
        self.fallback = ExtractiveCompressor(budget_tokens)
        self.digest = ExtractiveCompressor(INPUT_TOKENS)
        # One worker: a timed-out call keeps it busy, so the next batch falls back instead of piling up.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="summarizer")

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def _complete(self, prompts: list[Chat]) -> list[str] | None:
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
        completions = self._complete([prompt(d) for d in digests]) or [""] * len(postings)
        summaries = [parse_summary(RESPONSE_PREFIX + c, d) for c, d in zip(completions, digests, strict=True)]
        texts = [s.render(header(p), p.seniority) for p, s in zip(postings, summaries, strict=True) if s is not None]
        fitted = iter(fit(texts, self.budget_tokens, encode))
        failed = [p for p, s in zip(postings, summaries, strict=True) if s is None]
        fallbacks = iter(self.fallback.compress_many_encoded(failed, encode))
        return [next(fallbacks) if s is None else Compressed(*next(fitted), self.id) for s in summaries]

    def compress_many(self, postings: Sequence[JobPosting], encode: Encode) -> list[str]:
        return [c.text for c in self.compress_many_encoded(postings, encode)]
