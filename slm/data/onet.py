"""O*NET 27.0 as a job-search test collection: occupations are postings, reported titles are queries.

Contract: `load_onet(onet_dir) -> Onet`. Each occupation becomes a `JobPosting` (job_id = its O*NET-SOC
code; description = the occupation's description, then its core tasks one per line). Each distinct
reported title (case- and space-insensitive) is a query; its relevant occupations are every occupation
that reports it. `Onet.grades(query)` gives graded relevance: 2 for a relevant occupation, 1 for a
sibling (same first 6 characters of the code, e.g. `15-125`), 0 (absent from the dict) otherwise.

Where `onet_dir` lacks the files, `ensure_onet` downloads the official O*NET 27.0 text release (when
the network allows) and renames its three tables; otherwise it raises `OnetMissingError` naming
exactly which files to place where. The path is always an argument: nothing here reads the environment.

Ignores: every other O*NET table (skills, abilities, ...), the "Shown in My Next Move" flag, and task
metadata (dates, incumbent counts). Supplemental tasks are used only for occupations with no core task.
"""

import csv
import hashlib
import io
import urllib.request
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from schemas import JobPosting

ATTRIBUTION = (
    "This includes information from the O*NET 27.0 Database by the U.S. Department of Labor, "
    "Employment and Training Administration (USDOL/ETA). Used under the CC BY 4.0 license."
)
# The shared data beside the project (`../shared/data/`); commands take `--onet-dir` or RANKSTREAM_ONET_DIR.
DEFAULT_ONET_DIR = Path("../shared/data/onet")
OFFICIAL_URL = "https://www.onetcenter.org/dl_files/database/db_27_0_text.zip"
# Our file name -> (the table's name inside the official zip, the columns we read).
FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "occupations.tsv": ("Occupation Data.txt", ("O*NET-SOC Code", "Title", "Description")),
    "task_statements.tsv": ("Task Statements.txt", ("O*NET-SOC Code", "Task", "Task Type")),
    "reported_titles.tsv": ("Sample of Reported Titles.txt", ("O*NET-SOC Code", "Reported Job Title")),
}
# The release is ~30 MB; a stalled connection should fail over to the "place the files" message fast.
DOWNLOAD_TIMEOUT_S = 60
CODE, CORE = "O*NET-SOC Code", "Core"
# Siblings share this many leading code characters ("15-1252.00" -> "15-125"): close, partially relevant.
SIBLING_PREFIX_CHARS = 6
RELEVANT, SIBLING = 2, 1  # relevance grades; everything else is 0


class OnetMissingError(FileNotFoundError):
    """The O*NET files are absent and could not be downloaded."""


@dataclass(frozen=True)
class Query:
    """A search query (a reported job title) and the occupations it was reported for."""

    query_id: str
    text: str
    relevant: tuple[str, ...]  # O*NET-SOC codes, sorted


def sibling_group(code: str) -> str:
    return code[:SIBLING_PREFIX_CHARS]


@dataclass(frozen=True)
class Onet:
    postings: tuple[JobPosting, ...]
    queries: tuple[Query, ...]

    @cached_property
    def by_id(self) -> dict[str, JobPosting]:
        return {p.job_id: p for p in self.postings}

    @cached_property
    def groups(self) -> dict[str, tuple[str, ...]]:
        """Sibling group -> the codes in it."""
        members: dict[str, list[str]] = defaultdict(list)
        for p in self.postings:
            members[sibling_group(p.job_id)].append(p.job_id)
        return {group: tuple(codes) for group, codes in members.items()}

    def grades(self, query: Query) -> dict[str, int]:
        """Every posting with a nonzero grade for the query."""
        grades = {code: SIBLING for r in query.relevant for code in self.groups.get(sibling_group(r), ())}
        grades.update(dict.fromkeys(query.relevant, RELEVANT))
        return grades


def missing_files(onet_dir: Path) -> list[str]:
    return [name for name in FILES if not (onet_dir / name).is_file()]


