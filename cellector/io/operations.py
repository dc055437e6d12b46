"""Scripting across sessions: copy criteria between folders, find cellector folders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .store import STORE_DIR, load_state, store_path

__all__ = ["PropagationResult", "identify_cellector_folders", "propagate_criteria"]


@dataclass
class PropagationResult:
    """Outcome for one target: ``ok`` and either the selected count or the reason it failed."""

    target: Path
    ok: bool
    message: str


def propagate_criteria(source: str | Path, *targets: str | Path, **load_kwargs) -> list[PropagationResult]:
    """Copy the criteria saved in ``source`` to each target and save its full state.

    Each target's features are loaded (or computed) and its own manual labels are
    kept; the target's selection is recomputed and written. Failures in one target
    do not stop the others.

    Returns
    -------
    list of PropagationResult
        One per target, in order.
    """
    from ..manager import CellectorManager

    criteria = load_state(source)["criteria"]
    if not criteria:
        raise ValueError(f"{source} has no saved criteria in {STORE_DIR}/")
    results = []
    for target in targets:
        try:
            m = CellectorManager.from_folder(target, **load_kwargs)
            for name, bounds in criteria.items():
                if name in m.features:
                    m.update_criteria(name, bounds)
            missing = sorted(set(criteria) - set(m.features))
            m.save_all()
            msg = f"{int(m.compute_idx_selected().sum())} of {m.num_rois} selected"
            if missing:
                msg += f" (no feature {', '.join(missing)} here; those criteria were skipped)"
            results.append(PropagationResult(Path(target), True, msg))
        except (ValueError, OSError) as exc:
            results.append(PropagationResult(Path(target), False, str(exc)))
    return results


def identify_cellector_folders(top_level_dir: str | Path) -> list[Path]:
    """Return every folder below ``top_level_dir`` (inclusive) holding a ``cellector/`` results folder, sorted."""
    top = Path(top_level_dir)
    found = {p.parent for p in top.rglob(STORE_DIR) if p.is_dir()}
    if store_path(top).is_dir():
        found.add(top)
    return sorted(found)
