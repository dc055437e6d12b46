"""The sessions panel: one row per session of the study, and the buttons to go to the next or previous one.

No behaviour: the study controller (:mod:`._study`) fills the rows and listens to
``chosen(index)`` (a click on a row), ``previous`` and ``next``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QFont
from qtpy.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cellector.study.status import UNOPENABLE, estimate_text

__all__ = ["PANEL_WIDTH", "SessionsPanel", "describe", "short_state", "shown_name"]

#: The panel's width in pixels: at 1366 x 768 the canvas keeps about 600 pixels.
PANEL_WIDTH = 290

_SHORT = {
    "not started": "new",
    "features computed": "features",
    "cutoffs set": "cutoffs",
    "saved": "saved",
    "changed since saved": "changed",
    "not this folder's": "foreign",
    "broken": "broken",
}


def short_state(row: dict[str, Any], progress: float | None = None) -> str:
    """Return a row's state in one word (or the progress of its features, computed in the background)."""
    if progress is not None:
        return f"computing {progress:.0%}"
    return _SHORT.get(row["state"], row["state"])


def shown_name(path: str) -> str:
    """Return a session's name as the table shows it: without the ``suite2p`` every session ends with."""
    head, _, tail = path.rpartition("/")
    return head if tail == "suite2p" and head else path


def _when(iso: str | None) -> str:
    if not iso:
        return "never"
    t = datetime.fromisoformat(iso)
    return t.strftime("%H:%M") if t.date() == datetime.now().date() else t.strftime("%Y-%m-%d %H:%M")


def describe(row: dict[str, Any]) -> str:
    """Return everything the panel knows of a session, in one line (the tooltip and the line below the table)."""
    if row["error"]:
        return f"{row['path']}: cannot be opened: {row['error']}"
    parts = [
        row["path"],
        f"{row['planes']} plane{'s' if row['planes'] != 1 else ''}, {row['rois']} ROIs",
        row["state"],
        f"saved {_when(row['saved_at'])}",
    ]
    if row.get("criteria_origin"):
        parts.append(f"cutoffs {row['criteria_origin']}")
    estimate = estimate_text(row.get("estimate"))
    if estimate:
        parts.append(f"estimated {estimate} when saved")
    return " · ".join(parts)


class SessionsPanel(QWidget):
    """The study's sessions: path, ROIs, selected, state; the current one in bold."""

    chosen = Signal(int)
    previous = Signal()
    next = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("", self)
        self.title.setWordWrap(True)
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(["session", "ROIs", "sel.", "state"])
        rows_header = self.table.verticalHeader()
        if rows_header is not None:
            rows_header.setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the canvas
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideLeft)  # the end of a long path is the telling part
        header = self.table.horizontalHeader()
        if header is not None:
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            for col in (1, 2, 3):
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.cellClicked.connect(self._on_table_cell_clicked)
        self.detail = QLabel("", self)
        self.detail.setWordWrap(True)
        self.previous_button = QPushButton("◀ Previous", self)
        self.previous_button.setToolTip("the previous session of the study (Shift+B)")
        self.next_button = QPushButton("Next ▶", self)
        self.next_button.setToolTip("the next session of the study (Shift+N)")
        self.previous_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        buttons = QHBoxLayout()
        buttons.addWidget(self.previous_button)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)
        self.setFixedWidth(PANEL_WIDTH)
        self.current = -1

    def _on_table_cell_clicked(self, row: int, _column: int) -> None:
        self.chosen.emit(row)

    def show_rows(self, title: str, rows: list[dict[str, Any]], progress: dict[int, float]) -> None:
        """Fill the table: one row per session, ``progress`` for those computing in the background."""
        self.title.setText(title)
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            self.show_row(i, row, progress.get(i))

    def show_row(self, i: int, row: dict[str, Any], progress: float | None = None) -> None:
        """Show session ``i``'s row (its tooltip says everything; broken rows say why)."""
        selected = "" if row["selected"] is None else str(row["selected"])
        rois = "" if row["rois"] is None else str(row["rois"])
        cells = [shown_name(row["path"]), rois, selected, short_state(row, progress)]
        tip = describe(row)
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(tip)
            if col:
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            if row["state"] in UNOPENABLE:
                item.setForeground(Qt.GlobalColor.red)
            self.table.setItem(i, col, item)
        self._embolden(i, i == self.current)
        if i == self.current:
            self.detail.setText(tip)

    def set_current(self, i: int, row: dict[str, Any]) -> None:
        """Mark session ``i`` as the one shown (bold, selected, scrolled to) and describe it below the table."""
        if 0 <= self.current < self.table.rowCount():
            self._embolden(self.current, False)
        self.current = i
        self._embolden(i, True)
        self.table.selectRow(i)
        item = self.table.item(i, 0)
        if item is not None:
            self.table.scrollToItem(item)
        self.detail.setText(describe(row))
        self.previous_button.setEnabled(i > 0)
        self.next_button.setEnabled(i < self.table.rowCount() - 1)

    def _embolden(self, i: int, on: bool) -> None:
        for col in range(self.table.columnCount()):
            item = self.table.item(i, col)
            if item is not None:
                font = QFont(item.font())
                font.setBold(on)
                item.setFont(font)
