"""Postings from a CSV or JSONL file, and a before/after preview of their compression.

    read_postings(path) -> iterator of (row number, JobPosting | error message)
    preview(path, compressor, encode) -> iterator of printable lines   # `rankstream compress FILE`

JSONL rows are posting events as on the wire. CSV rows use the JobPosting field names or the
LinkedIn dataset's columns (company_name, formatted_experience_level, formatted_work_type,
remote_allowed); a "skills" column is comma-separated. A row that breaks the contract yields its
validation error instead of a posting and reading goes on. Ignores every other column.
"""

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from compressor.budget import Encode
from compressor.extractive import header
from compressor.factory import Compressor
from schemas import JobPosting
from schemas.limits import MAX_MESSAGE_BYTES

# The first column present wins: LinkedIn has both "work_type" (FULL_TIME) and the readable one.
_CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "job_id": ("job_id", "id"),
    "title": ("title",),
    "description": ("description",),
    "company": ("company", "company_name"),
    "location": ("location",),
    "seniority": ("seniority", "formatted_experience_level"),
    "work_type": ("formatted_work_type", "work_type"),
}
_REMOTE = {"1", "1.0", "true", "True", "yes"}

Row = tuple[int, JobPosting | str]


def _from_csv_row(row: dict[str, str], number: int) -> dict:
    fields: dict = {"job_id": str(number)}
    for field, columns in _CSV_COLUMNS.items():
        value = next((row[c] for c in columns if row.get(c)), None)
        if value is not None:
            fields[field] = value
    if row.get("remote_allowed") in _REMOTE:
        fields["work_type"] = ", ".join(filter(None, [fields.get("work_type"), "Remote"]))
    if row.get("skills"):
        fields["skills"] = [s.strip() for s in row["skills"].split(",") if s.strip()]
    return fields


def _validate(number: int, raw: dict | str) -> Row:
    try:
        if isinstance(raw, str):
            return number, JobPosting.model_validate_json(raw)
        return number, JobPosting.model_validate(raw)
    except ValidationError as exc:
        return number, f"invalid posting: {exc.error_count()} error(s): {exc.errors()[0]['msg']}"


def _csv_rows(file: TextIO) -> Iterator[Row]:
    csv.field_size_limit(MAX_MESSAGE_BYTES * 4)  # real descriptions exceed csv's 128 KB default
    number = 0
    try:
        for number, row in enumerate(csv.DictReader(file), start=1):
            yield _validate(number, _from_csv_row(row, number))
    except csv.Error as exc:  # past a malformed row the reader cannot find the next one
        yield number + 1, f"unreadable CSV, stopped here: {exc}"


def read_postings(path: Path) -> Iterator[Row]:
    """Each row's posting, or why it is not one. Row numbers count data rows from 1."""
    with path.open(newline="", encoding="utf-8", errors="replace") as file:
        if path.suffix.lower() == ".csv":
            yield from _csv_rows(file)
        else:
            for number, line in enumerate(filter(str.strip, file), start=1):
                yield _validate(number, line) if line.lstrip().startswith("{") else (number, "not a JSON object")


def full_text(posting: JobPosting) -> str:
    """The uncompressed context: the header fields and the whole description."""
    return f"{header(posting)}\n{posting.description}"


def preview(path: Path, compressor: Compressor, encode: Encode, limit: int | None = None) -> Iterator[str]:
    """Lines showing each posting before and after compression, with token counts."""
    for number, item in read_postings(path):
        if limit is not None and number > limit:
            return
        if isinstance(item, str):
            yield f"── row {number}: skipped, {item}"
            continue
        before = full_text(item)
        after = compressor.compress_many_encoded([item], encode)[0]
        n_before, n_after = len(encode([before])[0]), len(after.token_ids)
        yield f"── row {number} · {item.job_id} · {n_before} → {n_after} tokens ({n_before / max(n_after, 1):.1f}x)"
        yield f"before:\n{before.strip()}"
        yield f"after ({after.compressor}):\n{after.text}\n"
