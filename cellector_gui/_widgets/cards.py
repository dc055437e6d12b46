"""The dock's scrolling column: the key help on top, then one card per feature.

:class:`CardsPanel` adds, replaces and removes :class:`~._histogram.FeatureCard` s and
passes the selection and the focus on to all of them; the wheel over a card scrolls
the column instead of moving a cutoff.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from qtpy.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from cellector_gui._viewer.bindings import HELP
from cellector_gui._widgets.bounds import Bounds
from cellector_gui._widgets.histogram import FeatureCard
from cellector_gui._widgets.wheel import WheelToScroll

__all__ = ["CardsPanel"]


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
