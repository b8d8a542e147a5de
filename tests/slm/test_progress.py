"""Progress off a terminal: plain lines with counts, share, elapsed time, ETA and the latest note."""

import re

import pytest

from slm.progress import PlainProgress, progress, tracked


def test_plain_lines_say_how_far_and_how_long(capsys: pytest.CaptureFixture[str]) -> None:
    shown = PlainProgress("training", total=4, completed=1, every_s=0.0)
    shown.advance(info="loss 0.512")
    shown.advance()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"training: 2/4 \(50%\), 0m00s, ETA 0m\d\ds, loss 0\.512", lines[0])
    assert lines[1].startswith("training: 3/4 (75%), 0m00s") and lines[1].endswith(", loss 0.512")


def test_off_a_terminal_progress_ends_with_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(tracked(["a", "b", "c"], "scoring compressed")) == ["a", "b", "c"]
    assert capsys.readouterr().out == "scoring compressed: 3/3 (100%), 0m00s\n"
    with progress("quiet", 2, enabled=False) as shown:
        shown.advance(2)
    assert capsys.readouterr().out == ""
