"""Saving from the window: the curation (Save, Ctrl+S), the report figure, and the unsaved-changes question.

:class:`SaveActions` is composed into the dock (``dock.saving``); the dock's ``save`` and
``confirm_close`` hand over to it. Errors are shown in a dialog and the status line,
never raised into Qt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from qtpy.QtWidgets import QFileDialog, QMessageBox, QWidget

from cellector.manager import CellectorManager

__all__ = ["SaveActions"]


class _Dock(Protocol):
    manager: CellectorManager | None

    @property
    def state(self) -> CellectorManager: ...

    def show_message(self, text: str) -> None: ...


class SaveActions:
    """Save, Save figure, and the question asked before a session is left with unsaved changes.

    Parameters
    ----------
    dock : Dock
        The dock whose session is saved.
    parent : QWidget
        Parent of the dialogs.
    """

    def __init__(self, dock: _Dock, parent: QWidget) -> None:
        self.dock = dock
        self.parent = parent

    def save(self) -> Path | None:
        """Save the whole state; returns the folder, or None when it was not saved.

        When the suite2p folder cannot be written, the first Save asks where to put the
        state (the user-cache folder the features went to is offered first).
        """
        m = self.dock.state
        if m.store_note is not None and not self._choose_store(m):
            return None
        try:
            folder = m.save_all()
        except (OSError, ValueError) as exc:
            self.dock.show_message(f"save failed: {exc}")
            QMessageBox.warning(self.parent, "cellector: save failed", str(exc))
            return None
        self.dock.show_message(f"saved to {folder}")
        return folder

    def _choose_store(self, m: CellectorManager) -> bool:
        folder = QFileDialog.getExistingDirectory(
            self.parent, "The suite2p folder is read-only: save the curation in…", str(m.store_dir)
        )
        if not folder:
            self.dock.show_message("not saved: no folder chosen")
            return False
        m.move_store(folder)
        return True

    def save_figure(self, path: str | Path | None = None) -> list[Path]:
        """Save the report figure (PNG and PDF, :func:`cellector_gui.report.save_figure`); asks where when no path."""
        from cellector_gui.report import save_figure

        m = self.dock.state
        if path is None:
            root = Path(m.root_dir or ".").absolute()
            suggested = str(root.parent / f"{root.parent.name}_cellector.png")
            path, _ = QFileDialog.getSaveFileName(
                self.parent, "Save the report figure (PNG and PDF)", suggested, "PNG (*.png)"
            )
            if not path:
                self.dock.show_message("figure not saved: no file chosen")
                return []
        try:
            files = save_figure(m, path)
        except (OSError, ValueError) as exc:
            self.dock.show_message(f"figure not saved: {exc}")
            QMessageBox.warning(self.parent, "cellector: figure not saved", str(exc))
            return []
        self.dock.show_message(f"figure saved: {', '.join(str(f) for f in files)}")
        return files

    def confirm_leave(self, question: str = "Save changes before closing?") -> bool:
        """Return True when the session may be left (closed, or another one opened); asks about unsaved changes.

        Save saves first (and stays if saving fails), Discard forgets the changes and the
        crash journal, Cancel stays.
        """
        m = self.dock.manager
        if m is None or not m.dirty:
            return True
        answer = self.ask_unsaved(question)
        if answer == "save":
            return self.save() is not None
        if answer == "discard":
            m.discard_journal()  # the edits were thrown away: do not offer them again
            return True
        return False

    def ask_unsaved(self, question: str) -> str:
        """Ask Save / Discard / Cancel; returns ``"save"``, ``"discard"`` or ``"cancel"``."""
        buttons = QMessageBox.StandardButton
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "cellector",
            question,
            buttons.Save | buttons.Discard | buttons.Cancel,
            self.parent,
        )
        answer = buttons(box.exec())
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")
