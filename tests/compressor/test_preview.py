"""Reading postings from CSV (our fields or LinkedIn's columns) and JSONL, and the before/after preview."""

import csv
import json
from pathlib import Path

from compressor import Encode, ExtractiveCompressor
from compressor.preview import preview, read_postings
from schemas import JobPosting

LINKEDIN_ROW = {
    "job_id": "921716",
    "company_name": "Corcoran",
    "title": "Marketing Coordinator",
    "location": "Princeton, NJ",
    "description": "Who you are:\nProficient in Adobe Creative Cloud.\nBenefits:\nPaid time off",
    "formatted_work_type": "Full-time",
    "work_type": "FULL_TIME",
    "formatted_experience_level": "Entry level",
    "remote_allowed": "1.0",
    "views": "20",
}


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_linkedin_csv_columns_map_to_the_posting(tmp_path: Path) -> None:
    [(number, posting)] = read_postings(write_csv(tmp_path / "p.csv", [LINKEDIN_ROW]))
    assert number == 1 and isinstance(posting, JobPosting)
    assert (posting.job_id, posting.company, posting.seniority, posting.work_type) == (
        "921716",
        "Corcoran",
        "Entry level",
        "Full-time, Remote",
    )
    assert posting.description.startswith("Who you are:\nProficient")


def test_bad_rows_yield_errors_and_reading_goes_on(tmp_path: Path) -> None:
    rows = [
        {"title": "", "description": "x", "skills": ""},
        {"title": "Nurse", "description": "ICU", "skills": "BLS, ACLS"},
    ]
    got = list(read_postings(write_csv(tmp_path / "p.csv", rows)))
    assert got[0][0] == 1 and isinstance(got[0][1], str) and got[0][1].startswith("invalid posting")
    assert isinstance(got[1][1], JobPosting) and got[1][1].skills == ["BLS", "ACLS"] and got[1][1].job_id == "2"
    lines = ['{"job_id": "a", "title": "Nurse", "description": "ICU"}', "", "not json", '{"job_id": 5}']
    (tmp_path / "p.jsonl").write_text("\n".join(lines))
    kinds = [type(item).__name__ for _, item in read_postings(tmp_path / "p.jsonl")]
    assert kinds == ["JobPosting", "str", "str"]


def test_a_malformed_csv_stops_with_a_clear_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [{"title": "Nurse", "description": "ICU"}])
    path.write_text(path.read_text() + 'Cook,"' + "x" * (3 * 1024 * 1024) + '"\n')
    got = list(read_postings(path))
    assert isinstance(got[0][1], JobPosting) and got[1][0] == 2 and got[1][1].startswith("unreadable CSV")


def test_preview_shows_before_after_and_token_counts(tmp_path: Path, encode: Encode) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"job_id": f"j{i}", "title": "Nurse", "description": "ICU nurse. " * 50}) for i in range(3)
        )
    )
    lines = list(preview(path, ExtractiveCompressor(32), encode, limit=2))
    assert len(lines) == 6 and lines[0].startswith("── row 1 · j0 · ") and "→" in lines[0]
    before, after = int(lines[0].split(" · ")[2].split()[0]), int(lines[0].split("→ ")[1].split()[0])
    assert before > 100 and 0 < after <= 32
    assert lines[2].startswith("after (extractive@2):\nNurse\n")
