"""The suggestion in the dock: ghost cutoff lines on the cards and what the fitted cutoffs promise.

It follows the manual labels: fitting runs once after a burst of labels (not on every
click), then the cards show the suggested cutoffs as dotted lines and the dock says in
words what applying them would give. In a study, a session without cutoffs or labels is
first offered the cutoffs of an earlier session (:meth:`GuidanceView.offer`), drawn and
applied the same way.
"""

from __future__ import annotations

import importlib
import sys
import threading
from typing import Any

import numpy as np
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QWidget

from cellector_gui._widgets.controls import NO_SUGGESTION
from cellector_gui._widgets.sessions import shown_name

__all__ = ["GuidanceView", "in_words", "warm_up"]

#: Wait this long after the last label before fitting again (a burst of clicks fits once).
SETTLE_MS = 150

#: What the first fit imports: about 1 s, done in the background when a window opens.
SLOW_IMPORT = "sklearn.mixture"


def warm_up() -> None:
    """Import scikit-learn off the GUI thread, so the first label of a session does not freeze the window."""
    if SLOW_IMPORT not in sys.modules:
        threading.Thread(
            target=importlib.import_module, args=(SLOW_IMPORT,), daemon=True, name="cellector-warm-up"
        ).start()


class GuidanceView:
    """Ghost lines and the suggestion's words of one dock.

    Parameters
    ----------
    dock : QWidget
        The dock: its ``state``, ``cards`` and ``controls`` are used.
    """

    def __init__(self, dock: Any) -> None:
        self.dock = dock
        self.timer = QTimer(dock if isinstance(dock, QWidget) else None)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SETTLE_MS)
        self.timer.timeout.connect(self.refresh)
        #: cutoffs of an earlier session offered to this one, and that session's name
        self.offered: tuple[dict, str] | None = None
        self._offer_shown = False
        warm_up()

    def labels_changed(self) -> None:
        """Fit again once the labels settle."""
        self.timer.start()

    def offer(self, criteria: dict | None, source: str | None) -> None:
        """Offer an earlier session's cutoffs while this session has no cutoff and no label (None: no offer)."""
        self.offered = None if criteria is None or source is None else (dict(criteria), source)
        self.refresh()

    def _showing_offer(self) -> bool:
        m = self.dock.state
        return self.offered is not None and not m.has_cutoffs and not m.manual_label_active.any()

    def criteria_changed(self) -> None:
        """Withdraw the offer once the session has cutoffs (and bring it back when undone); say what the cutoffs give.

        A change of what is shown redraws at once; the estimate of the user's own cutoffs
        follows once a slider drag settles, from the fit already made (a drag never fits
        the labels again).
        """
        if self.offered is not None and self._showing_offer() != self._offer_shown:
            self.refresh()
        elif not self._offer_shown and self.dock.state.manual_label_active.any():
            self.timer.start()

    def refresh(self) -> None:
        """Show the offered cutoffs or the cutoffs fitted to the labels as ghost lines, and say what they promise."""
        self._offer_shown = self._showing_offer()
        if self._offer_shown:
            assert self.offered is not None
            criteria, source = self.offered
            text = f"cutoffs of {shown_name(source)} (p applies them here):<br><b>{_bounds_text(criteria)}</b>"
            self._show(criteria, text)
            return
        m = self.dock.state
        s = m.suggestion()
        self._show(None if s is None else s.criteria, NO_SUGGESTION if s is None else in_words(s, self._yours(s)))

    def _yours(self, s: Any) -> str:
        """Return the line saying what the user's own cutoffs give, when they differ from the suggestion."""
        m = self.dock.state
        selected = m.compute_idx_selected()
        suggested = np.where(m.manual_label_active, m.manual_label, s.rule.predict(m.features))
        if not m.has_cutoffs or np.array_equal(selected, suggested):
            return ""
        e = m.guidance.assess(selected)
        return "" if e is None else f"<br>your cutoffs: {e.describe()}"

    def _show(self, criteria: dict | None, text: str) -> None:
        for name, card in self.dock.cards.items():
            card.show_suggestion(None if criteria is None else criteria.get(name))
        controls = self.dock.controls
        controls.apply_button.enabled = criteria is not None
        controls.show_suggestion(text)

    def apply(self) -> str:
        """Apply what is shown (the offered cutoffs, or the suggestion) as one undoable step; returns what happened."""
        m = self.dock.state
        if self._showing_offer():
            assert self.offered is not None
            criteria, source = self.offered
            m.apply_criteria(criteria, f"from {source}")
            self.refresh()
            return f"applied the cutoffs of {source} (undo with Ctrl+Z)"
        s = m.apply_suggested_criteria()
        if s is None:
            return "no suggestion yet: label at least one red and one non-red ROI"
        return f"applied {s.cutoffs_text()} (undo with Ctrl+Z)"


def _bounds_text(criteria: dict) -> str:
    parts = []
    for name, (lo, hi) in criteria.items():
        if lo is not None:
            parts.append(f"{name} >= {lo:.4g}")
        if hi is not None:
            parts.append(f"{name} <= {hi:.4g}")
    return " and ".join(parts)


def in_words(s: Any, yours: str = "") -> str:
    """Return a suggestion as the dock says it: the cutoff, what it promises, ``yours``, labels to check."""
    carried = f" and {s.carried} carried over" if s.carried else ""
    return (
        f"suggested: <b>{s.cutoffs_text()}</b> · about {round(s.estimated_red)} red cells<br>"
        f"{s.estimate.describe()}, from {s.n_labels} label{'' if s.n_labels == 1 else 's'}{carried}{yours}"
        + _doubt_line(s)
    )


def _doubt_line(s: Any) -> str:
    """Return the line naming labels that look like slips (empty when none does)."""
    if not s.doubtful:
        return ""
    n = len(s.doubtful)
    return f"<br>{n} label{'s look' if n > 1 else ' looks'} like a slip: <b>w</b> shows {'them' if n > 1 else 'it'}"
