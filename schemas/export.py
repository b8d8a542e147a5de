"""JSON Schema files for the wire contracts, for producers and consumers in other languages."""

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.dead_letters import DeadLetter
from schemas.postings import POSTING_EVENT
from schemas.queries import SearchQuery
from schemas.results import RankedResults

_MODELS: dict[str, type[BaseModel]] = {
    "search-query": SearchQuery,
    "ranked-results": RankedResults,
    "dead-letter-headers": DeadLetter,
}


def json_schemas() -> dict[str, dict]:
    """Every contract's JSON Schema, by file stem."""
    schemas = {"job-posting": POSTING_EVENT.json_schema()}
    schemas.update({name: model.model_json_schema() for name, model in _MODELS.items()})
    return schemas


def export_json_schemas(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = out_dir / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
