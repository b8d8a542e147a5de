"""Ranking evaluation on O*NET: metrics, the evaluation over first-stage candidates, its typed result, its table.

evaluate(model_dir, split, onet_dir, compare=[base_dir]) -> EvalResult;  print_results(result)
"""

from slm.eval.evaluate import DEFAULT_MAX_QUERIES, evaluate
from slm.eval.report import print_results
from slm.eval.results import EvalResult, EvalRow

__all__ = ["DEFAULT_MAX_QUERIES", "EvalResult", "EvalRow", "evaluate", "print_results"]
