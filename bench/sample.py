"""The one ranking sample of the benchmarks: the evaluation's queries and candidates (`slm.eval`).

`ranking_sample(onet_dir, queries, seed)` -> (EvalSet, postings): a seeded subsample
(`slm.data.subsample`) of the O*NET test split's queries (`slm.data.split_queries`), in that order,
each with BM25's top 50 postings (`slm.eval.evaluate.first_stage`), their graded judgments and BM25
scores; and the candidate postings by job id (sorted). `first(evals, n)`: its first n queries.
The same lists `rankstream model eval` ranks, so bench and evaluation numbers describe one task.

Ignores contexts: each benchmark builds the kind it measures from the postings.
"""

from dataclasses import fields
from pathlib import Path

from schemas import JobPosting
from slm.data import Bm25, Split, load_onet, split_queries, subsample
from slm.eval.evaluate import EvalSet, first_stage

SPLIT: Split = "test"
SEED = 0


def ranking_sample(onet_dir: Path, queries: int, seed: int = SEED) -> tuple[EvalSet, dict[str, JobPosting]]:
    onet = load_onet(onet_dir)
    evals = first_stage(onet, Bm25(onet.postings), subsample(split_queries(onet)[SPLIT], queries, seed))
    return evals, {j: onet.by_id[j] for j in sorted({j for c in evals.candidates for j in c})}


def first(evals: EvalSet, n: int) -> EvalSet:
    return EvalSet(*(getattr(evals, f.name)[:n] for f in fields(evals)))
