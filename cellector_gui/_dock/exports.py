"""The window's exports: an NWB file, suite2p-format labels and the report figure, from the dock's Export menu.

:class:`ExportActions` is composed into the dock (``dock.exports``). Each export holds the
saved state, so unsaved changes are saved first (after asking). Each refuses what the
command refuses (an output path inside a recording, malformed metadata) with the
command's own one-line message, in a dialog and the status line; nothing is half-written.
The NWB metadata file is asked for once and remembered for the study (every session of
the window uses it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from qtpy.QtCore import QPoint
from qtpy.QtGui import QAction
from qtpy.QtWidgets import QFileDialog, QMenu, QMessageBox, QPushButton, QWidget

from cellector.manager import CellectorManager

__all__ = ["ExportActions"]


class _Dock(Protocol):
    @property
    def state(self) -> CellectorManager: ...

    def show_message(self, text: str) -> None: ...

    def save(self) -> Path | None: ...

    def save_figure(self) -> list[Path]: ...


class ExportActions:
    """Export the session shown: NWB, ``redcell_cellector.npy``, the report figure.

    Parameters
    ----------
    dock : Dock
        The dock whose session is exported.
    parent : QWidget
        Parent of the menu and the dialogs.
    """

    def __init__(self, dock: _Dock, parent: QWidget) -> None:
        self.dock = dock
        self.parent = parent
        #: The NWB metadata file chosen for this window's study (None: none chosen yet)
        self.metadata: Path | None = None
        self._metadata_asked = False
        self.menu = QMenu(parent)
        self.nwb_action = self._action("NWB file…", self._on_nwb_triggered)
        self.redcell_action = self._action("suite2p labels (planeN/redcell_cellector.npy)", self._on_redcell_triggered)
        self.figure_action = self._action("Report figure (PNG and PDF)…", self._on_figure_triggered)

    def _action(self, text: str, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self.menu)
        action.triggered.connect(slot)
        self.menu.addAction(action)
        return action

    def show_menu(self, button: QPushButton) -> None:
        """Open the menu under ``button``, right edges aligned (the button is the dock's last), without blocking."""
        self.menu.popup(button.mapToGlobal(QPoint(button.width() - self.menu.sizeHint().width(), button.height())))

    # ------------------------------------------------------------------ the three exports

    def nwb(self, path: str | Path | None = None) -> Path | None:
        """Write an NWB file of the saved state (asks for the metadata once, then for the file); returns it."""
        from cellector.export.nwb import write_nwb
        from cellector.export.nwb_metadata import read_metadata

        if not self._saved_first():
            return None
        chosen = self._ask_metadata()
        try:
            meta = read_metadata(chosen) if chosen is not None else None
        except ValueError as exc:
            self.metadata, self._metadata_asked = None, False  # a malformed file is asked for again next time
            self._refused("NWB not exported", exc)
            return None
        path = path or self._ask_file("Save the NWB file", ".nwb", "NWB (*.nwb)")
        if not path:
            self.dock.show_message("NWB not exported: no file chosen")
            return None
        try:
            written = write_nwb(self.dock.state, path, meta)
        except (OSError, ValueError) as exc:
            self._refused("NWB not exported", exc)
            return None
        self.dock.show_message(f"NWB exported: {written}" + ("" if meta else " (no metadata file: DANDI will ask)"))
        return written

    def redcell(self) -> list[Path]:
        """Write ``planeN/redcell_cellector.npy`` (suite2p's layout) beside each plane's ``redcell.npy``."""
        from cellector.export.files import to_redcell

        if not self._saved_first():
            return []
        try:
            files = to_redcell(self.dock.state)
        except (OSError, ValueError) as exc:
            self._refused("labels not exported", exc)
            return []
        self.dock.show_message(f"suite2p labels exported: {', '.join(str(f) for f in files)}")
        return files

    def _on_nwb_triggered(self) -> None:
        self.nwb()

    def _on_redcell_triggered(self) -> None:
        self.redcell()

    def _on_figure_triggered(self) -> None:
        self.dock.save_figure()

    # ------------------------------------------------------------------ asking

    def _saved_first(self) -> bool:
        """Save unsaved changes first, after asking (exports hold the saved state); False: export nothing."""
        m = self.dock.state
        if not m.dirty:
            return True
        answer = QMessageBox.question(
            self.parent, "cellector", "Exports hold the saved curation. Save your changes first?"
        )
        if answer != QMessageBox.StandardButton.Yes or self.dock.save() is None:
            self.dock.show_message("not exported: the changes are not saved")
            return False
        return True

    def _ask_metadata(self) -> Path | None:
        """Ask once per window for the NWB metadata file (Cancel: none; DANDI will ask for it)."""
        if not self._metadata_asked:
            root = Path(self.dock.state.root_dir or ".").absolute()
            chosen, _ = QFileDialog.getOpenFileName(
                self.parent,
                "NWB metadata (neuroconv's YAML; Cancel: none) — used for every session of this window",
                str(root.parent),
                "YAML (*.yaml *.yml)",
            )
            self.metadata, self._metadata_asked = (Path(chosen) if chosen else None), True
        return self.metadata

    def _ask_file(self, title: str, suffix: str, filters: str) -> str:
        root = Path(self.dock.state.root_dir or ".").absolute()
        suggested = str(root.parent / f"{root.parent.name}_cellector{suffix}")
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggested, filters)
        return path

    def _refused(self, what: str, exc: BaseException) -> None:
        from cellector.study.batch import one_line

        text = one_line(exc)  # the command's own line
        self.dock.show_message(f"{what}: {text}")
        QMessageBox.warning(self.parent, f"cellector: {what}", text)
