"""`bench.faults`' table and plot.

`print_table(result)`: one line per scenario: queries sent, answered, lost, duplicates (differing from
their first copy), false `missing_context`, the scenario's faults and its own figure, the longest
answer, crashes, and its verdict (the checks that failed). `write_plot(result, path)`: each scenario's
answer latency against when its query was sent, one panel each. Ignores how anything was measured.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from bench.runner import print_rows, save_figure  # noqa: E402

COLUMNS = ("scenario", "faults", "sent", "answered", "lost", "dup (differ)", "false missing", "figure", "max s",
           "crashes", "verdict")  # fmt: skip
ATTRIBUTION = "synthetic postings and queries (bench.faults_data), tiny random model"


def faults(row: dict) -> str:
    """What was done to the system in this scenario."""
    if "kills" in row:
        return f"{row['kills']} kill -9"
    if "joins" in row:
        return f"{row['joins']} joins, {row['leaves']} leaves"
    if "faults" in row:
        return ", ".join(row["faults"])
    if "bad_sent" in row:
        return f"{row['bad_sent']} bad, {row['kinds']} kinds"
    return f"{row['deletes']} deletes, {row['updates']} updates"


def figure(row: dict) -> str:
    """The scenario's own figure."""
    if "verdicts" in row:
        v = row["verdicts"]
        wrong = sum(n for k, n in v.items() if k not in ("as of the query", "newer (table ahead)"))
        return f"{v.get('as of the query', 0)} as of, {v.get('newer (table ahead)', 0)} newer, {wrong} wrong"
    if "dead_lettered" in row:
        return f"{row['dead_lettered']} dead-lettered, {row['wrong_reason']} wrong reason"
    if "rebuild_s" in row:
        rebuilding = row["unscored"].get("context_store_rebuilding", 0)
        return f"rebuilt in {row['rebuild_s']} s, {rebuilding} unscored rebuilding"
    if "scored_after" in row:
        unavailable = row["unscored"].get("context_store_unavailable", 0)
        return f"{unavailable} unscored unavailable, {row['scored_after']} scored after"
    if "new_postings_stored" in row:
        return f"{row['new_postings_stored']} new postings stored"
    return f"max score diff {row['max_score_diff']:.1e}"


def print_table(result: dict) -> None:
    rows = [
        (
            row["scenario"],
            faults(row),
            str(row["sent"]),
            str(row["answered"]),
            str(row["lost"]),
            f"{row['duplicates']} ({row['differing']})",
            str(row["false_missing"]),
            figure(row),
            f"{row['max_latency_s']:.1f}",
            str(len(row["crashes"])),
            ", ".join(k for k, ok in row["checks"].items() if not ok) or "pass",
        )
        for row in result["rows"]
    ]
    print_rows(f"rankstream under faults ({'quick' if result['quick'] else 'full'} run)", COLUMNS, rows, left=2)


def write_plot(result: dict, path: Path) -> None:
    rows = result["rows"]
    fig, axes = plt.subplots(len(rows), 1, figsize=(9, 2.2 * len(rows)), squeeze=False)
    for axis, row in zip(axes[:, 0], rows, strict=True):
        points = row["latency"]
        axis.plot([p[0] for p in points], [p[1] for p in points], ".", markersize=2)
        axis.set_title(f"{row['scenario']}: {faults(row)}", fontsize=8)
        axis.set_ylabel("answer (s)", fontsize=7)
    axes[-1, 0].set_xlabel("seconds since the scenario's first query")
    save_figure(fig, path, ATTRIBUTION)
