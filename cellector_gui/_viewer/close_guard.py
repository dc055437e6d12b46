"""One question when the window closes with unsaved changes.

napari asks "close this window?" itself: on Ctrl+W (its close action, before any close
event is sent) and on the window's close button (in its ``closeEvent``). With unsaved
changes our "Save changes before closing?" (Save / Discard / Cancel) replaces that
question instead of following it; without unsaved changes napari behaves as always.
"""

from __future__ import annotations

from typing import Any

from qtpy.QtCore import QEvent, QObject, QTimer
from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import QWidget

from cellector_gui._viewer.app_filter import WindowFilter

__all__ = ["CloseGuard"]


class CloseGuard(WindowFilter):
    """Application event filter for the main window's close events and Ctrl+W.

    Parameters
    ----------
    widget : CellectorWidget
        The dock; ``widget.manager.dirty`` says whether there are unsaved changes and
        ``widget.confirm_close()`` asks the question (True: the window may close).
    window : QWidget
        napari's main window.
    """

    def __init__(self, widget: Any, window: QWidget) -> None:
        # On the application, not the window: Ctrl+W is a shortcut and never reaches the
        # window as an event; an application filter also sees the window's close events.
        super().__init__(widget, window)
        self.widget = widget
        self._answered = False  # the question was answered: the next close goes through

    def _unsaved(self) -> bool:
        manager = self.widget.manager
        return manager is not None and manager.dirty and not self._answered

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:  # noqa: N802 - Qt API
        if event is None:
            return False
        kind = event.type()
        close_key = QKeySequence.StandardKey.Close  # Ctrl+W (Cmd+W on macOS)
        if kind == QEvent.Type.ShortcutOverride and self.is_key(obj, event, close_key) and self._unsaved():
            # Accepting the override keeps napari's close action (and its question) from running.
            event.accept()
            QTimer.singleShot(0, self.ask_then_close)
            return True
        if kind == QEvent.Type.Close and obj is self.window and self._unsaved():
            if event.spontaneous():  # the close button: napari would ask after us
                event.ignore()
                QTimer.singleShot(0, self.ask_then_close)
                return True
            if not self.widget.confirm_close():
                event.ignore()
                return True
        return False

    def ask_then_close(self) -> None:
        """Ask once; on Save (that succeeded) or Discard close the window without napari asking again."""
        window = self.window
        if window is not None and self.widget.confirm_close():
            self._answered = True
            window.close()  # a programmatic close: napari does not ask
