"""Key and mouse bindings: one KEYMAP table of key -> action method, and the click-vs-drag callback.

Keys were checked against napari's defaults: viewer keys (``v``, ...) and the keys of
image layers (``x``, ``y``, ``z``, ``o``, ``c``, ``1``, ``2``, which win while an image
layer is selected) are left alone. Ctrl+S, which napari's File menu would take before
the canvas sees it, is claimed by :mod:`._save_key` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from qtpy.QtWidgets import QWidget

from cellector_gui._viewer.close_guard import CloseGuard
from cellector_gui._viewer.qt_access import main_window
from cellector_gui._viewer.save_key import SAVE_KEY, SaveKey

__all__ = ["HELP", "KEYMAP", "ViewerBindings", "click_or_drag"]

#: key -> (name of a :class:`~cellector_gui._dock.actions.CurationActions` method, description);
#: bound on the viewer to the dock's actions while a session is shown.
KEYMAP: dict[str, tuple[str, str]] = {
    "n": ("next_roi", "next ROI in the review loop (centres the view)"),
    "b": ("previous_roi", "previous ROI in the review loop"),
    "g": ("guided_next", "guided review: the unlabelled ROI whose label teaches the most"),
    "p": ("apply_suggestion", "apply the cutoffs suggested from your labels"),
    "w": ("check_doubtful", "the next label that looks like a slip (a second look)"),
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
    "Shift-N": ("next_session", "the next session of the study (same window)"),
    "Shift-B": ("previous_session", "the previous session of the study"),
    "h": ("toggle_help", "show/hide this help"),
}

HELP = "<br>".join(
    [
        *(f"<b>{k.replace('Control', 'Ctrl')}</b>: {d}" for k, (_, d) in KEYMAP.items()),
        f"<b>{SAVE_KEY}</b>: save the curation (into the suite2p folder's cellector/ folder)",
        "<b>click</b>: flip an ROI's decision (drag pans, never flips); "
        "<b>Shift+click</b>: look at an ROI (focus, crops, values) without changing it",
    ]
)


def click_or_drag(event: Any, on_click: Callable[[Any, bool], None]) -> Generator[None, None, None]:
    """Call ``on_click(position, inspect)`` for a left click (press and release without moving); a drag pans.

    ``inspect`` is True for a Shift+click: the ROI is looked at, not changed.
    """
    if event.button not in (1, None):
        return
    inspect = "Shift" in tuple(getattr(event, "modifiers", ()) or ())
    yield
    moved = False
    while event.type == "mouse_move":
        moved = True
        yield
    if not moved:
        on_click(event.position, inspect)


class ViewerBindings:
    """The dock's keys, click and window filters on a viewer, and how to give the viewer back its own.

    Parameters
    ----------
    dock : QWidget
        The dock: its ``roi_actions`` (the key map's methods), ``manager``, ``save`` and
        ``confirm_close`` are used.
    """

    def __init__(self, dock: Any) -> None:
        self.dock = dock
        self._previous: dict[str, Any] = {}  # key -> napari's binding before ours
        self._filters: list[CloseGuard | SaveKey] = []

    def bind(self) -> None:
        """Bind the key map and the click on the viewer; claim Ctrl+S and the close question on its window."""
        viewer, actions = self.dock.viewer, self.dock.roi_actions
        if self._previous:
            return  # bound already (a study's next session keeps the keys)
        for key, (method, _desc) in KEYMAP.items():
            self._previous[key] = viewer.bind_key(key, self._key_handler(getattr(actions, method)), overwrite=True)
        viewer.mouse_drag_callbacks.append(self._on_mouse_drag)
        top: QWidget | None = main_window(self.dock)
        if top is not None and not self._filters:
            self._filters = [CloseGuard(self.dock, top), SaveKey(self.dock, top, self.dock.save)]

    def unbind(self) -> None:
        """Restore the viewer's key bindings, mouse callbacks and window as they were."""
        for window_filter in self._filters:
            window_filter.remove()
        self._filters = []
        viewer = self.dock.viewer
        for key, previous in self._previous.items():
            viewer.bind_key(key, previous, overwrite=True)
        self._previous.clear()
        if self._on_mouse_drag in viewer.mouse_drag_callbacks:
            viewer.mouse_drag_callbacks.remove(self._on_mouse_drag)

    def _on_mouse_drag(self, _viewer: Any, event: Any) -> Generator[None, None, None]:
        if self.dock.manager is not None:
            yield from click_or_drag(event, self.dock.roi_actions.click_at)

    def _key_handler(self, method: Callable[[], None]) -> Callable[[Any], None]:
        """Wrap an action for napari's ``bind_key`` (which passes the viewer); keeps its docstring for napari's list.

        While no session is shown (a study's next one loading) a key does nothing.
        """
        dock = self.dock

        def handler(_viewer: Any) -> None:
            if dock.manager is not None:
                method()

        handler.__doc__ = method.__doc__
        return handler
