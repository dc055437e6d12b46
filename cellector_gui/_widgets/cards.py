"""The dock's scrolling column: the key help on top, then one card per feature.

:class:`CardsPanel` follows the manager's signals itself, as the layers do: a criterion
set anywhere (a card, undo, a script) moves its card's slider, the selection and the
focus show on every card, and a feature added from a script gets its card. The wheel
over a card scrolls the column instead of moving a cutoff.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from cellector_gui._viewer.bindings import HELP
from cellector_gui._widgets.bounds import Bounds
from cellector_gui._widgets.histogram import FeatureCard
from cellector_gui._widgets.wheel import WheelToScroll

if TYPE_CHECKING:
    from cellector.manager import CellectorManager

__all__ = ["CardsPanel", "shown_on_cards"]


def shown_on_cards(m: CellectorManager) -> np.ndarray:
    """Return the ROIs the histograms highlight: the selection, or before any cutoff the ROIs labelled red.

    Before a cutoff the canvas draws every ROI undecided (gray): so do the histograms.
    """
    return m.compute_idx_selected() if m.has_cutoffs else np.asarray(m.manual_selection.all(axis=0))


class CardsPanel(QScrollArea):
    """A scroll area holding the help (hidden until asked for) and the feature cards.

    Parameters
    ----------
    on_edit : callable
        Connected to every card's ``bounds_edited(name, bounds, final)``.
    parent : QWidget, optional
        The dock.
    """

    def __init__(self, on_edit: Callable[[str, Bounds, bool], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.on_edit = on_edit
        self.box = QWidget(self)
        self.box_layout = QVBoxLayout(self.box)
        self.setWidgetResizable(True)
        self.setWidget(self.box)
        self.wheel = WheelToScroll(self)
        #: feature name -> card, in the order shown (the same dict for the dock's whole life)
        self.cards: dict[str, FeatureCard] = {}
        # the help sits above the cards, in the scroll area: showing it never makes the window taller
        self.help_label = QLabel(HELP, self.box)
        self.help_label.setWordWrap(True)
        self.help_label.setVisible(False)
        self.box_layout.addWidget(self.help_label)
        self.manager: CellectorManager | None = None

    # ------------------------------------------------------------------ following a manager

    def follow(self, manager: CellectorManager) -> None:
        """Show ``manager``'s features, one card each, and follow its signals until :meth:`unfollow`."""
        self.unfollow()
        self.manager = manager
        self.fill(manager.features, manager.criteria)
        for signal, slot in self._slots(manager):
            signal.connect(slot)
        self.show_selection(shown_on_cards(manager))

    def unfollow(self) -> None:
        """Stop following the manager and remove its cards (the help stays)."""
        if self.manager is not None:
            for signal, slot in self._slots(self.manager):
                signal.disconnect(slot)
            self.manager = None
        self.clear()

    def _slots(self, m: CellectorManager) -> list[tuple[Any, Callable]]:
        return [
            (m.criteria_changed, self._on_manager_criteria_changed),
            (m.selection_changed, self._on_manager_selection_changed),
            (m.focus_changed, self.show_focus),
            (m.features_changed, self._on_manager_features_changed),
        ]

    def _on_manager_criteria_changed(self, name: str) -> None:
        if self.manager is not None and name in self.cards:
            self.cards[name].show_criterion(self.manager.criteria[name])

    def _on_manager_selection_changed(self) -> None:
        if self.manager is not None:
            self.show_selection(shown_on_cards(self.manager))

    def _on_manager_features_changed(self, name: str) -> None:
        """Give a feature added from a script or the console its card (a replaced one: a new card)."""
        if self.manager is not None:
            self.add(name, self.manager.features[name], self.manager.criteria[name])
            self.show_selection(shown_on_cards(self.manager))

    # ------------------------------------------------------------------ the cards

    def fill(self, features: Mapping[str, np.ndarray], criteria: Mapping[str, Bounds]) -> None:
        """Show one card per feature (after :meth:`clear`)."""
        self.box_layout.addStretch(1)  # below the cards: they keep their height
        for name, values in features.items():
            self.add(name, values, criteria[name])

    def add(self, name: str, values: np.ndarray, bounds: Bounds) -> None:
        """Add feature ``name``'s card below the others (a card of that name is replaced)."""
        self.remove(name)
        card = FeatureCard(name, values, self.box)
        self.wheel.watch(card)
        card.bounds_edited.connect(self.on_edit)
        self.box_layout.insertWidget(self.box_layout.count() - 1, card)  # above the stretch
        self.cards[name] = card
        card.show_criterion(bounds)

    def remove(self, name: str) -> None:
        """Remove feature ``name``'s card (nothing when there is none)."""
        old = self.cards.pop(name, None)
        if old is not None:
            self.box_layout.removeWidget(old)
            old.setParent(None)
            old.deleteLater()

    def clear(self) -> None:
        """Remove every card (the help stays)."""
        for name in list(self.cards):
            self.remove(name)
        while self.box_layout.count() > 1:  # the stretch below the cards
            self.box_layout.takeAt(1)

    def show_selection(self, shown: np.ndarray) -> None:
        """Highlight ``shown`` (bool (N,)) on every card."""
        for card in self.cards.values():
            card.show_selection(shown)

    def show_focus(self, idx: int) -> None:
        """Mark ROI ``idx``'s value on every card (-1: none)."""
        for card in self.cards.values():
            card.show_focus(idx)

    def toggle_help(self) -> None:
        """Show or hide the key help (scrolled into view when shown)."""
        self.help_label.setVisible(not self.help_label.isVisible())
        bar = self.verticalScrollBar()
        if self.help_label.isVisible() and bar is not None:
            bar.setValue(0)
