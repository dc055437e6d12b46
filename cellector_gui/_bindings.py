"""Key and mouse bindings: one KEYMAP table of key -> action method, and the click-vs-drag callback.

Keys were checked against napari's defaults: viewer keys (``v``, ...) and the keys of
image layers (``x``, ``y``, ``z``, ``o``, ``c``, ``1``, ``2``, which win while an image
layer is selected) are left alone. Ctrl+S, which napari's File menu would take before
the canvas sees it, is claimed by :mod:`._save_key` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from ._save_key import SAVE_KEY

__all__ = ["HELP", "KEYMAP", "click_or_drag"]

#: key -> (name of a :class:`~cellector_gui._actions.CurationActions` method, description);
#: bound on the viewer to the dock's actions while a session is shown.
KEYMAP: dict[str, tuple[str, str]] = {
    "n": ("next_roi", "next ROI in the review loop (centres the view)"),
    "b": ("previous_roi", "previous ROI in the review loop"),
    "g": ("guided_next", "guided review: the unlabelled ROI whose label teaches the most"),
    "p": ("apply_suggestion", "apply the cutoffs suggested from your labels"),
    "e": ("label_red", "label the focused ROI red (guided review then goes on)"),
    "d": ("label_not_red", "label the focused ROI not red (guided review then goes on)"),
    "f": ("flip_focused", "flip the focused ROI's decision (manual override)"),
    "u": ("clear_focused", "clear the focused ROI's override"),
    "r": ("toggle_reference", "show/hide the reference image"),
    "t": ("toggle_rois", "show/hide the ROIs"),
    "k": ("toggle_outline", "outline / filled ROIs"),
    "l": ("toggle_lam", "show/hide the lam-weighted mask image"),
    "s": ("cycle_show", "show all / selected / rejected ROIs"),
    "a": ("toggle_near_cutoff", "review only ROIs near a cutoff"),
    "Control-Z": ("undo", "undo"),
    "Control-Shift-Z": ("redo", "redo"),
    "h": ("toggle_help", "show/hide this help"),
}

HELP = "<br>".join(
    [
        *(f"<b>{k.replace('Control', 'Ctrl')}</b>: {d}" for k, (_, d) in KEYMAP.items()),
        f"<b>{SAVE_KEY}</b>: save the curation (into the suite2p folder's cellector/ folder)",
        "<b>click</b>: flip an ROI's decision (drag pans, never flips)",
    ]
)


def click_or_drag(event: Any, on_click: Callable[[Any], None]) -> Generator[None, None, None]:
    """Call ``on_click(position)`` for a left click (press and release without moving); a drag pans."""
    if event.button not in (1, None):
        return
    yield
    moved = False
    while event.type == "mouse_move":
        moved = True
        yield
    if not moved:
        on_click(event.position)
