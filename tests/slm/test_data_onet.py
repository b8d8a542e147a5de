"""The O*NET loader: postings, queries and grades from the real files; download and its failure path."""

import zipfile
from functools import cache
from pathlib import Path

import pytest

from slm.data.onet import FILES, RELEVANT, SIBLING, Onet, OnetMissingError, load_onet, query_id

ONET_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "onet"


@cache
def real_onet() -> Onet:
    """The real O*NET 27.0 collection (../shared/data/onet), loaded once per test session."""
    return load_onet(ONET_DIR, url=None)


@pytest.fixture()
def onet() -> Onet:
    return real_onet()


def test_every_occupation_is_a_posting_with_its_core_tasks(onet: Onet) -> None:
    assert len(onet.postings) == 1016  # O*NET 27.0's occupation table
    dev = onet.by_id["15-1252.00"]
    assert dev.title == "Software Developers"
    lines = dev.description.splitlines()
    assert lines[0].startswith("Research, design, and develop computer and network software")
    assert (
        "Analyze user needs and software requirements to determine feasibility of design within time "
        "and cost constraints." in lines[1:]
    )


def test_reported_titles_are_deduplicated_queries(onet: Onet) -> None:
    assert len(onet.queries) == 6390  # 7,541 reported titles, case- and space-insensitive
    assert len({q.query_id for q in onet.queries}) == len(onet.queries)
    assert query_id("operations  MANAGER ") == query_id("Operations Manager")


def test_grades_own_occupation_2_siblings_1(onet: Onet) -> None:
    query = next(q for q in onet.queries if q.query_id == query_id("Operations Manager"))
    assert query.relevant == ("11-1021.00", "11-3051.04")
    grades = onet.grades(query)
    assert grades["11-1021.00"] == grades["11-3051.04"] == RELEVANT
    assert grades["11-3051.01"] == SIBLING  # shares "11-305" with 11-3051.04
    assert "15-1252.00" not in grades
    assert set(grades.values()) == {RELEVANT, SIBLING}


def test_absent_files_without_network_say_what_to_place_where(tmp_path: Path) -> None:
    with pytest.raises(OnetMissingError) as info:
        load_onet(tmp_path / "onet", url=None)
    message = str(info.value)
    for name, (official, _) in FILES.items():
        assert str(tmp_path / "onet" / name) in message and official in message
    assert "RANKSTREAM_ONET_DIR" in message


def test_failed_download_falls_back_to_the_placement_help(tmp_path: Path) -> None:
    with pytest.raises(OnetMissingError, match="download failed"):
        load_onet(tmp_path / "onet", url=(tmp_path / "nowhere.zip").as_uri())


def _official_release(tmp_path: Path) -> Path:
    """A miniature of the official text release: its table names, inside a versioned folder."""
    tables = {
        "Occupation Data.txt": "O*NET-SOC Code\tTitle\tDescription\n"
        "15-1252.00\tSoftware Developers\tDevelop software.\n"
        "15-1253.00\tSoftware Quality Assurance Analysts\tTest software.\n",
        "Task Statements.txt": "O*NET-SOC Code\tTask ID\tTask\tTask Type\n"
        "15-1252.00\t1\tWrite code.\tCore\n15-1252.00\t2\tAttend meetings.\tSupplemental\n"
        "15-1253.00\t3\tFile bug reports.\tSupplemental\n",
        "Sample of Reported Titles.txt": "O*NET-SOC Code\tReported Job Title\tShown in My Next Move\n"
        "15-1252.00\tPython Developer\tY\n15-1253.00\tQA Tester\tN\n",
    }
    archive = tmp_path / "db_27_0_text.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in tables.items():
            zf.writestr(f"db_27_0_text/{name}", text)
    return archive


def test_download_writes_the_release_tables_under_our_names(tmp_path: Path) -> None:
    onet = load_onet(tmp_path / "onet", url=_official_release(tmp_path).as_uri())
    assert sorted(p.name for p in (tmp_path / "onet").iterdir()) == sorted(FILES)
    assert onet.by_id["15-1252.00"].description == "Develop software.\nWrite code."  # core tasks only
    assert onet.by_id["15-1253.00"].description == "Test software.\nFile bug reports."  # no core: all
    python = next(q for q in onet.queries if q.text == "Python Developer")
    assert onet.grades(python) == {"15-1252.00": RELEVANT, "15-1253.00": SIBLING}


def test_a_table_without_the_expected_columns_is_refused(tmp_path: Path) -> None:
    onet_dir = tmp_path / "onet"
    load_onet(onet_dir, url=_official_release(tmp_path).as_uri())
    (onet_dir / "reported_titles.tsv").write_text("code\ttitle\n15-1252.00\tDev\n")
    with pytest.raises(ValueError, match="lacks columns"):
        load_onet(onet_dir, url=None)
