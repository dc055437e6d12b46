"""Undo and redo of a curation: typed edit records, coalesced drags, and where it was saved.

No state of its own beyond the records: :class:`~cellector.manager.CellectorManager`
applies an edit's ``before`` or ``after`` itself. The history knows which record was on
top when the state was saved, so undoing back there makes the state clean again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["UNDO_DEPTH", "Edit", "History"]

#: Edits kept for undo; older ones fall off.
UNDO_DEPTH = 100

#: Stands for a saved state that undo can no longer reach.
_UNREACHABLE = object()


@dataclass(eq=False)  # records are compared by identity: the saved point is one record
class Edit:
    """One undoable user action: a criterion change, several at once, or a manual-label change."""

    kind: str  # "criteria" | "criteria_all" | "manual"
    name: str | None = None
    before: Any = None
    after: Any = None
    index: np.ndarray | None = None
    coalescing: bool = False
    #: Where the cutoffs came from before and after a criteria edit (``criteria_origin``); undo restores it.
    origin: tuple[str | None, str | None] = (None, None)

    def describe(self) -> str:
        """Return the edit in words ("label of ROI 5", "dot_product cutoffs")."""
        if self.kind == "criteria":
            return f"{self.name} cutoffs"
        if self.kind == "criteria_all":
            return "cutoffs set together"
        n = 0 if self.index is None else self.index.size
        return f"label of ROI {int(self.index[0])}" if n == 1 and self.index is not None else f"labels of {n} ROIs"


class History:
    """The undo and redo stacks of one curation, and its saved point."""

    def __init__(self) -> None:
        self.undone: list[Edit] = []  # redo stack
        self.done: list[Edit] = []  # undo stack
        self._saved: object | None = None  # the undo stack's top when last saved (None: empty)

    @property
    def top(self) -> Edit | None:
        """Return the last edit done (None: none)."""
        return self.done[-1] if self.done else None

    def push(self, edit: Edit) -> None:
        """Record a new edit: redo is gone, the oldest edit beyond :data:`UNDO_DEPTH` too."""
        if self.done:
            self.done[-1].coalescing = self.done[-1].coalescing and edit.coalescing
        self.done.append(edit)
        del self.done[:-UNDO_DEPTH]
        self.undone.clear()
        if not self._saved_reachable():
            self._saved = _UNREACHABLE  # the saved state was trimmed away or undone and replaced

    def _saved_reachable(self) -> bool:
        if self._saved is None:  # saved with an empty stack: reachable while nothing was trimmed
            return len(self.done) < UNDO_DEPTH
        return any(e is self._saved for e in self.done)

    def end_coalescing(self) -> None:
        """Close the current coalesced edit (a released slider): the next change is a new edit."""
        if self.done:
            self.done[-1].coalescing = False

    def step(self, back: bool) -> tuple[Edit, Any] | None:
        """Move one edit from undo to redo (``back``) or the other way; its state to apply, or None."""
        src, dst = (self.done, self.undone) if back else (self.undone, self.done)
        if not src:
            return None
        edit = src.pop()
        edit.coalescing = False
        dst.append(edit)
        return edit, edit.before if back else edit.after

    def mark_saved(self) -> None:
        """Remember the current edit as the saved point."""
        self.end_coalescing()  # a drag that goes on after saving is a new change
        self._saved = self.top

    @property
    def at_saved(self) -> bool:
        """Whether undo/redo stand exactly where the state was saved."""
        return self.top is self._saved
