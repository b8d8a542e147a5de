"""The service imports the scorer API and nothing of training, evaluation or the CLI.

The images delete slm/train, slm/prune, slm/data and slm/eval and never copy cli/; this proves the
worker still starts without them, and without the `train` extra's packages.
"""

import subprocess
import sys

LEFT_OUT = ("cli", "slm.train", "slm.prune", "slm.data", "slm.eval", "bm25s", "Stemmer", "bench")

PROBE = f"""
import importlib.abc, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == m or name.startswith(m + ".") for m in {LEFT_OUT!r}):
            raise ImportError(f"the service imported {{name}}")
        return None

sys.meta_path.insert(0, Refuse())
import worker.__main__, worker.service
"""


def test_the_service_imports_nothing_of_training_or_the_cli() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