def _placement_help(onet_dir: Path, missing: list[str]) -> str:
    wanted = "\n".join(
        f"  {onet_dir / name}  <- '{official}' of the release (columns: {', '.join(cols)})"
        for name, (official, cols) in FILES.items()
        if name in missing
    )
    return (
        f"O*NET 27.0 files missing from {onet_dir}. Place these tab-separated, UTF-8 files with a header "
        f"row there:\n{wanted}\nThey are tables of the official O*NET 27.0 text release ({OFFICIAL_URL}), "
        "renamed. Or point RANKSTREAM_ONET_DIR at a directory that holds them."
    )


def download_onet(onet_dir: Path, url: str = OFFICIAL_URL) -> None:
    """Fetch the official release and write its three tables under our names."""
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        archive = zipfile.ZipFile(io.BytesIO(response.read()))
    by_base = {Path(member).name: member for member in archive.namelist()}
    onet_dir.mkdir(parents=True, exist_ok=True)
    for name, (official, _) in FILES.items():
        partial = onet_dir / f"{name}.partial"
        partial.write_bytes(archive.read(by_base[official]))
        partial.rename(onet_dir / name)


def ensure_onet(onet_dir: Path, url: str | None = OFFICIAL_URL) -> Path:
    """`onet_dir`, with the files present: downloaded if needed (url None: never download)."""
    missing = missing_files(onet_dir)
    if not missing:
        return onet_dir
    if url is None:
        raise OnetMissingError(_placement_help(onet_dir, missing))
    try:
        download_onet(onet_dir, url)
    except (OSError, zipfile.BadZipFile, KeyError) as err:
        raise OnetMissingError(f"download failed ({err}).\n{_placement_help(onet_dir, missing)}") from err
    return onet_dir


def read_table(path: Path, columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Rows of an O*NET tab-separated table (no quoting), checked to carry `columns`."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        absent = [c for c in columns if c not in (reader.fieldnames or [])]
        if absent:
            raise ValueError(f"{path} lacks columns {absent}; has {reader.fieldnames}")
        yield from reader


def _tasks(onet_dir: Path) -> dict[str, list[str]]:
    """Each occupation's core tasks, or all its tasks where it has no core one; file order."""
    core: dict[str, list[str]] = defaultdict(list)
    other: dict[str, list[str]] = defaultdict(list)
    for row in read_table(onet_dir / "task_statements.tsv", FILES["task_statements.tsv"][1]):
        (core if row["Task Type"] == CORE else other)[row[CODE]].append(row["Task"].strip())
    return {code: core.get(code) or other[code] for code in core.keys() | other.keys()}


def _postings(onet_dir: Path) -> tuple[JobPosting, ...]:
    tasks = _tasks(onet_dir)
    postings = []
    for row in read_table(onet_dir / "occupations.tsv", FILES["occupations.tsv"][1]):
        lines = [row["Description"].strip(), *tasks.get(row[CODE], [])]
        postings.append(JobPosting(job_id=row[CODE], title=row["Title"].strip(), description="\n".join(lines)))
    return tuple(postings)


def normalize_query(text: str) -> str:
    return " ".join(text.split())


def query_id(text: str) -> str:
    """A stable id of a query's text (case- and space-insensitive)."""
    return "q" + hashlib.sha256(normalize_query(text).casefold().encode()).hexdigest()[:12]


def _queries(onet_dir: Path, known: set[str]) -> tuple[Query, ...]:
    texts: dict[str, str] = {}
    relevant: dict[str, set[str]] = defaultdict(set)
    for row in read_table(onet_dir / "reported_titles.tsv", FILES["reported_titles.tsv"][1]):
        text = normalize_query(row["Reported Job Title"])
        if text and row[CODE] in known:
            qid = query_id(text)
            texts.setdefault(qid, text)
            relevant[qid].add(row[CODE])
    return tuple(Query(qid, text, tuple(sorted(relevant[qid]))) for qid, text in texts.items())


def load_onet(onet_dir: Path, url: str | None = OFFICIAL_URL) -> Onet:
    """The collection from `onet_dir` (downloaded there first if absent and `url` is given)."""
    ensure_onet(onet_dir, url)
    postings = _postings(onet_dir)
    return Onet(postings, _queries(onet_dir, {p.job_id for p in postings}))
