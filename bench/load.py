"""`python -m bench.load [--quick] [--model DIR] [--phase-seconds S] [--burst N] [--soak-minutes M]`:
sustained load on the whole pipeline (broker, Redis, one worker) against the engine alone.

Workload: the evaluation's O*NET test-split queries (`bench.sample`, all 545 in a seeded order, those
with candidates, cycled when a run needs more), each with BM25's top 50 as `candidate_job_ids` and
their BM25 scores as `candidate_scores`. In order, in one run:
1. the engine alone, in this process before anything else runs: the worker's own scorer (its default
   token budget and prefix cache, from the same settings), fresh, scoring the first `--burst` queries
   one per call (what the worker's batcher forms: a 50-candidate query is over the token budget
   alone) -> items/s and mean ms per query;
2. Tansu, Redis and one `rankstream-worker --role all` (`bench.load_stack`: default settings but
   ports, model and home); all 1,016 O*NET postings produced, and waited for until stored;
3. the pipeline's maximum: the same `--burst` queries produced at once, to a worker whose prefix cache
   is as fresh as the engine's was -> queries/s and items/s until the last result is read;
4. open-loop Poisson arrivals (seeded) at 25, 50, 80, 100 and 120% of that maximum, `--phase-seconds`
   each, then 120% again with every query carrying `deadline_ms` 1000, then, with `--soak-minutes`,
   a soak at 80%; each phase waits for its answers before the next (`bench.load_traffic`): end-to-end
   P50/P95/P99 (produce -> result read), results/s, answered, lost, degraded, and for the deadline
   phase the share answered within its deadline + 100 ms;
5. the worker's RSS every second throughout, by phase: at its start and end, growth, maximum.
Versus the engine alone: pipeline items/s at its maximum / the engine's (the issue's goal: >= 0.90),
P99 at 50% load / the engine's mean ms per query (goal: <= 2); the soak's RSS growth (goal: <= 5% over
10 minutes at 80%) and the maximum RSS (goal: <= 2 GB with default settings).
Prints the tables, writes bench/results/load.json and load.png (`bench.load_plot`).

Duration: about 1 min of start-up, twice the burst at the model's speed (engine, then pipeline), and six
phases of `--phase-seconds` plus their drains, plus the soak. The default model (~1 query/s on this
machine's 2 cores) with the defaults (100-query burst, 60 s phases): about 12 minutes; `--phase-seconds
30 --burst 50` about 6. `--quick` (5 s phases, 40-query burst) is a smoke run: ~1 minute on a tiny model.
A short phase at a low rate has few answers: its P99 is near its maximum.
On the local broker (Tansu) a fetch is answered late, up to `fetch.wait.max.ms`: part of the latency is
the broker's (docs/results.md); RANKSTREAM_KAFKA_OPTIONS reaches the worker and the bench's clients.

Ignores ranking quality (`rankstream model eval`, `bench.serving`).
"""

import gc
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.load_plot import write_plot
from bench.load_report import print_tables, rss_phases, soak_trend, versus_engine
from bench.load_stack import Stack, stack_settings
from bench.load_traffic import Traffic
from bench.runner import bench_parser, described, finish, parse
from bench.sample import first
from bench.serving import serve, workload
from slm.data import load_onet
from slm.data.contexts import ContextsByJob
from slm.eval.evaluate import EvalSet
from worker.service import build_parts
from worker.settings import Settings

LOADS = (0.25, 0.5, 0.8, 1.0, 1.2)  # of the measured maximum (the points)
HALF = f"{0.5:.0%}"  # the phase of LOADS the latency goal is set at
DEADLINE_LOAD, DEADLINE_MS = 1.2, 1000  # overload, with a deadline of about one default-model query
DEADLINE_PHASE = f"{DEADLINE_LOAD:.0%} deadline"
SOAK_LOAD = 0.8  # the soak: 10 minutes at 80%
SOAK_PHASE = f"soak {SOAK_LOAD:.0%}"
WHOLE_SPLIT = 545  # the O*NET 27.0 test split's queries: a run cycles through all of them
PHASE_SECONDS, QUICK_PHASE_SECONDS = 60, 5  # ~60 answers at 25% of one query/s (the default model)
BURST, QUICK_BURST = 100, 40  # ~100 s of the default model's work: a steady rate, not a start-up spike
# A phase's answers may trail its last send by the backlog of 120% load (a fifth of the phase) and a
# query's scoring: the phase's length again plus this is ample, and a query unanswered by then is lost.
DRAIN_FLOOR_S = 30.0
# The burst's answers come within the engine's time for them, on a machine shared with the services;
# three times it (plus the floor) is ample.
BURST_TIMEOUT_FACTOR = 3.0
# The settings recorded with a run: those that shape what the worker does under load.
KNOBS = {"token_budget", "prefix_cache_mb", "max_inflight_requests", "batch_linger_ms", "threads"}


@dataclass(frozen=True)
class Plan:
    burst: int  # queries of the engine-alone run and of the burst
    phase_seconds: float
    soak_minutes: float  # 0: no soak


def answerable(evals: EvalSet) -> EvalSet:
    """The queries BM25 found candidates for (a query needs at least one)."""
    rows = zip(evals.queries, evals.candidates, evals.judgments, evals.first_scores, strict=True)
    return EvalSet(*map(tuple, zip(*[row for row in rows if row[1]], strict=True)))


def payloads(evals: EvalSet) -> list[dict]:
    rows = zip(evals.queries, evals.candidates, evals.first_scores, strict=True)
    return [{"query": q.text, "candidate_job_ids": list(c), "candidate_scores": list(s)} for q, c, s in rows]


