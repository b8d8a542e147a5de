"""The data behind `bench.compression`, read from the shared data directory (never copied here).

    linkedin_postings(data_dir)            -> the 665 real LinkedIn postings (CC BY-SA 4.0)
    skillspan_postings(data_dir)           -> SkillSpan's 263 postings with their skill spans (MIT)
    onet_ranking_sample(data_dir, n, k, seed) -> queries (O*NET reported titles) with k candidates each,
                                              over postings built from occupations (`slm.data.onet`, CC BY 4.0)

Small on purpose: lists of k candidates (the relevant occupation, its siblings, hard and random
negatives) so ranking runs in minutes on a CPU. Ignores every column the benchmark does not need.
"""

import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from compressor.preview import read_postings
from schemas import JobPosting
from slm.data.onet import ATTRIBUTION as ONET_ATTRIBUTION
from slm.data.onet import load_onet

ATTRIBUTION = {
    "linkedin": 'Postings: "LinkedIn Job Postings (2023-2024)" by Arsh Koneru, doi:10.34740/KAGGLE/DSV/9200871, '
    "CC BY-SA 4.0.",
    "skillspan": "SkillSpan (Zhang et al., NAACL 2022), MIT license.",
    "onet": ONET_ATTRIBUTION,
}
# Hard negatives share the query occupation's broad group (first 5 SOC code characters, e.g. 15-12).
HARD_PREFIX = 5
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


@dataclass(frozen=True)
class RankingQuery:
    text: str
    candidates: list[str]  # O*NET-SOC codes (the postings' job ids)
    grades: dict[str, int]  # nonzero grades only


def onet_ranking_sample(
    data_dir: Path, n_queries: int, n_candidates: int, seed: int = 0
) -> tuple[list[RankingQuery], dict[str, JobPosting]]:
    """Reported titles, each with a list: its occupations and their siblings, hard negatives from the
    same broad group (first 5 code characters), random ones to fill."""
    onet = load_onet(data_dir / "onet", url=None)
    rng = random.Random(seed)
    codes = sorted(onet.by_id)
    queries = []
    for query in rng.sample(sorted(onet.queries, key=lambda q: q.query_id), n_queries):
        grades = onet.grades(query)
        graded = sorted(grades, key=lambda c: -grades[c])[: n_candidates // 2]
        near = [c for c in codes if c not in grades and c[:HARD_PREFIX] == query.relevant[0][:HARD_PREFIX]]
        picked = graded + rng.sample(near, min(len(near), n_candidates // 4))
        picked += rng.sample([c for c in codes if c not in picked], n_candidates - len(picked))
        rng.shuffle(picked)
        queries.append(RankingQuery(query.text, picked, {c: grades[c] for c in picked if c in grades}))
    return queries, dict(onet.by_id)
