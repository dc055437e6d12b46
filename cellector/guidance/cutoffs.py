"""Cutoffs fitted to the model's probabilities, and what they promise: expected precision, recall and F1.

The fitted probabilities of red (:mod:`cellector.guidance.model`; labelled ROIs count as
what they were labelled) are a soft ground truth. The suggested cutoff is the single
bound, on one feature and either side, whose selection (labels overriding, as in the
window) has the highest expected F1 under them. The same probabilities give the
suggestion's own estimate, with an interval from draws of the fitted weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from cellector.guidance.model import Fit

__all__ = ["Bound", "Rule", "best_cutoff", "expected_scores", "f1_margin"]

_DRAWS = 80  # posterior draws for the interval
_COVER = 0.7  # the interval's nominal cover (on the benchmark's sessions it held the true F1 in 4 cases of 5)
_Z = float(ndtri((1 + _COVER) / 2))  # the standard normal quantile of the same cover, for the counts' spread

Bound = tuple[str, str, float]  # (feature, "min" | "max", cutoff)


@dataclass(frozen=True)
class Rule:
    """A conjunction of bounds (here one); NaN fails a bound."""

    bounds: tuple[Bound, ...]

    def predict(self, features: Mapping[str, np.ndarray], index: np.ndarray | None = None) -> np.ndarray:
        """Return the rule's decision for ROIs ``index`` (all when None)."""
        n = len(next(iter(features.values())))
        out = np.ones(n if index is None else len(index), bool)
        for name, side, cut in self.bounds:
            v = features[name] if index is None else features[name][index]
            with np.errstate(invalid="ignore"):
                out &= (v >= cut) if side == "min" else (v <= cut)
        return out


def best_cutoff(f: Fit, label: np.ndarray, active: np.ndarray) -> tuple[Rule, float]:
    """Return the single cutoff with the highest expected F1 under ``f.p``, and that F1.

    Every feature, both sides; labelled ROIs keep their label whatever the cutoff, as in
    the selection.
    """
    free = ~active
    p = f.p
    red_labelled = float(np.sum(active & label))
    total_red = red_labelled + float(p[free].sum())
    best: tuple[float, Bound] | None = None
    for name, ascending in f.prepared.orders.items():
        v = f.prepared.features[name]
        up = ascending[free[ascending]]
        for side, order in (("min", up[::-1]), ("max", up)):
            tp = red_labelled + np.concatenate([[0.0], np.cumsum(p[order])])
            chosen = np.arange(order.size + 1)  # how many unlabelled ROIs the cutoff keeps
            f1 = 2 * tp / (chosen + red_labelled + total_red)
            if order.size > 1:
                f1[1:-1][np.diff(v[order]) == 0] = -1  # a cutoff cannot fall between equal values
            k = int(np.argmax(f1))
            if best is None or f1[k] > best[0] + 1e-12:
                best = (float(f1[k]), (name, side, _cut_value(v[order], k, side)))
    assert best is not None
    return Rule((best[1],)), best[0]


def _cut_value(sorted_values: np.ndarray, k: int, side: str) -> float:
    """Return the cutoff that keeps the first ``k`` values: half-way to the next one (beyond the ends by a margin)."""
    if sorted_values.size == 0:
        return 0.0
    span = float(np.ptp(sorted_values)) or 1.0
    if k == 0:
        edge = sorted_values[0]
        return float(edge + 0.01 * span) if side == "min" else float(edge - 0.01 * span)
    if k == sorted_values.size:
        edge = sorted_values[-1]
        return float(edge - 0.01 * span) if side == "min" else float(edge + 0.01 * span)
    return float((sorted_values[k - 1] + sorted_values[k]) / 2)


def expected_scores(selected: np.ndarray, p: np.ndarray) -> tuple[float, float, float, float]:
    """Return the expected (red count, precision, recall, F1) of ``selected`` under probabilities ``p``."""
    tp = float(p[selected].sum())
    fp = float((1 - p[selected]).sum())
    fn = float(p[~selected].sum())
    precision = tp / (tp + fp) if tp + fp > 0 else 1.0
    recall = tp / (tp + fn) if tp + fn > 0 else 1.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else 1.0
    return tp + fn, precision, recall, f1


def f1_margin(f: Fit, selected: np.ndarray, active: np.ndarray) -> float:
    """Half-width of the interval around the F1 estimate (nominal cover :data:`_COVER`).

    Two sources of doubt, added in quadrature: the fitted weights (the central 70 % of F1
    over draws from each model's Laplace posterior, models drawn by their share), and the
    randomness of the counts themselves (the Poisson-binomial spread of the number of red
    ROIs, relative to the true positives, times the normal quantile of the same cover).
    """
    rng = np.random.default_rng(0)  # the same suggestion always says the same
    design = f.prepared.design(f.prepared.z[~active])
    sel = selected[~active]
    known_tp = float(np.sum(selected & active & f.p.astype(bool)))
    known_fp = float(np.sum(selected & active & ~f.p.astype(bool)))
    known_fn = float(np.sum(~selected & active & f.p.astype(bool)))
    which = rng.choice(len(f.models), _DRAWS, p=f.share)
    f1s = []
    for k in np.unique(which):
        model = f.models[k]
        betas = rng.multivariate_normal(model.beta, model.covariance, int(np.sum(which == k)), method="cholesky")
        p = 1.0 / (1.0 + np.exp(-np.clip(design[:, model.columns] @ betas.T, -40, 40)))  # (free ROIs, draws)
        tp = known_tp + sel @ p
        fp = known_fp + sel @ (1 - p)
        fn = known_fn + (~sel) @ p
        f1s.extend(2 * tp / np.maximum(2 * tp + fp + fn, 1e-12))
    lo, hi = np.percentile(f1s, [50 * (1 - _COVER), 50 * (1 + _COVER)])
    tp = f.p[selected].sum()
    counts = np.sqrt(np.sum(f.p * (1 - f.p))) / max(float(tp) + 1.0, 1.0)  # Poisson-binomial spread, relative
    return float(np.hypot((hi - lo) / 2, _Z * counts))
