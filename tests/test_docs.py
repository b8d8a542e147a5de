"""The README's configuration table against the settings object: every variable on both sides.

A row of the table starts with "| `RANKSTREAM_"; its first cell names one variable or several
separated by " / ". Each `Settings` field is read from its env prefix plus the field's name upper-cased.
Ignores descriptions and defaults (they are prose, checked by review).
"""

import re
from pathlib import Path

from worker.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
ROW_START = "| `RANKSTREAM_"
VARIABLE = re.compile(r"`(RANKSTREAM_[A-Z0-9_]+)`")


def table_variables(text: str) -> list[str]:
    """The variables named in the first cell of each configuration-table row, in order."""
    names = []
    for line in text.splitlines():
        if line.startswith(ROW_START):
            for part in line.split("|")[1].split(" / "):
                match = VARIABLE.fullmatch(part.strip())
                assert match, f"not a `RANKSTREAM_*` name in the first cell: {part.strip()!r} ({line})"
                names.append(match.group(1))
    return names


def settings_variables() -> set[str]:
    prefix = Settings.model_config["env_prefix"]
    return {prefix + name.upper() for name in Settings.model_fields}


def test_the_parser_reads_single_and_grouped_rows() -> None:
    text = "| `RANKSTREAM_A` | `1` | |\n| `RANKSTREAM_B` / `RANKSTREAM_C_D` | x / y | z |\nprose `RANKSTREAM_E`\n"
    assert table_variables(text) == ["RANKSTREAM_A", "RANKSTREAM_B", "RANKSTREAM_C_D"]


def test_readme_configuration_table_lists_every_setting() -> None:
    documented = table_variables(README.read_text(encoding="utf-8"))
    assert len(documented) == len(set(documented)), "a variable is listed twice"
    expected = settings_variables()
    missing = sorted(expected - set(documented))
    stale = sorted(set(documented) - expected)
    assert not missing, f"settings missing from the README's configuration table: {missing}"
    assert not stale, f"README rows for variables that are not settings: {stale}"
