"""The data behind `bench.compression`, read from the shared data directory (never copied here).

    linkedin_postings(data_dir)   -> the 665 real LinkedIn postings (CC BY-SA 4.0)
    skillspan_postings(data_dir)  -> SkillSpan's 263 postings with their skill spans (MIT)
    span_recall(spans, text)      -> the share of a posting's skill spans a text keeps

The ranking part reads the benchmarks' ranking sample instead (`bench.sample`: O*NET, CC BY 4.0);
`ATTRIBUTION` names all three sources. Ignores every column the benchmark does not need.
"""

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from compressor.preview import read_postings
from schemas import JobPosting
from slm.data.onet import ATTRIBUTION as ONET_ATTRIBUTION

ATTRIBUTION = {
    "linkedin": 'Postings: "LinkedIn Job Postings (2023-2024)" by Arsh Koneru, doi:10.34740/KAGGLE/DSV/9200871, '
    "CC BY-SA 4.0.",
    "skillspan": "SkillSpan (Zhang et al., NAACL 2022), MIT license.",
    "onet": ONET_ATTRIBUTION,
}
_WORD = re.compile(r"[^\W_]+(?:[+#]+)?")


def words(text: str) -> list[str]:
    """Lowercase words, keeping C++/C# whole: the unit of skill matching."""
    return _WORD.findall(text.lower())


def linkedin_postings(data_dir: Path) -> list[JobPosting]:
    files = sorted((data_dir / "postings").glob("linkedin_postings_*.csv"))
    return [p for f in files for _, p in read_postings(f) if isinstance(p, JobPosting)]


@dataclass(frozen=True)
class SkillPosting:
    posting: JobPosting
    spans: list[tuple[str, ...]]  # each annotated skill or knowledge span, as lowercase words


def _spans(tokens: list[str], tags: list[str]) -> list[tuple[str, ...]]:
    spans: list[list[str]] = []
    for token, tag in zip(tokens, tags, strict=True):
        if tag == "B" or (tag == "I" and not spans):
            spans.append([])
        if tag in ("B", "I"):
            spans[-1].append(token)
        elif spans and spans[-1]:
            spans.append([])
    return [tuple(w) for span in spans if (w := words(" ".join(span)))]


def skillspan_postings(data_dir: Path) -> list[SkillPosting]:
    """Sentences grouped by (file, source, idx) back into postings; the first sentence is the title."""
    groups: dict[tuple[str, str, int], list[dict]] = defaultdict(list)
    for file in sorted((data_dir / "postings" / "skillspan").glob("*.json")):
        for line in file.read_text().splitlines():
            row = json.loads(line)
            groups[(file.name, row["source"], row["idx"])].append(row)
    postings = []
    for (file, source, idx), rows in groups.items():
        lines = [" ".join(r["tokens"]) for r in rows]
        spans = [s for r in rows for tags in (r["tags_skill"], r["tags_knowledge"]) for s in _spans(r["tokens"], tags)]
        posting = JobPosting(job_id=f"{file}:{source}:{idx}", title=lines[0][:300], description="\n".join(lines[1:]))
        postings.append(SkillPosting(posting, spans))
    return postings


def span_recall(spans: list[tuple[str, ...]], text: str) -> float:
    """The share of spans whose every word survives in the text."""
    kept = set(words(text))
    return sum(all(w in kept for w in span) for span in spans) / max(len(spans), 1)
