"""Ctrl+S saves the curation, wherever the focus is in the window.

napari's File menu binds Ctrl+S to "Save selected layers..." (a file dialog offering to
save the ROIs layer as an image). A user who presses Ctrl+S means the curation, as the
help and the Save button's tooltip say, so the key is claimed before napari's menu sees
it: the ``ShortcutOverride`` is accepted (no shortcut runs) and the key press that
follows saves. napari's action stays in its menu, under its own name.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject, QTimer
from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import QWidget

from cellector_gui._viewer.app_filter import WindowFilter

__all__ = ["SAVE_KEY", "SaveKey"]

#: The key's name in the help (Cmd+S on macOS: Qt's standard Save key).
SAVE_KEY = "Ctrl+S"


class SaveKey(WindowFilter):
    """Application event filter running ``save`` on the standard Save key typed in ``window``."""

    def __init__(self, parent: QObject, window: QWidget, save: Callable[[], object]) -> None:
        super().__init__(parent, window)
        self._save = save

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:  # noqa: N802 - Qt API
        if event is None:
            return False
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        if not self.is_key(obj, event, QKeySequence.StandardKey.Save):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # napari's menu shortcut does not run; the key press comes to us
        elif not event.isAutoRepeat():  # type: ignore[attr-defined]
            QTimer.singleShot(0, self._save)  # after the event: saving may ask where (a dialog)
        return True
