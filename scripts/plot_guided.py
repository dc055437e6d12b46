"""Plot how fast guided review reaches the ground truth on the genuine test sets.

    python scripts/plot_guided.py [OUT_DIR]       # default docs/images

A simulated curator starts with no cutoffs and twelve times labels ``review_queue()[0]``
from the ground truth, then applies ``suggest_criteria()``. Writes ``guided.png`` (F1 of
the selection against the number of labels) and prints the figures docs/cutoffs.md
quotes: F1 after 4, 8 and 12 labels, and each feature's AUC against the ground truth.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
SETS = ("suite2p-0.14-1plane", "suite2p-1.1-2planes")
DOCS_IMAGES = REPO / "docs" / "images"


def _truth(root: Path) -> np.ndarray:
    planes = sorted(p.name for p in root.iterdir() if p.name.startswith("plane"))
    parts = [np.load(root.parent / "ground_truth" / f"{p}_roi_truth.npz")["truth_red"] for p in planes]
    return np.concatenate(parts).astype(bool)


def _f1(selected: np.ndarray, truth: np.ndarray) -> float:
    tp = np.sum(selected & truth)
    return float(2 * tp / (2 * tp + np.sum(selected & ~truth) + np.sum(~selected & truth)))


def _auc(values: np.ndarray, truth: np.ndarray) -> float:
    from scipy.stats import rankdata

    ok = np.isfinite(values)
    r, t = rankdata(values[ok]), truth[ok]
    n1, n0 = t.sum(), (~t).sum()
    return float((r[t].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def simulate(name: str, labels: int = 12) -> tuple[list[float], dict[str, float]]:
    """Return the F1 after each label and the features' AUCs for one genuine set."""
    from cellector.manager import CellectorManager

    work = Path(tempfile.mkdtemp(prefix="cellector-guided-")) / name
    shutil.copytree(DATA / name, work)
    m = CellectorManager.from_folder(work / "suite2p")
    truth = _truth(work / "suite2p")
    f1 = []
    for _ in range(labels):
        idx = int(m.review_queue()[0])
        m.update_manual_labels(idx, bool(truth[idx]), True)
        m.apply_suggested_criteria()
        f1.append(_f1(m.compute_idx_selected(), truth))
    aucs = {k: _auc(v, truth) for k, v in m.features.items()}
    shutil.rmtree(work.parent, ignore_errors=True)
    return f1, aucs


def plot_guided(out: Path) -> list[Path]:
    """Write ``guided.png`` into ``out`` and print the figures; returns the paths written."""
    from matplotlib.figure import Figure

    out.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(6, 3.4), dpi=110)
    ax = fig.add_subplot()
    for name in SETS:
        f1, aucs = simulate(name)
        ax.plot(range(1, len(f1) + 1), f1, marker="o", label=name)
        print(f"{name}: F1 after 4, 8, 12 labels: " + ", ".join(f"{f1[k - 1]:.3f}" for k in (4, 8, 12)))
        print("  AUC: " + ", ".join(f"{k} {v:.3f}" for k, v in aucs.items()))
    ax.axhline(0.9, color="0.6", ls=":", lw=1)
    ax.set_xlabel("ROIs labelled (each the first of review_queue())")
    ax.set_ylabel("F1 against ground truth")
    ax.set_ylim(0, 1.02)
    ax.set_title("Guided review on the genuine suite2p test sets")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path = out / "guided.png"
    fig.savefig(path)
    return [path]


if __name__ == "__main__":
    for p in plot_guided(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS_IMAGES):
        print(f"wrote {p}")
