"""The GPU benchmark's tables and plot (`bench.runner.finish` writes the JSON beside them).

Tables: the correctness checks (max |ΔP(yes)|, tolerance, verdict), the throughput sweep (items/s,
tokens/s, model TFLOP/s per attention and budget; the best marked), P50/P99 under Poisson load with
the sustained rate against LinkedIn's, and the worker's line. Plot: items/s per shape and row beside
LinkedIn's 2,200; P99 against offered items/s beside their 500 ms.

Ignores how anything was measured (`bench.gpu_checks`, `bench.gpu_speed`).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from bench.runner import print_rows  # noqa: E402


def print_tables(result: dict) -> None:
    device = result["device"]
    print(f"{result['status']} ({device['dtype']}, scale {result['scale']}, {result['seconds']:.0f} s)")
    print_rows("correctness on the device", ("model", "check", "max |ΔP|", "tolerance", "verdict"), _checks(result))
    throughput = result["throughput"]
    columns = ("shape", "attention", "budget", "items/s", "tokens/s", "model TFLOP/s", "")
    print_rows("throughput (120-token query, 10 items x 180 tokens)", columns, _speeds(throughput), left=2)
    columns = ("shape", "load", "offered items/s", "P50 ms", "P99 ms")
    print_rows("one engine under Poisson load (simulated on measured batch times)", columns, _loads(throughput))
    linkedin = throughput["linkedin"]
    bound = f"at P99 < {linkedin['p99_ms']} ms (LinkedIn: {linkedin['items_per_s']:,} per {linkedin['gpu']})"
    for shape in throughput["shapes"]:
        print(f"{shape['shape']}: {_sustained(shape)} {bound}")
    if not throughput["comparable_to_linkedin"]:
        print("not comparable to LinkedIn's figure: not the full shapes on a GPU")
    print(f"worker: {result['worker']['path']}: {result['worker']['reason']}")


def _sustained(shape: dict) -> str:
    if shape["best"] is None:
        return "no row ran"
    sustained = shape["sustained_items_per_s"]
    return "none of the loads tried" if sustained is None else f"{sustained:,.0f} items/s"


def _checks(result: dict) -> list[tuple[str, ...]]:
    rows = []
    for r in result["correctness"]["rows"]:
        if "skipped" in r:
            rows.append((r["model"], r["check"], "", "", r["skipped"]))
            continue
        verdict = ("pass" if r["passed"] else "FAIL") + (f" ({r['note']})" if r["note"] else "")
        diff = "" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.2e}"  # None: the check raised
        rows.append((r["model"], r["check"], diff, f"{r['tolerance']:.0e}", verdict))
    return rows


def _speeds(throughput: dict) -> list[tuple[str, ...]]:
    return [
        (shape["shape"], r["attention"], str(r["budget"]), *_speed(r, shape["best"]))
        for shape in throughput["shapes"]
        for r in shape["rows"]
    ]


def _speed(row: dict, best: dict | None) -> tuple[str, ...]:
    if "error" in row:
        return ("", "", "", row["error"])
    rates = (f"{row['items_per_s']:,.1f}", f"{row['tokens_per_s']:,.0f}", f"{row['model_tflop_per_s']:.2f}")
    return (*rates, "best" if row == best else "")


def _loads(throughput: dict) -> list[tuple[str, ...]]:
    return [
        (
            shape["shape"],
            f"{p['load']:.0%}",
            f"{p['offered_items_per_s']:,.1f}",
            f"{p['p50_ms']:.0f}",
            f"{p['p99_ms']:.0f}",
        )
        for shape in throughput["shapes"]
        for p in shape["poisson"]
    ]


def write_plot(result: dict, path: Path) -> None:
    throughput = result["throughput"]
    linkedin = throughput["linkedin"]
    fig, (speed, latency) = plt.subplots(1, 2, figsize=(13, 4.5))
    labels, values = [], []
    for shape in throughput["shapes"]:
        for r in (r for r in shape["rows"] if "error" not in r):
            labels.append(f"{shape['shape'].split(' (')[0]}\n{r['attention']} {r['budget']}")
            values.append(r["items_per_s"])
    speed.bar(range(len(values)), values, color="C0")
    speed.axhline(linkedin["items_per_s"], color="C3", linestyle="--", label=f"LinkedIn, one {linkedin['gpu']}")
    speed.set_xticks(range(len(labels)), labels, rotation=90, fontsize=6)
    speed.set_ylabel("items/s (log)")
    speed.set_yscale("log")  # a CPU run's bars sit two decades below LinkedIn's line
    speed.legend()
    for shape in throughput["shapes"]:
        offered = [p["offered_items_per_s"] for p in shape["poisson"]]
        latency.plot(offered, [p["p99_ms"] for p in shape["poisson"]], marker="o", label=shape["shape"])
    latency.axhline(linkedin["p99_ms"], color="C3", linestyle="--", label="LinkedIn's P99 bound")
    latency.set_xlabel("offered items/s (Poisson arrivals)")
    latency.set_ylabel("P99 ms per request (log)")
    latency.set_yscale("log")
    latency.legend(fontsize=7)
    device = result["device"]
    title = f"rankstream engine on {device['name']} ({device['dtype']}, scale {result['scale']})"
    fig.suptitle(f"{title}\n{result['status']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
