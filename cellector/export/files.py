"""The decision in the forms labs publish and share: suite2p-format labels and NWB.

- :func:`to_redcell` writes ``planeN/redcell_cellector.npy`` (suite2p's layout) beside
  suite2p's own ``redcell.npy``, which is never touched;
- :func:`to_nwb` writes an NWB file (:mod:`cellector.export.nwb`, needs ``pynwb``);
- the report figure and its ``index.html`` draw with matplotlib, so they live beside the
  window: :mod:`cellector_gui.report` (``cellector-report``).

Each takes a suite2p folder (or a :class:`~cellector.manager.CellectorManager`), reads
the saved state as ``cellector export`` does, and checks every output path first
(:func:`cellector.io.outputs.check_output_path`): nothing lands on a recording's files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cellector.export.score import decision_score
from cellector.io.outputs import BESIDE_RECORDING

__all__ = ["REDCELL_NAME", "open_state", "to_nwb", "to_redcell"]

#: The suite2p-format file of the decision, one per plane folder.
REDCELL_NAME = BESIDE_RECORDING[0]


def open_state(folder_or_manager: Any, **load: Any):
    """Return a :class:`~cellector.manager.CellectorManager` on a folder's saved state (or the one given)."""
    from cellector.manager import CellectorManager

    if isinstance(folder_or_manager, CellectorManager):
        return folder_or_manager
    return CellectorManager.from_folder(folder_or_manager, **load)


def to_redcell(folder_or_manager: Any, **load: Any) -> list[Path]:
    """Write ``planeN/redcell_cellector.npy`` for every plane; returns the files written.

    Each file has suite2p's ``redcell.npy`` layout: shape ``(N, 2)`` float64 for the N
    ROIs of that plane's ``stat.npy``, column 0 the decision (1.0 red, 0.0 not; equal to
    ``cellector/idx_selected.npy``), column 1 :func:`decision_score`. ROIs left out of
    the session (``iscell_only``) get 0 in both columns. A lab script reading
    ``np.load("plane0/redcell.npy")[:, 0]`` reads the decision with
    ``np.load("plane0/redcell_cellector.npy")[:, 0]``.
    """
    from cellector.io.outputs import check_beside_recording
    from cellector.io.store import atomic_save_npy

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
    """Write the decision as NWB; see :func:`cellector.export.nwb.write_nwb` for the keywords."""
    from cellector.export.nwb import write_nwb

    return write_nwb(open_state(folder_or_manager, **kwargs.pop("load", {})), output, **kwargs)
