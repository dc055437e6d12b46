"""Key and mouse bindings: plain functions of (widget, ...), listed in one KEYMAP table.

Keys were checked against napari's defaults: viewer keys (``v``, ...) and the keys of
image layers (``x``, ``y``, ``z``, ``o``, ``c``, ``1``, ``2``, which win while an image
layer is selected) are left alone. Ctrl+S, which napari's File menu would take before
the canvas sees it, is claimed by :mod:`._save_key` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ._save_key import SAVE_KEY


class CellectorWidget(Protocol):
    """What the bindings use of the dock (:class:`cellector_gui._widget.CellectorWidget`).

    A protocol, not an import: the dock imports this table, never the other way round.
    """

    manager: Any
    controls: Any
    help_label: Any
    cards_scroll: Any

    def step_review(self, step: int) -> None: ...
    def step_guided(self, done: str = "") -> None: ...
    def apply_suggestion(self) -> None: ...
    def flip_focused(self) -> None: ...
    def label_focused(self, red: bool) -> None: ...
    def clear_focused(self) -> None: ...
    def toggle_layer(self, role: str) -> None: ...
    def cycle_show(self) -> None: ...
    def undo_step(self) -> None: ...
    def redo_step(self) -> None: ...
    def click_at(self, position: Any) -> None: ...


__all__ = ["HELP", "KEYMAP", "on_mouse_drag"]


def next_roi(w: CellectorWidget) -> None:
    w.step_review(+1)


def previous_roi(w: CellectorWidget) -> None:
    w.step_review(-1)


def guided_next(w: CellectorWidget) -> None:
    w.step_guided()


def apply_suggestion(w: CellectorWidget) -> None:
    w.apply_suggestion()


def flip_focused(w: CellectorWidget) -> None:
    w.flip_focused()


def label_red(w: CellectorWidget) -> None:
    w.label_focused(True)


def label_not_red(w: CellectorWidget) -> None:
    w.label_focused(False)


def clear_focused(w: CellectorWidget) -> None:
    w.clear_focused()


def toggle_reference(w: CellectorWidget) -> None:
    w.toggle_layer("reference")


def toggle_rois(w: CellectorWidget) -> None:
    w.toggle_layer("rois")


def toggle_outline(w: CellectorWidget) -> None:
    w.controls.outline_box.value = not w.controls.outline_box.value


def toggle_lam(w: CellectorWidget) -> None:
    w.toggle_layer("lam")


def cycle_show(w: CellectorWidget) -> None:
    w.cycle_show()


def toggle_near_cutoff(w: CellectorWidget) -> None:
    w.controls.near_box.value = not w.controls.near_box.value


def undo(w: CellectorWidget) -> None:
    w.undo_step()


def redo(w: CellectorWidget) -> None:
    w.redo_step()


def toggle_help(w: CellectorWidget) -> None:
    w.help_label.setVisible(not w.help_label.isVisible())
    if w.help_label.isVisible():
        w.cards_scroll.verticalScrollBar().setValue(0)  # the help is above the cards


#: key -> (function, description); bound on the viewer while the widget lives.
KEYMAP: dict[str, tuple[Callable[[CellectorWidget], None], str]] = {
    "n": (next_roi, "next ROI in the review loop (centres the view)"),
    "b": (previous_roi, "previous ROI in the review loop"),
    "g": (guided_next, "guided review: the unlabelled ROI whose label teaches the most"),
    "p": (apply_suggestion, "apply the cutoffs suggested from your labels"),
    "e": (label_red, "label the focused ROI red (guided review then goes on)"),
    "d": (label_not_red, "label the focused ROI not red (guided review then goes on)"),
    "f": (flip_focused, "flip the focused ROI's decision (manual override)"),
    "u": (clear_focused, "clear the focused ROI's override"),
    "r": (toggle_reference, "show/hide the reference image"),
    "t": (toggle_rois, "show/hide the ROIs"),
    "k": (toggle_outline, "outline / filled ROIs"),
    "l": (toggle_lam, "show/hide the lam-weighted mask image"),
    "s": (cycle_show, "show all / selected / rejected ROIs"),
    "a": (toggle_near_cutoff, "review only ROIs near a cutoff"),
    "Control-Z": (undo, "undo"),
    "Control-Shift-Z": (redo, "redo"),
    "h": (toggle_help, "show/hide this help"),
}

HELP = "<br>".join(
    [
        *(f"<b>{k.replace('Control', 'Ctrl')}</b>: {d}" for k, (_, d) in KEYMAP.items()),
        f"<b>{SAVE_KEY}</b>: save the curation (into the suite2p folder's cellector/ folder)",
        "<b>click</b>: flip an ROI's decision (drag pans, never flips)",
    ]
)


def on_mouse_drag(w: CellectorWidget, viewer, event):
    """Left click (press and release without moving) flips the ROI under the cursor."""
    if event.button not in (1, None) or w.manager is None:
        return
    yield
    moved = False
    while event.type == "mouse_move":
        moved = True
        yield
    if not moved:
        w.click_at(event.position)
