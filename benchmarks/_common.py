"""What the benchmark scripts share: command-line sizes, the synthetic folders, the child process."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PER_PLANE = 5_000
FRAME = (1024, 1024)


def parse_args(doc: str, sizes: tuple[int, ...], argv: list[str] | None) -> tuple[list[int], Path]:
    """ROI counts to run and the data folder (``--data``, kept between runs; default a temporary one)."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("sizes", nargs="*", type=int, default=list(sizes))
    p.add_argument("--data", type=Path, help="folder for the synthetic sessions (kept between runs)")
    args = p.parse_args(argv)
    data = args.data or Path(tempfile.mkdtemp(prefix="cellector-bench-"))
    data.mkdir(parents=True, exist_ok=True)
    return args.sizes, data


def make_folder(data: Path, n: int) -> Path:
    """Write (once) the synthetic folder for ``n`` ROIs (1024² planes, 5 000 ROIs each); its suite2p root."""
    from cellector.io.datasets import make_suite2p_folder

    out = data / f"rois{n}"
    if not (out / "suite2p").is_dir():
        planes = max(1, n // PER_PLANE)
        make_suite2p_folder(out, n_planes=planes, n_rois=n // planes, shape=FRAME, seed=1)
    return out / "suite2p"


def run_child(code: str, root: Path) -> dict:
    """Run ``code`` in a fresh Python process on ``root``; the JSON it prints last.

    ``"process"`` is added: the wall time of the whole process, start-up and exit included.
    """
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True)
    process = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{r.stderr[-3000:]}")
    return {**json.loads(r.stdout.strip().splitlines()[-1]), "process": process}


def machine_pace() -> float:
    """Seconds for a fixed pure-Python loop (median of three): how fast this machine is right now.

    Shared VMs drift by tens of percent within an hour; printing this beside the figures
    says which of two runs was made on a slower machine.
    """
    times = []
    for _ in range(3):
        t = time.perf_counter()
        s = 0
        for i in range(2_000_000):
            s += i * i % 7
        times.append(time.perf_counter() - t)
    return sorted(times)[1]
