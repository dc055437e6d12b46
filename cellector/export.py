"""The decision in the forms labs publish and share: suite2p-format labels, NWB, a report.

- :func:`to_redcell` writes ``planeN/redcell_cellector.npy`` (suite2p's layout) beside
  suite2p's own ``redcell.npy``, which is never touched;
- :func:`to_nwb` writes an NWB file (:mod:`cellector.nwb`, needs ``pynwb``);
- :func:`write_report` writes a figure per session and an ``index.html``
  (:mod:`cellector.report`).

Each takes a suite2p folder (or a :class:`~cellector.manager.CellectorManager`), reads
the saved state as ``cellector export`` does, and checks every output path first
(:func:`cellector.io.outputs.check_output_path`): nothing lands on a recording's files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .io.outputs import BESIDE_RECORDING

__all__ = ["REDCELL_NAME", "decision_score", "open_state", "to_nwb", "to_redcell", "write_report"]

#: The suite2p-format file of the decision, one per plane folder.
REDCELL_NAME = BESIDE_RECORDING[0]


def open_state(folder_or_manager: Any, **load: Any):
    """Return a :class:`~cellector.manager.CellectorManager` on a folder's saved state (or the one given)."""
    from .manager import CellectorManager

    if isinstance(folder_or_manager, CellectorManager):
        return folder_or_manager
    return CellectorManager.from_folder(folder_or_manager, **load)


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
    >>> from cellector.roi_processor import RoiProcessor
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


def to_redcell(folder_or_manager: Any, **load: Any) -> list[Path]:
    """Write ``planeN/redcell_cellector.npy`` for every plane; returns the files written.

    Each file has suite2p's ``redcell.npy`` layout: shape ``(N, 2)`` float64 for the N
    ROIs of that plane's ``stat.npy``, column 0 the decision (1.0 red, 0.0 not; equal to
    ``cellector/idx_selected.npy``), column 1 :func:`decision_score`. ROIs left out of
    the session (``iscell_only``) get 0 in both columns. A lab script reading
    ``np.load("plane0/redcell.npy")[:, 0]`` reads the decision with
    ``np.load("plane0/redcell_cellector.npy")[:, 0]``.
    """
    from .io.outputs import check_beside_recording
    from .io.store import atomic_save_npy

    m = open_state(folder_or_manager, **load)
    s = m.roi_processor.session
    if s is None:
        raise ValueError("suite2p-format labels need a suite2p folder (this session was built from arrays)")
    targets = [check_beside_recording(s.root / plane / REDCELL_NAME) for plane in s.planes]
    selected, score = m.compute_idx_selected(), decision_score(m)
    written = []
    for z, out in enumerate(targets):
        rows = np.zeros((s.plane_counts[z], 2))
        mine = s.roi_plane == z
        rows[s.suite2p_index[mine], 0] = selected[mine]
        rows[s.suite2p_index[mine], 1] = score[mine]
        atomic_save_npy(out, rows)
        written.append(out)
    return written


def to_nwb(folder_or_manager: Any, output: str | Path, **kwargs: Any) -> Path:
    """Write the decision as NWB; see :func:`cellector.nwb.write_nwb` for the keywords."""
    from .nwb import write_nwb

    return write_nwb(open_state(folder_or_manager, **kwargs.pop("load", {})), output, **kwargs)


def write_report(folders: Any, output_dir: str | Path, **load: Any) -> Path:
    """Write a figure per session and ``index.html`` into ``output_dir``; see :mod:`cellector.report`."""
    from .report import write_reports

    items = folders if isinstance(folders, (list, tuple)) else [folders]
    return write_reports([open_state(f, **load) for f in items], output_dir)
