"""Words of the window: counts ("1 manual edit", "3 manual edits") and the dock's summary line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cellector.manager import CellectorManager

__all__ = ["plural", "summary_html"]


def plural(n: int, noun: str, many: str | None = None) -> str:
    """Return ``"n noun"`` with the noun in the plural unless ``n`` is 1 (``many`` for irregular plurals)."""
    return f"{n} {noun if n == 1 else (many or noun + 's')}"


def summary_html(m: CellectorManager, selected: np.ndarray) -> str:
    """Return the dock's summary: selected of N (per plane too), or why nothing is selected yet, and the overrides."""
    if m.num_rois == 0:
        text = "<b>this folder has no ROIs</b>"
    elif not m.has_cutoffs:
        text = f"<b>no cutoffs set</b> ({m.num_rois} ROIs): drag a histogram's handles, or press g"
    else:
        text = f"<b>{int(selected.sum())} selected of {m.num_rois}</b>"
        per = m.selected_per_plane(selected)
        if len(per) > 1:
            text += " &nbsp;·&nbsp; " + " · ".join(f"{p}: {s}/{n}" for p, s, n in per)
    return text + f" &nbsp;·&nbsp; {plural(int(m.manual_selection[1].sum()), 'manual override')}"
