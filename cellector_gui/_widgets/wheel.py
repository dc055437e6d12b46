"""The mouse wheel over a feature card scrolls the dock, never a cutoff.

A card is mostly a histogram (matplotlib's canvas takes wheel events), a range slider
and two number boxes, which all change on the wheel: scrolling down the dock over a card
would stop, or worse move a cutoff. Wheel events over a card go to the dock's scroll bar.
"""

from __future__ import annotations

from qtpy.QtCore import QEvent, QObject
from qtpy.QtWidgets import QApplication, QScrollArea, QWidget

__all__ = ["WheelToScroll"]


class WheelToScroll(QObject):
    """Event filter sending the wheel events of the widgets it watches to ``area``'s vertical scroll bar."""

    def __init__(self, area: QScrollArea) -> None:
        super().__init__(area)
        self.area = area

    def watch(self, widget: QWidget) -> None:
        """Send the wheel over ``widget`` and all its children to the scroll bar."""
        for w in (widget, *widget.findChildren(QWidget)):
            w.installEventFilter(self)

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:  # noqa: N802 - Qt API
        if event is None or event.type() != QEvent.Type.Wheel:
            return False
        QApplication.sendEvent(self.area.verticalScrollBar(), event)
        return True
