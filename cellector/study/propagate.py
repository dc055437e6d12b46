"""Criteria across sessions: apply one session's cutoffs to others and save each whole state.

A factory above what it builds (it opens each target with
:meth:`~cellector.manager.CellectorManager.from_folder`). ``cellector apply`` and
:func:`propagate_criteria` share :func:`apply_criteria`, so both say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cellector.curation.selection import Bounds
from cellector.io.store import STORE_DIR, load_state
from cellector.manager import CellectorManager

__all__ = ["PropagationResult", "apply_criteria", "propagate_criteria"]


@dataclass
class PropagationResult:
    """Outcome for one target: ``ok`` and either the selected count or the reason it failed."""

    target: Path
    ok: bool
    message: str


def apply_criteria(manager: CellectorManager, criteria: Mapping[str, Bounds], origin: str) -> str:
    """Set ``criteria`` on ``manager`` (one undo step), save its whole state; return what happened in one line.

    Criteria of features the session does not have are skipped and named in the line;
    the session's own manual labels are kept. ``origin`` ("from day1/suite2p") is saved
    as where the criteria came from.
    """
    manager.apply_criteria(criteria, origin)
    folder = manager.save_all()
    msg = f"{int(manager.compute_idx_selected().sum())} of {manager.num_rois} selected; saved to {folder}"
    missing = sorted(set(criteria) - set(manager.features))
    if missing:
        msg += f" (no feature {', '.join(missing)} here; those criteria were skipped)"
    return msg


def propagate_criteria(source: str | Path, *targets: str | Path, **load_kwargs: Any) -> list[PropagationResult]:
    """Copy the criteria saved in ``source`` to each target and save its full state.

    Each target's features are loaded (or computed) and its own manual labels are
    kept; the target's selection is recomputed and written. Failures in one target
    do not stop the others.

    Returns
    -------
    list of PropagationResult
        One per target, in order.
    """
    criteria = load_state(source)["criteria"]
    if not criteria:
        raise ValueError(f"{source} has no saved criteria in {STORE_DIR}/")
    results = []
    for target in targets:
        try:
            m = CellectorManager.from_folder(target, **load_kwargs)
            results.append(PropagationResult(Path(target), True, apply_criteria(m, criteria, f"from {source}")))
        except (ValueError, OSError) as exc:
            results.append(PropagationResult(Path(target), False, str(exc)))
    return results
