"""How clearly each ROI's decision holds: a score in [0, 1] for suite2p-format labels and NWB."""

from __future__ import annotations

import numpy as np

__all__ = ["decision_score"]


def decision_score(manager) -> np.ndarray:
    """Return each ROI's score in [0, 1]: how clearly the decision holds (float64, one per ROI).

    For an ROI decided by the criteria, ``1 / (1 + exp(-m))`` where ``m`` is its
    smallest distance inside the active bounds, in units of each feature's robust spread
    (1.4826 x MAD over all ROIs): 0.5 on a cutoff, towards 1 deep inside the bounds,
    towards 0 far outside; an ROI with NaN in a bounded feature scores 0. An active
    manual label scores 1 (red) or 0 (not red). With no cutoffs and no label: 0.5.
    So the score is >= 0.5 exactly for the selected ROIs.

    Examples
    --------
    Values 0, 1, 2, 3 with the cutoff ``>= 1.5``: the spread is 1.4826 x 1, so the ROIs
    lie -1.01, -0.34, 0.34 and 1.01 spreads from it:

    >>> from cellector.manager import CellectorManager
    >>> from cellector.roi_processor.processor import RoiProcessor
    >>> rp = RoiProcessor(None, None, [np.array([i]) for i in range(4)], [np.array([0])] * 4,
    ...                   [np.ones(1)] * 4, np.ones((1, 4, 4)), autocompute=False,
    ...                   extra_features={"f": np.array([0.0, 1.0, 2.0, 3.0])})
    >>> m = CellectorManager(rp)
    >>> m.update_criteria("f", [1.5, None])
    >>> np.round(decision_score(m), 3).tolist()
    [0.267, 0.416, 0.584, 0.733]
    """
    n = manager.num_rois
    margin = np.full(n, np.inf)
    for name, (lo, hi) in manager.criteria.items():
        if lo is None and hi is None:
            continue
        v = np.asarray(manager.features[name], np.float64)
        finite = v[np.isfinite(v)]
        spread = 1.4826 * np.median(np.abs(finite - np.median(finite))) if finite.size else 0.0
        spread = spread if spread > 0 else (np.ptp(finite) if finite.size and np.ptp(finite) > 0 else 1.0)
        for cut, sign in ((lo, 1.0), (hi, -1.0)):
            if cut is not None:
                with np.errstate(invalid="ignore"):
                    margin = np.fmin(margin, np.where(np.isfinite(v), sign * (v - cut) / spread, -np.inf))
    with np.errstate(over="ignore"):
        score = np.where(np.isinf(margin) & (margin > 0), 0.5, 1.0 / (1.0 + np.exp(-margin)))
    label, active = manager.manual_selection
    return np.where(active, label.astype(np.float64), score)
