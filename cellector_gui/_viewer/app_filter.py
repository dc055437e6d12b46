"""The base of the window's application event filters (the close question, the save key).

Some keys never reach napari's canvas as key events: napari's menu actions take them as
shortcuts first (Ctrl+S, Ctrl+W). Qt sends a ``ShortcutOverride`` event to the focused
widget before it looks up a shortcut; a filter on the application sees that event
wherever the focus is (canvas, dock, console) and can claim the key for cellector.
"""

from __future__ import annotations

import contextlib
import weakref

from qtpy.QtCore import QEvent, QObject
from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import QApplication, QWidget

__all__ = ["WindowFilter"]


class WindowFilter(QObject):
    """An application event filter for one napari window, removed with :meth:`remove`.

    Parameters
    ----------
    parent : QObject
        The dock (the filter lives and dies with it).
    window : QWidget
        napari's main window; held weakly, napari owns it.
    """

    def __init__(self, parent: QObject, window: QWidget) -> None:
        super().__init__(parent)
        self._window = weakref.ref(window)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    @property
    def window(self) -> QWidget | None:
        """Return napari's main window (None once it is gone)."""
        return self._window()

    def remove(self) -> None:
        """Stop filtering (the dock lets go of its session or closes)."""
        app = QApplication.instance()
        with contextlib.suppress(RuntimeError):  # already deleted with the dock: Qt dropped the filter
            if app is not None:
                app.removeEventFilter(self)

    def is_key(self, obj: QObject | None, event: QEvent, key: QKeySequence.StandardKey) -> bool:
        """Whether the key ``event`` is the standard ``key`` typed into a widget of this window.

        A widget of a floating dock counts: its parent chain leads to the window.
        """
        if not event.matches(key):  # type: ignore[attr-defined]
            return False
        widget = obj if isinstance(obj, QWidget) else None
        while widget is not None and widget is not self.window:
            widget = widget.parentWidget()
        return widget is not None
