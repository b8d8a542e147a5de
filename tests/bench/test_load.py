"""`bench.load` end to end on the tiny model: its quick form (with a short soak) starts a real broker,
Redis and worker, measures every phase, writes the JSON and the plot, and stops what it started."""

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.load import DEADLINE_MS, DEADLINE_PHASE, HALF, LOADS, SOAK_PHASE
from bench.load_queue import sojourns
from bench.load_report import soak_trend
from bench.load_stack import RssSample
from bench.load_traffic import PERCENTILES
from tests.slm.test_data_onet import ONET_DIR

# Start-up (~20 s), a 40-query burst, seven 3 s phases and their drains: about a minute on a busy
# 2-core machine.
RUN_TIMEOUT_S = 300
PHASE_SECONDS = "3"  # the tiny model answers hundreds of queries a second: every phase still sends
# A soak of 3 s: the phase is there, not its growth.
SOAK_MINUTES = "0.05"


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _run(args: list[str]) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([sys.executable, "-m", "bench.load", *args], stdout=subprocess.PIPE, text=True)
    try:
        out, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the bench stops its worker and services on SIGTERM
        out, _ = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out)


def test_the_quick_run_measures_every_phase_and_stops_what_it_started(tiny_model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    args = ["--quick", "--model", str(tiny_model_dir), "--onet-dir", str(ONET_DIR), "--out", str(out)]
    done = _run([*args, "--phase-seconds", PHASE_SECONDS, "--soak-minutes", SOAK_MINUTES])
    assert done.returncode == 0, done.stdout
    result = json.loads(out.read_text())
    assert not any(_answers(port) for port in result["ports"].values())  # broker, Redis and worker are gone

    phases = [r["phase"] for r in result["rows"]]
    assert phases == ["max", *(f"{load:.0%}" for load in LOADS), DEADLINE_PHASE, SOAK_PHASE]
    for row in result["rows"]:
        assert row["sent"] > 0 and row["lost"] == 0 and row["answered"] == row["sent"], row
        assert all(row[f"p{p}_ms"] > 0 for p in PERCENTILES), row
        assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
    deadline = result["rows"][phases.index(DEADLINE_PHASE)]
    assert deadline["deadline_ms"] == DEADLINE_MS and 0 <= deadline["within_deadline"] <= 1
    assert result["engine"]["items_per_s"] > 0 and result["engine"]["query_mean_ms"] > 0

    rss = {p["phase"]: p for p in result["rss"]}
    assert set(phases) - {"max"} <= set(rss)  # a burst can be over within a sample interval
    assert all(0 < p["start_mb"] <= p["max_mb"] for p in rss.values())
    checks = {c["measure"]: c for c in result["versus_engine"]}
    assert checks[f"P99 at {HALF} load / engine's mean ms per query"]["value"] > 0
    assert checks["soak RSS trend, % per 10 min after 1 min"]["value"] is not None
    assert "O*NET" in result["attribution"] and out.with_suffix(".png").stat().st_size > 0


def test_the_simulated_servers_have_the_m_m_1_and_processor_sharing_figures() -> None:
    """Exponential service (mean 1 s) at Poisson 0.5/s: first come first served, the time in system
    is exponential with rate 1 - 0.5, so its P99 is ln(100) / 0.5 = 9.21 s; shared, its mean is
    E[S] / (1 - rho) = 2 s for any service distribution, here a two-point one."""
    calls = np.random.default_rng(1).exponential(1.0, 50_000)
    assert np.percentile(sojourns(calls, 0.5, "fcfs"), 99) == pytest.approx(np.log(100) / 0.5, rel=0.06)
    assert sojourns([0.5, 1.5], 0.5, "shared").mean() == pytest.approx(2.0, rel=0.05)
    assert np.percentile(sojourns([1.0], 1e-6, "shared"), 99) == pytest.approx(1.0), "alone: its service time"


def test_the_soak_trend_is_the_fitted_line_after_the_warm_up_not_the_swing_of_single_samples() -> None:
    busy = [RssSample(60.0 + t, SOAK_PHASE, 1000.0 + (200.0 if t % 2 else 0.0) + t / 60, None) for t in range(720)]
    warming = [RssSample(float(t), SOAK_PHASE, 500.0 + 8 * t, None) for t in range(60)]
    trend = soak_trend([*warming, *busy], SOAK_PHASE)
    assert trend == pytest.approx(100 * 10 / 1100, abs=0.1)  # 1 MB/min on ~1,100 MB: ~0.9% per 10 min
