"""What the machine can do and what a run costs it: matmul peak, process memory, the machine's facts.

- `matmul_peak(dtype)`: FLOP/s of a large square torch.mm, best of a few runs: the ceiling that
  "useful FLOPs / peak" is measured against, in the same process as the rows it judges.
- `PeakRss`: the process's resident high-water mark over a block of code. Linux keeps one mark per
  process (VmHWM); writing "5" to /proc/self/clear_refs resets it to the current RSS, so each row
  gets its own mark. It counts what is resident during the row (runtime, the row's model, its
  activations), not what earlier rows freed: freed heap is returned to the OS first (malloc_trim).
- `peak_rss_mb()`: the process's mark so far (what a fresh process reports at its end).
- `machine()`: the CPU, threads, OpenMP wait policy, bf16 support and versions a result is read with.
"""

import contextlib
import ctypes
import os
import platform
import time
from pathlib import Path

import torch

# Large enough that the GEMM runs at its sustained rate, small enough for ~1 s per measurement.
PEAK_MATMUL_SIZE = 2048
PEAK_REPEATS = 5


def matmul_peak(dtype: torch.dtype, size: int = PEAK_MATMUL_SIZE, repeats: int = PEAK_REPEATS) -> float:
    """Best FLOP/s of `repeats` back-to-back size x size matmuls, after one warm-up."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


class PeakRss:
    """`with PeakRss() as rss: ...` then `rss.mb`: the process's RSS high-water mark inside the block."""

    def __enter__(self) -> "PeakRss":
        _release_free_heap()
        Path("/proc/self/clear_refs").write_text("5")
        self.mb = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        self.mb = peak_rss_mb()


def _release_free_heap() -> None:
    """Give freed malloc memory back to the OS (glibc keeps it otherwise), so the mark a row starts
    from is what is live, not what an earlier row left in the heap."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def peak_rss_mb() -> float:
    """This process's resident high-water mark (VmHWM). Unlike ru_maxrss, it belongs to the address
    space, so a child started from a large parent does not inherit the parent's mark."""
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def machine() -> dict[str, object]:
    """The facts a reader needs to compare runs across machines."""
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in flags.splitlines() if "model name" in line), "")
    return {
        "cpu": model or platform.processor(),
        "threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(OpenMP default)"),
        "avx512_bf16": "avx512_bf16" in flags,
        "amx_bf16": "amx_bf16" in flags,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