def engine_alone(settings: Settings, evals: EvalSet, contexts: ContextsByJob) -> dict:
    """The worker's scorer, built from its settings, over the queries one per call."""
    scorer = build_parts(settings, "queries").scorer
    assert scorer is not None
    row, _, calls = serve(scorer, settings.prefix_cache_mb, evals, contexts)
    del scorer
    gc.collect()  # the worker gets the memory back
    mean_ms = round(1e3 * row["seconds"] / len(evals.queries), 1)
    return {**row, "queries": len(evals.queries), "query_mean_ms": mean_ms, "call_s": [round(c, 4) for c in calls]}


def phase(
    stack: Stack, traffic: Traffic, name: str, rate: float, seconds: float, seed: int, deadline_ms: int | None = None
) -> dict:
    stack.phase = name
    traffic.poisson(name, rate, seconds, seed, deadline_ms)
    traffic.wait(name, seconds + DRAIN_FLOOR_S)
    stack.check_worker()
    row = {"phase": name, "target_qps": round(rate, 3), "seconds": seconds, **traffic.stats(name)}
    print(f"  {name}: {row['answered']} of {row['sent']} answered, P50 {row['p50_ms']} ms, P99 {row['p99_ms']} ms")
    return row


def maximum(stack: Stack, traffic: Traffic, burst: int, engine_s: float) -> dict:
    stack.phase = "max"
    traffic.burst("max", burst)
    traffic.wait("max", BURST_TIMEOUT_FACTOR * engine_s + DRAIN_FLOOR_S)
    stack.check_worker()
    row = {"phase": "max", "target_qps": None, "seconds": None, **traffic.stats("max")}
    if not row["answered"]:
        raise RuntimeError(f"none of the {burst} queries of the burst was answered")
    print(f"  maximum: {row['results_per_s']} queries/s, {row['items_per_s']} items/s")
    return row


def loads(stack: Stack, traffic: Traffic, max_qps: float, plan: Plan) -> list[dict]:
    seconds = plan.phase_seconds
    rows = [phase(stack, traffic, f"{load:.0%}", load * max_qps, seconds, i) for i, load in enumerate(LOADS)]
    rows.append(phase(stack, traffic, DEADLINE_PHASE, DEADLINE_LOAD * max_qps, seconds, len(LOADS), DEADLINE_MS))
    if plan.soak_minutes:
        rows.append(phase(stack, traffic, SOAK_PHASE, SOAK_LOAD * max_qps, 60 * plan.soak_minutes, len(LOADS) + 1))
    return rows


def measure(
    settings: Settings, env: dict[str, str], onet_dir: Path, evals: EvalSet, plan: Plan, engine_s: float
) -> dict:
    """Steps 2 to 5: the stack up, the postings stored, the burst and the phases; the stack down."""
    with Stack.up(settings, env) as stack:
        stored_s = stack.store_postings(load_onet(onet_dir).postings)
        traffic = Traffic(settings, payloads(evals))
        try:
            top = maximum(stack, traffic, plan.burst, engine_s)
            rows = [top, *loads(stack, traffic, top["results_per_s"], plan)]
        finally:
            traffic.close()
        samples = stack.samples
    rss = rss_phases(samples)
    return {
        "postings_stored_s": round(stored_s, 1),
        "ports": stack.ports(),
        "rows": rows,
        "rss": rss,
        "soak_trend_pct": soak_trend(samples, SOAK_PHASE),
        "rss_samples": [[s.seconds, s.phase, s.mb, s.cache_mb] for s in samples],
    }


def run(model: Path, onet_dir: Path, plan: Plan, threads: int | None) -> dict:
    started = time.monotonic()
    evals, contexts = workload(model, onet_dir, WHOLE_SPLIT)
    evals = answerable(evals)
    with tempfile.TemporaryDirectory(prefix="rankstream-load-") as home:
        settings, env = stack_settings(model, Path(home), threads)
        engine = engine_alone(settings, first(evals, plan.burst), contexts)
        print(f"  engine alone: {engine['items_per_s']} items/s, {engine['query_mean_ms']} ms per query")
        measured = measure(settings, env, onet_dir, evals, plan, engine["seconds"])
    rows, knobs = measured.pop("rows"), settings.model_dump(include=KNOBS)
    result = described(model, len(evals.queries), rows, **asdict(plan), settings=knobs, engine=engine, **measured)
    result["versus_engine"] = versus_engine(engine, rows, measured["rss"], measured["soak_trend_pct"], HALF)
    result["wall_s"] = round(time.monotonic() - started, 1)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = bench_parser(
        __doc__, "load.json", f"{QUICK_PHASE_SECONDS} s phases, {QUICK_BURST}-query burst", model=True, onet=True
    )
    parser.add_argument("--phase-seconds", type=float, help=f"per load phase (default {PHASE_SECONDS})")
    parser.add_argument("--burst", type=int, help=f"queries of the engine-alone run and the maximum (default {BURST})")
    parser.add_argument("--soak-minutes", type=float, default=0.0, help=f"a soak at {SOAK_LOAD:.0%} load; 0: none")
    args = parse(parser, argv)
    seconds = args.phase_seconds or (QUICK_PHASE_SECONDS if args.quick else PHASE_SECONDS)
    burst = args.burst or (QUICK_BURST if args.quick else BURST)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))  # stop what was started, then exit
    result = run(args.model, args.onet_dir, Plan(burst, seconds, args.soak_minutes), args.threads)
    finish(result, args.out, print_tables, write_plot)


if __name__ == "__main__":
    main()
