"""Feature computation from scratch: wall time and whole-process peak memory.

Run from a clean checkout::

    python benchmarks/bench_features.py            # 1 000, 20 000 and 100 000 ROIs
    python benchmarks/bench_features.py 20000      # one size

Each size is a synthetic suite2p folder of 1024 x 1024 planes with 5 000 ROIs per
plane (1 000 ROIs: one plane). The folder is written once (``--data``, default a
temporary folder), then a fresh Python process reads it and computes every feature
with no cache; that process reports its wall time (read + compute) and its peak
resident memory (``ru_maxrss``), which is what ``/usr/bin/time -v`` reports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (1_000, 20_000, 100_000)
PER_PLANE = 5_000
FRAME = (1024, 1024)
TARGETS = {20_000: (3.5, 1.5), 100_000: (20.0, 3.0)}  # seconds, GB

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from cellector.io.base import create_from_suite2p
rp = create_from_suite2p(sys.argv[1], autocompute=False, use_saved=False, save_features=False)
t1 = time.perf_counter()
rp.compute_features()
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"n": rp.num_rois, "read": t1 - t0, "compute": t2 - t1, "wall": t2 - t0, "peak": peak,
                  "features": list(rp.features)}))
"""


def make_folder(data: Path, n: int) -> Path:
    """Write (once) the synthetic folder for ``n`` ROIs and return its suite2p root."""
    from cellector.datasets import make_suite2p_folder

    out = data / f"rois{n}"
    if (out / "suite2p").is_dir():
        return out / "suite2p"
    planes = max(1, n // PER_PLANE)
    return make_suite2p_folder(out, n_planes=planes, n_rois=n // planes, shape=FRAME, seed=1).root


def run_child(root: Path) -> dict:
    """Compute every feature of ``root`` in a fresh process; returns its figures."""
    env = {**os.environ, "NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS", str(os.cpu_count()))}
    r = subprocess.run([sys.executable, "-c", _CHILD, str(root)], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sizes", nargs="*", type=int, default=list(SIZES))
    p.add_argument("--data", type=Path, help="folder for the synthetic sessions (kept between runs)")
    args = p.parse_args(argv)
    data = args.data or Path(tempfile.mkdtemp(prefix="cellector-bench-"))
    data.mkdir(parents=True, exist_ok=True)
    # warm the numba cache once so no size pays compilation
    run_child(make_folder(data, 1_000))
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}; frame {FRAME[0]}x{FRAME[1]}, "
          f"{PER_PLANE} ROIs per plane")
    print(f"{'ROIs':>8} {'planes':>6} {'read s':>7} {'compute s':>9} {'wall s':>7} {'peak GB':>8}  target")
    for n in args.sizes:
        t = time.perf_counter()
        root = make_folder(data, n)
        made = time.perf_counter() - t
        r = run_child(root)
        target = TARGETS.get(n)
        tgt = f"<= {target[0]:g} s, <= {target[1]:g} GB" if target else "-"
        print(f"{r['n']:>8} {max(1, n // PER_PLANE):>6} {r['read']:>7.2f} {r['compute']:>9.2f} {r['wall']:>7.2f} "
              f"{r['peak'] / 1e9:>8.2f}  {tgt}   (folder written in {made:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
