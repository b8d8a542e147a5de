"""The metrics table of docs/metrics.md, read by the tests that hold it to the worker and to deploy/.

`documented_metrics()` is the set of names in the first column of the table in the "Metrics"
section; `metric_names(promql)` the rankstream and process metrics a query reads, a histogram's
`_bucket`, `_sum` and `_count` series named by the histogram.
"""

import re
from pathlib import Path

METRICS_DOC = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"
_ROW = re.compile(r"^\| `([a-z_]+)`", re.MULTILINE)
_METRIC = re.compile(r"\b((?:rankstream|process)_[a-z0-9_]+)\b")
_HISTOGRAM_SERIES = re.compile(r"_(bucket|sum|count)$")


def documented_metrics() -> set[str]:
    section = METRICS_DOC.read_text().split("\n## Metrics\n")[1].split("\n## ")[0]
    return set(_ROW.findall(section))


def metric_names(promql: str) -> set[str]:
    names = set(_METRIC.findall(promql))
    documented = documented_metrics()
    return {_HISTOGRAM_SERIES.sub("", n) if _HISTOGRAM_SERIES.sub("", n) in documented else n for n in names}
