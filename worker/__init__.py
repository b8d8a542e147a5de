"""The service: consume, validate, fetch contexts, batch, score, rank, publish, commit.

Entry point: `rankstream-worker --role postings|queries|all` (`worker.__main__`), which the `rankstream`
CLI's `worker` command calls too. Ignores the CLI, the local dev services, the demo and training.
"""

import os

# Before torch loads: idle OpenMP threads sleep instead of spinning. The worker runs the model beside
# other threads (the loop, the summarizer); spinning workers starved them 10-50x in measurements.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
