"""The benchmarks' shared edges: command line, preamble, output files, and the one ranking sample."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench.compression_runs import random_ndcg, ranking_ndcg
from bench.runner import QUERIES, QUICK_QUERIES, bench_parser, finish, parse
from bench.sample import SPLIT, first, ranking_sample
from slm.data import FIRST_STAGE_K, split_queries, subsample
from slm.eval.evaluate import EvalSet
from slm.eval.metrics import CUTOFF, ndcg
from tests.slm.test_data_onet import ONET_DIR, real_onet

DOC = """`python -m bench.x`: a benchmark
over two lines.

Details the help leaves out.
"""


def test_parser_reads_the_shared_options_and_refuses_a_missing_model(tmp_path: Path) -> None:
    parser = bench_parser(DOC, "x.json", "fewer queries", model=True, onet=True)
    assert parser.description == DOC.split("\n\n")[0]
    with pytest.raises(SystemExit, match="no model at"):
        parse(parser, ["--model", str(tmp_path)])
    (tmp_path / "rankstream.json").write_text("{}")
    args = parse(parser, ["--model", str(tmp_path), "--out", str(tmp_path / "o.json")])
    assert (args.queries, args.out, args.onet_dir.name) == (QUERIES, tmp_path / "o.json", "onet")
    assert parse(parser, ["--model", str(tmp_path), "--quick"]).queries == QUICK_QUERIES


def test_parser_applies_threads_and_adds_only_the_inputs_asked_for() -> None:
    before = torch.get_num_threads()
    try:
        args = parse(bench_parser(DOC, "x.json", "smoke run", data=True), ["--threads", "1"])
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert {"data", "home"} <= set(vars(args)) and "model" not in args and "queries" not in args
    assert args.out.parts[-3:] == ("bench", "results", "x.json")


def test_finish_prints_then_writes_the_json_and_the_plot_beside_it(tmp_path: Path) -> None:
    printed: list[dict] = []
    out = tmp_path / "deep" / "x.json"
    finish({"rows": [1]}, out, printed.append, lambda result, png: png.write_text(str(result["rows"])))
    assert printed == [{"rows": [1]}]
    assert json.loads(out.read_text()) == {"rows": [1]}
    assert out.with_suffix(".png").read_text() == "[1]"


def test_importing_bench_sets_the_process_preamble_and_keeps_what_is_set() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "TOKENIZERS_PARALLELISM")}
    code = "import os, bench; print(os.environ['OMP_WAIT_POLICY'], os.environ['TOKENIZERS_PARALLELISM'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["PASSIVE", "false"]
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ACTIVE", "false"]


def test_the_ranking_sample_is_the_evaluations_test_queries_with_bm25_candidates() -> None:
    evals, postings = ranking_sample(ONET_DIR, 3, seed=1)
    assert evals.queries == subsample(split_queries(real_onet())[SPLIT], 3, 1)
    assert all(len(c) == FIRST_STAGE_K for c in evals.candidates)
    assert set(postings) == {j for c in evals.candidates for j in c} and list(postings) == sorted(postings)
    head = first(evals, 2)
    assert (head.queries, head.judgments, head.first_scores) == (
        evals.queries[:2],
        evals.judgments[:2],
        evals.first_scores[:2],
    )


class _GradeScorer:
    """Scores a candidate (its context is its job id) by its grade for the query: the ideal ranking."""

    def __init__(self, evals: EvalSet) -> None:
        self.grades = {q.text: g for q, g in zip(evals.queries, evals.judgments, strict=True)}

    def score(self, query: str, items: list[str]) -> list[float]:
        return [float(self.grades[query].get(j, 0)) for j in items]


def test_compression_ranking_reads_the_sample_lists_and_grades() -> None:
    evals, postings = ranking_sample(ONET_DIR, 6)
    pairs = zip(evals.candidates, evals.judgments, strict=True)
    best = [ndcg(sorted(c, key=lambda j: -g.get(j, 0)), g, CUTOFF) for c, g in pairs]
    scorer = _GradeScorer(evals)
    assert ranking_ndcg(scorer, evals, {j: j for j in postings}) == best  # type: ignore[arg-type]
    assert 0.0 < random_ndcg(evals, shuffles=5) < sum(best) / len(best)
