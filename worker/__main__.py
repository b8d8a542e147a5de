"""`rankstream-worker [--role postings|queries|all]`, or `python -m worker`: run until SIGTERM.

What the production images run (they carry no CLI, demo or training code); the `rankstream worker`
command calls the same `main`.
"""

import signal
import threading
from typing import Annotated

import typer

from worker.settings import Role, Settings
from worker.startup import guard


def main(role: Annotated[Role, typer.Option(help="Which topics to consume.")] = "all") -> None:
    """Run the worker until SIGTERM (drains, commits, exits 0)."""
    # Handlers first: a SIGTERM while the service's packages import (torch: seconds) or the model
    # loads still stops the worker cleanly (exit 0), not by the signal's default action.
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    from worker.service import run_worker

    raise typer.Exit(run_worker(Settings(), role, stop))


def run() -> None:
    """The console script: a configuration or startup error prints its fix, not a traceback."""
    guard(lambda: typer.run(main))


if __name__ == "__main__":
    run()
