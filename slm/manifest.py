"""The model manifest: `rankstream.json`, the record a model directory carries beside its weights.

Contract: `read_manifest(dir) -> Manifest` (an empty one where the directory has none) and
`write_manifest(dir, manifest)`. Who writes what: `slm.weights` (fetch-base, tiny) an untrained
model's name, source, prompt version and label ids; `slm.train.build` a trained model's base, prompt
style, labels, compressor budget, training summary, evaluation, build time and attribution (and a
pruned base's pruning record; a pruned build's teacher record); `slm.prune` the source's manifest
with a pruning record, without its evaluation. Every field is optional (a base model records less
than a trained one, older manifests lack newer fields) and fields this code does not know are kept
and written back, so old manifests keep loading. Written as sorted, indented JSON: the fields that
were set, less the top-level ones that are None (absent reads as None), so a manifest is written
back as it was read.
"""

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from transformers import PreTrainedTokenizerBase

from slm.prompt import CHAT, PromptPieces, PromptStyle, build_pieces, prompt_style

MANIFEST = "rankstream.json"  # written beside the weights by `rankstream model build|tiny|fetch-base|prune`
Metrics = dict[str, float]  # metric ("ndcg@10") -> value, rounded to 4 places


class ManifestRecord(BaseModel):
    """A part of the manifest: frozen, and keeping fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="allow")


class LabelIds(ManifestRecord):
    yes: int
    no: int


class CompressorRecord(ManifestRecord):
    id: str  # the compressor's name@version
    budget_tokens: int


class TrainingRecord(ManifestRecord):
    data: str
    queries: int
    lists: int
    steps: int
    resumed_from_step: int | None = None
    tokens: int  # this invocation's only: a resumed build counts the steps since its checkpoint
    seconds: float
    seed: int
    trained: str  # which layers
    final_loss: float
    config: dict[str, Any]  # `slm.train.TrainConfig`, field by field


class Calibration(ManifestRecord):
    split: str
    queries: int
    tokens: int


class OutputError(ManifestRecord):
    mean: float
    max: float
    per_layer: list[float]


class PruningRecord(ManifestRecord):
    method: str
    source: str  # the pruned model's name
    keep: float
    intermediate_size: tuple[int, int]  # before, after
    parameters: tuple[int, int]  # before, after
    calibration: Calibration
    output_error: OutputError | None = None  # the MLPs' (None: none pruned)
    seconds: float
    non_embedding_parameters: tuple[int, int] | None = None  # before, after
    attention_heads: tuple[int, int] | None = None  # query heads per layer, before, after
    key_value_heads: tuple[int, int] | None = None
    layers: tuple[int, int] | None = None
    attention_error: OutputError | None = None  # the output projections' (heads pruned)
    dropped_layers: list[int] | None = None  # layer drop: which
    drop_errors: list[float] | None = None  # layer drop: each layer's score error when skipped alone


class SplitEvaluation(ManifestRecord):
    """One split's evaluation (`slm.eval`) as a build records it."""

    queries: int
    queries_in_split: int
    bm25: Metrics
    model: Metrics
    model_blended_with_bm25: Metrics | None = None  # with its first_stage_weight


class TeacherRecord(ManifestRecord):
    """A pruned, distilled model's teacher: the unpruned model it was cut from, kept beside it."""

    name: str
    path: str  # the teacher's directory, relative to the student's parent
    parameters: int
    non_embedding_parameters: int
    evaluation: dict[str, SplitEvaluation] | None = None


class Manifest(ManifestRecord):
    name: str | None = None
    base_model: str | None = None  # where the weights came from, in words
    base_name: str | None = None  # the base's name (`slm.weights.bases`), or the directory it was trained from
    trained: bool | None = None
    prompt: Annotated[PromptStyle, BeforeValidator(prompt_style)] | None = None  # None: CHAT
    prompt_version: str | None = None  # the chat style's text, as older manifests record it
    labels: tuple[str, str] | None = None
    label_token_ids: LabelIds | None = None
    compressor: CompressorRecord | None = None
    training: TrainingRecord | None = None
    pruning: PruningRecord | None = None
    teacher: TeacherRecord | None = None
    evaluation: dict[str, SplitEvaluation] | None = None  # split -> its evaluation
    build_seconds: float | None = None
    attribution: str | None = None

    def pieces(self, tokenizer: PreTrainedTokenizerBase) -> PromptPieces:
        """The prompt pieces of the style this manifest names (the chat style when it names none)."""
        return build_pieces(tokenizer, self.prompt or CHAT)


def read_manifest(path: Path) -> Manifest:
    file = path / MANIFEST
    return Manifest.model_validate_json(file.read_text()) if file.exists() else Manifest()


def write_manifest(path: Path, manifest: Manifest) -> None:
    absent = {name for name in Manifest.model_fields if getattr(manifest, name) is None}
    data = manifest.model_dump(mode="json", exclude_unset=True, exclude=absent)
    (path / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
