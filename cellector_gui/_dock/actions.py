"""What the user does to ROIs from the keyboard, the mouse and the buttons: label, flip, clear, review.

:class:`CurationActions` is composed into the dock (``dock.roi_actions``): each action calls
the manager's commands and moves the view; the layers and cards follow the manager's
signals on their own. The key map (:mod:`._bindings`) points at its bound methods.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from qtpy.QtWidgets import QMessageBox, QWidget

from cellector.manager import CellectorManager
from cellector_gui._viewer.layers import SessionLayers
from cellector_gui._viewer.qt_access import camera
from cellector_gui._widgets.cards import CardsPanel
from cellector_gui._widgets.controls import SHOW_MODES, DockControls
from cellector_gui._widgets.text import plural

__all__ = ["CurationActions", "Dock"]


class Dock(Protocol):
    """What the actions use of the dock (:class:`cellector_gui._dock.widget.CellectorWidget`)."""

    viewer: Any
    manager: CellectorManager | None
    layers: SessionLayers | None
    controls: DockControls
    show_mode: str
    cards_scroll: CardsPanel
    guidance: Any
    study: Any

    @property
    def state(self) -> CellectorManager: ...

    def show_message(self, text: str) -> None: ...


class CurationActions:
    """The user's actions on the ROIs and the view of one dock.

    Parameters
    ----------
    dock : Dock
        The dock whose manager, layers and controls the actions use.
    parent : QWidget
        Parent of the confirmation dialogs.
    """

    def __init__(self, dock: Dock, parent: QWidget) -> None:
        self.dock = dock
        self.parent = parent
        self.centroids: np.ndarray | None = None  # (N, 3) z, y, x of the session shown
        self.offered: set[int] = set()  # ROIs guided review has offered in this session (never twice)
        self.guided = -1  # the ROI guided review focused last (-1: none); a label on it moves on

    def start_session(self, centroids: np.ndarray) -> None:
        """Forget the previous session's review: guided review starts afresh."""
        self.centroids = centroids
        self.offered, self.guided = set(), -1

    @property
    def manager(self) -> CellectorManager:
        """The manager of the session shown."""
        return self.dock.state

    # ------------------------------------------------------------------ labels

    def click_at(self, position: Any, inspect: bool = False) -> None:
        """Flip the ROI under ``position`` (``inspect``, a Shift+click: only focus it); the background does nothing."""
        layers = self.dock.layers
        idx = layers.roi_at(position) if layers is not None else -1
        if idx < 0 or layers is None:
            return
        if inspect:  # look without changing: the focus shows its crops and values
            self.manager.set_focus(idx)
            self.dock.show_message(f"{self.manager.describe_roi(idx)} (Shift+click: looked at, not changed)")
            return
        with layers.one_recolor():
            new = self.manager.flip(idx)
            self.manager.set_focus(idx)
        self.dock.show_message(f"ROI {idx} manually {'selected' if new else 'rejected'}")

    def flip_focused(self) -> None:
        """Flip the focused ROI; in guided review, go on to the next ROI."""
        idx = self.manager.focus
        if idx >= 0:
            new = self.manager.flip(idx)
            self._labelled(idx, f"ROI {idx} manually {'selected' if new else 'rejected'}")

    def label_red(self) -> None:
        """Label the focused ROI red, whatever it shows now; in guided review, go on."""
        self._label_focused(True)

    def label_not_red(self) -> None:
        """Label the focused ROI not red, whatever it shows now; in guided review, go on."""
        self._label_focused(False)

    def _label_focused(self, red: bool) -> None:
        idx = self.manager.focus
        if idx < 0:
            self.dock.show_message("no ROI in focus: click one, or press g (guided) or n (next)")
            return
        self.manager.update_manual_labels(idx, red)
        self._labelled(idx, f"ROI {idx} labelled {'red' if red else 'not red'}")

    def _labelled(self, idx: int, message: str) -> None:
        """After a label: in guided review the next ROI comes (as in labelling apps), else say what happened."""
        if idx == self.guided:
            self.guided_next(done=message)
        else:
            self.dock.show_message(message)

    def clear_focused(self) -> None:
        """Clear the focused ROI's override."""
        idx = self.manager.focus
        if idx >= 0:
            self.manager.clear_manual_labels(idx)
            self.dock.show_message(f"ROI {idx} follows the criteria again")

    def clear_all(self) -> None:
        """Clear every override after confirmation."""
        n = int(self.manager.manual_selection[1].sum())
        what = "the manual override" if n == 1 else f"all {n} manual overrides"
        if n and QMessageBox.question(self.parent, "cellector", f"Remove {what}?") == QMessageBox.StandardButton.Yes:
            self.manager.clear_manual_labels()
            self.dock.show_message(f"cleared {plural(n, 'manual override')} (undo with Ctrl+Z)")

    def undo(self) -> None:
        """Undo the last change and say what it was (the key and the button)."""
        text = self.manager.undo_text
        self.dock.show_message(f"undone: {text} (Ctrl+Shift+Z redoes)" if self.manager.undo() else "nothing to undo")

    def redo(self) -> None:
        """Redo the last undone change and say what it was."""
        text = self.manager.redo_text
        self.dock.show_message(f"redone: {text}" if self.manager.redo() else "nothing to redo")

    # ------------------------------------------------------------------ review

    def review_candidates(self) -> np.ndarray:
        """Return the ROIs the review loop visits (the core's :meth:`CellectorManager.review_candidates`)."""
        return self.manager.review_candidates(self.dock.show_mode, near_cutoff=self.dock.controls.near_box.value)

    def guided_next(self, done: str = "") -> None:
        """Focus the unlabelled ROI whose label would teach the most, and centre on it.

        An ROI offered once is not offered again in this session, labelled or skipped
        (``g`` again skips it). ``done`` (what the last key did) leads the message.
        """
        lead = f"{done} · " if done else ""
        queue = self.manager.review_queue()
        fresh = queue[~np.isin(queue, list(self.offered))] if self.offered else queue
        if fresh.size == 0:
            self.guided = -1
            if self.manager.num_rois == 0:
                self.dock.show_message("this folder has no ROIs")
            elif queue.size == 0:
                self.dock.show_message(f"{lead}every ROI carries a manual label")
            else:
                self.dock.show_message(f"{lead}guided review has offered every unlabelled ROI")
            return
        idx = int(fresh[0])
        self.offered.add(idx)
        self.guided = idx
        self.manager.set_focus(idx)
        self.center_on(idx)
        self.dock.show_message(f"{lead}guided: {self.manager.describe_roi(idx)} (e red, d not red, g skip)")

    def check_doubtful(self) -> None:
        """Focus the next label that the fit says may be a slip, and centre on it (a second look).

        A label overrides every cutoff, so a slip costs an ROI for good; ``e`` / ``d``
        relabel it and ``u`` lets the cutoffs decide again.
        """
        s = self.manager.suggestion()
        doubtful = [] if s is None else list(s.doubtful)
        if not doubtful:
            self.dock.show_message("no label looks like a slip")
            return
        cur = self.manager.focus
        idx = doubtful[(doubtful.index(cur) + 1) % len(doubtful)] if cur in doubtful else doubtful[0]
        self.manager.set_focus(idx)
        self.center_on(idx)
        red = bool(self.manager.manual_label[idx])
        self.dock.show_message(
            f"check: ROI {idx} is labelled {'red' if red else 'not red'} but looks {'not ' if red else ''}red "
            f"({len(doubtful)} to check; e red, d not red, u clear, w next)"
        )

    def apply_suggestion(self) -> None:
        """Set the cutoffs the dotted lines show: fitted to the labels, or an earlier session's (one undo step)."""
        self.dock.show_message(self.dock.guidance.apply())

    def next_session(self) -> None:
        """Open the next session of the study in this window."""
        self.dock.study.next_session()

    def previous_session(self) -> None:
        """Open the previous session of the study in this window."""
        self.dock.study.previous_session()

    def next_roi(self) -> None:
        """Focus the next review candidate and centre on it."""
        self.step_review(+1)

    def previous_roi(self) -> None:
        """Focus the previous review candidate and centre on it."""
        self.step_review(-1)

    def step_review(self, step: int) -> None:
        """Focus the next (``+1``) or previous (``-1``) review candidate and centre on it."""
        cands = self.review_candidates()
        if cands.size == 0:
            self.dock.show_message("no ROI to review with these filters")
            return
        idx = _stepped(cands, self.manager.focus, step)
        self.manager.set_focus(idx)
        self.center_on(idx)
        self.dock.show_message(self.manager.describe_roi(idx))

    def center_on(self, idx: int) -> None:
        """Centre the view on ROI ``idx`` (and move to its plane)."""
        assert self.centroids is not None  # set with the session
        z, y, x = self.centroids[idx]
        layers = self.dock.layers
        if layers is not None and layers.overlay.label.shape[0] > 1:
            self.dock.viewer.dims.set_current_step(0, int(z))
        camera(self.dock.viewer).center = (float(y), float(x))

    # ------------------------------------------------------------------ view

    def _toggle(self, role: str) -> None:
        """Show/hide this session's layer ``role``, never a user's namesake."""
        layer = self.dock.layers.by_role(role) if self.dock.layers is not None else None
        if layer is not None:
            layer.visible = not layer.visible

    def toggle_reference(self) -> None:
        """Show/hide the reference image."""
        self._toggle("reference")

    def toggle_rois(self) -> None:
        """Show/hide the ROIs."""
        self._toggle("rois")

    def toggle_lam(self) -> None:
        """Show/hide the lam-weighted mask image."""
        self._toggle("lam")

    def toggle_outline(self) -> None:
        """Outline / filled ROIs."""
        box = self.dock.controls.outline_box
        box.value = not box.value

    def toggle_near_cutoff(self) -> None:
        """Review only ROIs near a cutoff, or all."""
        box = self.dock.controls.near_box
        box.value = not box.value

    def cycle_show(self) -> None:
        """All -> selected -> rejected -> all."""
        combo = self.dock.controls.show_combo
        combo.value = SHOW_MODES[(SHOW_MODES.index(self.dock.show_mode) + 1) % len(SHOW_MODES)]

    def toggle_help(self) -> None:
        """Show/hide the key help (above the cards)."""
        self.dock.cards_scroll.toggle_help()


def _stepped(cands: np.ndarray, current: int, step: int) -> int:
    """Return the candidate after (``+1``) or before (``-1``) ``current`` in the order the candidates come.

    Candidates come in index order, or near a cutoff least certain first: an ROI that is a
    candidate steps to its neighbour in that order, another ROI to the next (previous)
    index, so n/b keep their place when the focus moved elsewhere.
    """
    where = np.flatnonzero(cands == current)
    if where.size:
        return int(cands[(int(where[0]) + step) % cands.size])
    if step > 0:
        later = cands[cands > current]
        return int(later[0] if later.size else cands[0])
    earlier = cands[cands < current] if current >= 0 else cands
    return int(earlier[-1] if earlier.size else cands[-1])
