"""Feature computation from scratch: wall time and whole-process peak memory.

Run from a clean checkout::

    python benchmarks/bench_features.py            # 1 000, 20 000 and 100 000 ROIs
    python benchmarks/bench_features.py 20000      # one size

Each size is a synthetic suite2p folder of 1024 x 1024 planes with 5 000 ROIs per
plane (1 000 ROIs: one plane). The folder is written once (``--data``, default a
temporary folder), then a fresh Python process reads it and computes every feature
with no saved features; that process reports its wall time (read + compute) and its
peak resident memory (``ru_maxrss``, what ``/usr/bin/time -v`` reports). "process" is
the whole process's wall time, interpreter start-up and exit included, which is what
the target is about; "cellector compute" is the same for the command a user runs (its
state kept in a temporary ``--store``, so the folder stays as it was). The band-pass
kernel stays in the user's cache folder between runs, as it does for users (the first
run on a new frame size pays ~0.5 s more).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import FRAME, PER_PLANE, machine_pace, make_folder, parse_args, run_child

SIZES = (1_000, 20_000, 100_000)
TARGETS = {20_000: (3.5, 1.5), 100_000: (20.0, 3.0)}  # seconds, GB

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from cellector.roi_processor.create import create_from_suite2p
rp = create_from_suite2p(sys.argv[1], autocompute=False, use_saved=False, save_features=False)
t1 = time.perf_counter()
rp.compute_features()
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"n": rp.num_rois, "read": t1 - t0, "compute": t2 - t1, "wall": t2 - t0, "peak": peak,
                  "features": list(rp.features)}))
"""


REPEAT = 5  # runs per size; the machine's timings vary by ~20 % from run to run


def main(argv: list[str] | None = None) -> None:
    sizes, data = parse_args(__doc__, SIZES, argv)
    run_child(_CHILD, make_folder(data, 1_000))  # warm the numba cache so no size pays compilation
    print(
        f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}; frame {FRAME[0]}x{FRAME[1]}, "
        f"{PER_PLANE} ROIs per plane; median of {REPEAT} runs (process: min-max)"
    )
    head = f"{'ROIs':>8} {'planes':>6} {'read s':>7} {'compute s':>9} {'wall s':>7} {'process s':>13} {'peak GB':>8}"
    print(f"{head} {'cellector compute s':>19}  target  (pace: a fixed loop's seconds, lower is faster)")
    for n in sizes:
        t = time.perf_counter()
        root = make_folder(data, n)
        made = time.perf_counter() - t
        pace = machine_pace()
        runs = [run_child(_CHILD, root) for _ in range(REPEAT)]
        r = {k: statistics.median(run[k] for run in runs) for k in ("read", "compute", "wall", "process", "peak")}
        lo, hi = min(run["process"] for run in runs), max(run["process"] for run in runs)
        command = statistics.median(_command(root) for _ in range(REPEAT))
        target = TARGETS.get(n)
        tgt = f"<= {target[0]:g} s, <= {target[1]:g} GB" if target else "-"
        print(
            f"{runs[0]['n']:>8} {max(1, n // PER_PLANE):>6} {r['read']:>7.2f} {r['compute']:>9.2f} {r['wall']:>7.2f} "
            f"{r['process']:>5.2f} ({lo:.1f}-{hi:.1f}) {r['peak'] / 1e9:>8.2f} {command:>19.2f}  {tgt}",
            f"  (pace {pace:.2f} s; folder written in {made:.1f} s)",
            flush=True,
        )


def _command(root: Path) -> float:
    """Wall time of the command a user runs, ``cellector compute ROOT`` (state kept in a temporary --store)."""
    with tempfile.TemporaryDirectory() as store:
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "cellector.study.cli", "compute", str(root), "--store", store],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t


if __name__ == "__main__":
    main()
