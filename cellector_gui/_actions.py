"""What the user does to ROIs from the keyboard, the mouse and the buttons: flip, clear, review.

A mixin of :class:`~cellector_gui._widget.CellectorWidget`: each action calls the
manager's commands and moves the view; the layers and cards follow the manager's
signals on their own.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from qtpy.QtWidgets import QMessageBox, QWidget

from ._controls import SHOW_MODES
from ._qt_access import camera
from ._text import plural

__all__ = ["CurationActions"]


class CurationActions:
    """Flip, clear, guided and near-cutoff review, centring.

    Uses the dock's attributes below and its ``show_message`` and ``overlay``.
    """

    viewer: Any
    manager: Any
    layers: Any
    controls: Any
    show_mode: str
    _centroids: np.ndarray | None
    _offered: set[int]  # ROIs guided review has offered in this session (never offered twice)
    _guided: int  # the ROI guided review focused last (-1: none); a label on it moves on
    overlay: Any

    def show_message(self, text: str) -> None:  # pragma: no cover - the dock's own wins
        """Show a one-line message (the dock defines it)."""
        raise NotImplementedError

    def roi_at(self, position) -> int:
        """Return the ROI under a world position (-1 for background or outside the image)."""
        return self.layers.roi_at(position) if self.layers is not None else -1

    def describe(self, idx: int) -> str:
        """Return the ROI's description (the core's :meth:`CellectorManager.describe_roi`)."""
        return self.manager.describe_roi(idx)

    def click_at(self, position) -> None:
        """Flip the ROI under ``position``; the background does nothing."""
        idx = self.roi_at(position)
        if idx < 0:
            return
        with self.layers.one_recolor():
            new = self.manager.flip(idx)
            self.manager.set_focus(idx)
        self.show_message(f"ROI {idx} manually {'selected' if new else 'rejected'}")

    def flip_focused(self) -> None:
        """Flip the focused ROI; in guided review, go on to the next ROI."""
        idx = self.manager.focus
        if idx >= 0:
            new = self.manager.flip(idx)
            self._labelled(idx, f"ROI {idx} manually {'selected' if new else 'rejected'}")

    def label_focused(self, red: bool) -> None:
        """Label the focused ROI red (``True``) or not red, whatever it shows now; in guided review, go on."""
        idx = self.manager.focus
        if idx < 0:
            self.show_message("no ROI in focus: click one, or press g (guided) or n (next)")
            return
        self.manager.update_manual_labels(idx, red)
        self._labelled(idx, f"ROI {idx} labelled {'red' if red else 'not red'}")

    def _labelled(self, idx: int, message: str) -> None:
        """After a label: in guided review the next ROI comes (as in labelling apps), else say what happened."""
        if idx == self._guided:
            self.step_guided(done=message)
        else:
            self.show_message(message)

    def clear_focused(self) -> None:
        """Clear the focused ROI's override."""
        idx = self.manager.focus
        if idx >= 0:
            self.manager.clear_manual_labels(idx)
            self.show_message(f"ROI {idx} follows the criteria again")

    def undo_step(self) -> None:
        """Undo the last change and say what it was (the key and the button)."""
        text = self.manager.undo_text
        if self.manager.undo():
            self.show_message(f"undone: {text} (Ctrl+Shift+Z redoes)")
        else:
            self.show_message("nothing to undo")

    def redo_step(self) -> None:
        """Redo the last undone change and say what it was."""
        text = self.manager.redo_text
        if self.manager.redo():
            self.show_message(f"redone: {text}")
        else:
            self.show_message("nothing to redo")

    def clear_all(self) -> None:
        """Clear every override after confirmation."""
        n = int(self.manager.manual_selection[1].sum())
        what = "the manual override" if n == 1 else f"all {n} manual overrides"
        if n and self._confirm(f"Remove {what}?"):
            self.manager.clear_manual_labels()
            self.show_message(f"cleared {plural(n, 'manual override')} (undo with Ctrl+Z)")

    def _confirm(self, text: str) -> bool:
        answer = QMessageBox.question(cast(QWidget, self), "cellector", text)  # the dock is the QWidget
        return answer == QMessageBox.StandardButton.Yes

    def review_candidates(self) -> np.ndarray:
        """Return the ROIs the review loop visits (the core's :meth:`CellectorManager.review_candidates`)."""
        return self.manager.review_candidates(self.show_mode, near_cutoff=self.controls.near_box.value)

    def step_guided(self, done: str = "") -> None:
        """Focus the unlabelled ROI whose label would teach the most, and centre on it.

        An ROI offered once is not offered again in this session, labelled or skipped
        (``g`` again skips it). ``done`` (what the last key did) leads the message.
        """
        lead = f"{done} · " if done else ""
        queue = self.manager.review_queue()
        fresh = queue[~np.isin(queue, list(self._offered))] if self._offered else queue
        if fresh.size == 0:
            self._guided = -1
            if self.manager.num_rois == 0:
                self.show_message("this folder has no ROIs")
            elif queue.size == 0:
                self.show_message(f"{lead}every ROI carries a manual label")
            else:
                self.show_message(f"{lead}guided review has offered every unlabelled ROI")
            return
        idx = int(fresh[0])
        self._offered.add(idx)
        self._guided = idx
        self.manager.set_focus(idx)
        self.center_on(idx)
        self.show_message(f"{lead}guided: {self.describe(idx)} (e red, d not red, g skip)")

    def apply_suggestion(self) -> None:
        """Set the cutoffs fitted to the manual labels (one undo step)."""
        s = self.manager.apply_suggested_criteria()
        if s is None:
            self.show_message("no suggestion yet: label at least one red and one non-red ROI")
        else:
            self.show_message(f"applied {s.describe()} (undo with Ctrl+Z)")

    def step_review(self, step: int) -> None:
        """Focus the next (``+1``) or previous (``-1``) review candidate and centre on it."""
        cands = self.review_candidates()
        if cands.size == 0:
            self.show_message("no ROI to review with these filters")
            return
        cur = self.manager.focus
        if step > 0:
            later = cands[cands > cur]
            idx = int(later[0] if later.size else cands[0])
        else:
            earlier = cands[cands < cur] if cur >= 0 else cands
            idx = int(earlier[-1] if earlier.size else cands[-1])
        self.manager.set_focus(idx)
        self.center_on(idx)
        self.show_message(self.describe(idx))

    def center_on(self, idx: int) -> None:
        """Centre the view on ROI ``idx`` (and move to its plane)."""
        assert self._centroids is not None  # set with the session
        z, y, x = self._centroids[idx]
        if self.overlay is not None and self.overlay.label.shape[0] > 1:
            self.viewer.dims.set_current_step(0, int(z))
        camera(self.viewer).center = (float(y), float(x))

    def toggle_layer(self, role: str) -> None:
        """Show/hide this session's layer ``role`` ("reference", "rois", "lam"), never a user's namesake."""
        layer = self.layers.by_role(role) if self.layers is not None else None
        if layer is not None:
            layer.visible = not layer.visible

    def cycle_show(self) -> None:
        """All -> selected -> rejected -> all."""
        self.controls.show_combo.value = SHOW_MODES[(SHOW_MODES.index(self.show_mode) + 1) % len(SHOW_MODES)]
