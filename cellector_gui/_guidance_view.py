"""The suggestion in the dock: ghost cutoff lines on the cards and what the fitted cutoffs promise.

It follows the manual labels: fitting runs once after a burst of labels (not on every
click), then the cards show the suggested cutoffs as dotted lines and the dock says in
words what applying them would give.
"""

from __future__ import annotations

from typing import Any

from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QWidget

from ._controls import NO_SUGGESTION

__all__ = ["GuidanceView", "in_words"]

#: Wait this long after the last label before fitting again (a burst of clicks fits once).
SETTLE_MS = 150


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

    def labels_changed(self) -> None:
        """Fit again once the labels settle."""
        self.timer.start()

    def refresh(self) -> None:
        """Show the cutoffs fitted to the manual labels as ghost lines, and say what they promise."""
        s = self.dock.state.suggestion()
        for name, card in self.dock.cards.items():
            card.show_suggestion(None if s is None else s.criteria.get(name))
        controls = self.dock.controls
        controls.apply_button.enabled = s is not None
        controls.suggestion_label.value = NO_SUGGESTION if s is None else in_words(s)


def in_words(s: Any) -> str:
    """Return a suggestion as the dock says it: the cutoff, then what it promises, in a biologist's words."""
    carried = f" and {s.carried} carried over" if s.carried else ""
    return (
        f"suggested: <b>{s.cutoffs_text()}</b> · about {round(s.estimated_red)} red cells<br>estimated precision "
        f"{s.estimated_precision:.2f}, recall {s.estimated_recall:.2f} (± {s.f1_margin:.2f}), "
        f"from {s.n_labels} label{'' if s.n_labels == 1 else 's'}{carried}"
    )
