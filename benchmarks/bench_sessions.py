"""Many sessions: throughput (sessions per minute) serially, with 2 worker processes and on a dask LocalCluster.

Run from a clean checkout::

    python benchmarks/bench_sessions.py                 # 8 sessions of 5 000 ROIs (one 1024² plane)
    python benchmarks/bench_sessions.py --sessions 4 --rois 2000

Each mode computes every session from scratch (``cellector compute``'s code path, with no
cache) and prints the wall time, sessions per minute and the peak memory of one worker
process (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import FRAME


def _folders(data: Path, sessions: int, rois: int) -> list[Path]:
    from cellector.io.datasets import make_suite2p_folder

    out = []
    for i in range(sessions):
        folder = data / f"s{rois}-{i}"
        if not (folder / "suite2p").is_dir():
            make_suite2p_folder(folder, n_planes=1, n_rois=rois, shape=FRAME, seed=i)
        out.append(folder / "suite2p")
    return out


def _clear(roots: list[Path]) -> None:
    for r in roots:
        shutil.rmtree(r / "cellector", ignore_errors=True)


def _worker_peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=8)
    p.add_argument("--rois", type=int, default=5000)
    p.add_argument("--data", type=Path, help="folder for the synthetic sessions (kept between runs)")
    args = p.parse_args(argv)
    data = args.data or Path(tempfile.mkdtemp(prefix="cellector-bench-"))
    roots = _folders(data, args.sessions, args.rois)

    from dask.distributed import Client, LocalCluster

    from cellector.study.batch import SessionJob, run_jobs

    jobs = [SessionJob("compute", str(r)) for r in roots]
    print(
        f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}; {args.sessions} sessions of "
        f"{args.rois} ROIs on one {FRAME[0]}x{FRAME[1]} plane each"
    )
    print(f"{'mode':<28} {'wall s':>7} {'sessions/min':>13} {'worker peak GB':>15}")
    _clear(roots)
    run_jobs(jobs[:1])  # warm the numba cache
    for label, kwargs in (("serial (1 process)", {"workers": 1}), ("--workers 2", {"workers": 2})):
        _clear(roots)
        t = time.perf_counter()
        results = run_jobs(jobs, **kwargs)
        wall = time.perf_counter() - t
        assert all(r.ok and not r.skipped for r in results), results
        # the pool's workers are the forkserver's children, not ours: their memory is the cluster line's
        peak = f"{_worker_peak() / 1e9:.2f}" if kwargs["workers"] == 1 else "-"
        print(f"{label:<28} {wall:>7.1f} {60 * len(jobs) / wall:>13.1f} {peak:>15}", flush=True)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        _clear(roots)
        t = time.perf_counter()
        results = run_jobs(jobs, scheduler=cluster.scheduler_address)
        wall = time.perf_counter() - t
        assert all(r.ok and not r.skipped for r in results), results
        peak = max(client.run(_worker_peak).values())
        print(f"{'LocalCluster (2 workers)':<28} {wall:>7.1f} {60 * len(jobs) / wall:>13.1f} {peak / 1e9:>15.2f}")


if __name__ == "__main__":
    main()
