"""Ranking evaluation on O*NET: metrics, the evaluation over first-stage candidates, its table.

evaluate(model_dir, split, onet_dir, compare=[base_dir]) -> dict;  print_results(result)
"""

from slm.eval.evaluate import DEFAULT_MAX_QUERIES, evaluate
from slm.eval.report import print_results

__all__ = ["DEFAULT_MAX_QUERIES", "evaluate", "print_results"]
