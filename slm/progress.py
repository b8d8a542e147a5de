"""Progress of a long loop (training, evaluation, pruning): a live bar on a terminal, plain lines elsewhere.

`progress(description, total)` is a context manager giving a `Progress`; `advance(n, info)` counts
work done, with a short note (loss, speed). On a terminal it is rich's bar; when stdout is a file or
a pipe (CI, `nohup`, a log collector), where a live bar shows nothing until the end, it prints a plain
line, `description: done/total (percent), elapsed, ETA, info`, at most every `PLAIN_EVERY_S` and once
at the end. `tracked(items, description)` iterates with it. Ignores what the work is.
"""

import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

# A line every half minute: a 25-minute build says it is alive ~50 times, a CI log stays readable.
PLAIN_EVERY_S = 30.0

T = TypeVar("T")


class Progress(Protocol):
    def advance(self, n: int = 1, info: str = "") -> None: ...


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


class PlainProgress:
    def __init__(self, description: str, total: int, completed: int = 0, every_s: float = PLAIN_EVERY_S) -> None:
        self.description, self.total, self.done, self.every_s = description, total, completed, every_s
        self.started_at, self.printed_at, self.first = time.monotonic(), time.monotonic(), completed
        self.info = ""

    def advance(self, n: int = 1, info: str = "") -> None:
        self.done, self.info = self.done + n, info or self.info
        if time.monotonic() - self.printed_at >= self.every_s:
            self.line()

    def line(self) -> None:
        elapsed = time.monotonic() - self.started_at
        rate = (self.done - self.first) / elapsed if elapsed > 0 else 0.0
        eta = f", ETA {_minutes((self.total - self.done) / rate)}" if rate > 0 and self.done < self.total else ""
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        info = f", {self.info}" if self.info else ""
        print(f"{self.description}: {self.done}/{self.total}{share}, {_minutes(elapsed)}{eta}{info}", flush=True)
        self.printed_at = time.monotonic()


class _Bar:
    def __init__(self, bar: RichProgress, description: str, total: int, completed: int) -> None:
        self.bar = bar
        self.task = bar.add_task(description, total=total, completed=completed, info="")

    def advance(self, n: int = 1, info: str = "") -> None:
        self.bar.update(self.task, advance=n, info=info)


@contextmanager
def progress(
    description: str, total: int, completed: int = 0, enabled: bool = True, transient: bool = True
) -> Iterator[Progress]:
    """A bar on a terminal (gone at the end if `transient`), plain lines elsewhere, nothing when not `enabled`."""
    if enabled and not Console(file=sys.stdout).is_terminal:
        plain = PlainProgress(description, total, completed)
        yield plain
        plain.line()
        return
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    tail = (TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[info]}"))
    with RichProgress(*columns, *tail, disable=not enabled, transient=transient) as bar:
        yield _Bar(bar, description, total, completed)


def tracked(items: Sequence[T], description: str) -> Iterable[T]:
    with progress(description, len(items)) as shown:
        for item in items:
            yield item
            shown.advance()
