"""The selection state of one curation: criteria, manual labels, the selection, focus, undo.

No I/O: :class:`SelectionState` holds what the curator decided and says so through
psygnal signals; :class:`~cellector.manager.CellectorManager` adds saving, loading and
guidance on top of it. The selection is every active criterion (inclusive bounds, NaN
fails), then active manual labels override.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from psygnal import Signal

from cellector.curation.history import Edit, History
from cellector.roi_processor.source import FeatureSource

__all__ = ["Bounds", "SelectionState", "adjusted", "check_bounds", "within"]

Bounds = tuple[float | None, float | None]


class SelectionState:
    """Criteria, manual labels, the resulting selection, focus, dirty flag and undo/redo.

    Parameters
    ----------
    source : FeatureSource
        Holds the ROIs' features (a RoiProcessor, or features read from a store).
    exclude_features : iterable of str, optional
        Features that never take part in the selection (their criteria are kept).

    Signals
    -------
    criteria_changed(str), features_changed(str) : a feature's criterion changed; a feature was added
    manual_changed(object) : manual labels of these ROI indices changed
    selection_changed(), dirty_changed(bool), focus_changed(int) : the selection may have changed;
    unsaved changes appeared or were saved; the focused ROI changed (-1: none)
    """

    criteria_changed = Signal(str)
    features_changed = Signal(str)
    manual_changed = Signal(object)
    selection_changed = Signal()
    dirty_changed = Signal(bool)
    focus_changed = Signal(int)

    def __init__(self, source: FeatureSource, exclude_features: Iterable[str] | None = None) -> None:
        self.roi_processor = source
        if isinstance(exclude_features, str):
            exclude_features = [exclude_features]
        self.exclude_features: list[str] = list(exclude_features or [])
        n = source.num_rois
        self._criteria: dict[str, Bounds] = {name: (None, None) for name in source.features}
        self._extra_criteria: dict[str, Bounds] = {}  # of features absent here: kept, saved, never deleted
        self._label = np.zeros(n, bool)
        self._active = np.zeros(n, bool)
        self._meets_one: dict[str, np.ndarray] = {}
        self._history = History()
        self._dirty = False
        self._unsaved_other = False  # a change undo cannot take back (an added feature, a moved store)
        self._focus = -1
        #: Where the cutoffs came from ("suggested from 12 labels", "from day1/suite2p", "set here"; None: none)
        self.criteria_origin: str | None = None

    @property
    def num_rois(self) -> int:
        """Number of ROIs."""
        return self.roi_processor.num_rois

    @property
    def features(self) -> dict[str, np.ndarray]:
        """Feature name -> (N,) values."""
        return self.roi_processor.features

    # ------------------------------------------------------------------ criteria

    @property
    def criteria(self) -> dict[str, Bounds]:
        """Feature name -> ``(min, max)``; None is an unused bound. A copy."""
        return dict(self._criteria)

    def _set_criterion(self, name: str, bounds: Iterable) -> bool:
        if name not in self.features:
            raise ValueError(f"unknown feature {name!r}; features: {list(self.features)}")
        new = check_bounds(name, bounds)
        if self._criteria.get(name) == new:
            return False
        self._criteria[name] = new
        self._meets_one.pop(name, None)
        return True

    def update_criteria(self, feature: str, criterion: Iterable, coalesce: bool = False) -> None:
        """Set the criterion of ``feature`` to ``[min, max]`` (None: bound unused); the published signature.

        ``coalesce=True``: changes of one feature (a slider drag) form one undo step until :meth:`end_coalescing`.
        """
        name = feature
        before = self._criteria.get(name, (None, None))
        if not self._set_criterion(name, criterion):
            return  # nothing moved: neither the cutoffs nor where they came from change
        origin = (self.criteria_origin, adjusted(self.criteria_origin))
        self.criteria_origin = origin[1]
        top = self._history.top
        if coalesce and top is not None and top.coalescing and top.kind == "criteria" and top.name == name:
            top.after = self._criteria[name]
            top.origin = (top.origin[0], origin[1])
        else:
            edit = Edit("criteria", name, before, self._criteria[name], coalescing=coalesce, origin=origin)
            self._history.push(edit)
        self._after_criteria([name])

    def set_all_criteria(self, criteria: Mapping[str, Iterable], origin: str | None = None) -> None:
        """Set several criteria at once (features not named keep theirs), as one undoable step.

        ``origin`` says where they came from (``criteria_origin``); None counts as set here.
        Nothing changes, the origin included, when every criterion already has its value.
        """
        before = dict(self._criteria)
        changed = [name for name, bounds in criteria.items() if self._set_criterion(name, bounds)]
        if changed:
            origins = (self.criteria_origin, adjusted(self.criteria_origin) if origin is None else origin)
            self.criteria_origin = origins[1]
            self._history.push(Edit("criteria_all", None, before, dict(self._criteria), origin=origins))
            self._after_criteria(changed)

    def end_coalescing(self) -> None:
        """Close the current coalesced undo step (e.g. when a slider is released)."""
        self._history.end_coalescing()

    def _after_criteria(self, names: list[str]) -> None:
        for name in names:
            self.criteria_changed.emit(name)
        self.selection_changed.emit()
        self._changed()

    def add_feature(self, name: str, values: Any) -> None:
        """Add (or replace) a feature computed elsewhere (one number per ROI); it gets no criterion yet.

        A criterion saved earlier for ``name`` (kept while the feature was absent) applies again.
        """
        self.roi_processor.add_feature(name, values)
        self._meets_one.pop(name, None)
        self._criteria.setdefault(name, self._extra_criteria.pop(name, (None, None)))
        self.features_changed.emit(name)  # views add (or refill) the feature's card
        self.selection_changed.emit()
        self._changed(undoable=False)

    # ------------------------------------------------------------------ the selection

    def feature_meets(self, name: str) -> np.ndarray:
        """Bool (N,): ROIs within feature ``name``'s bounds (inclusive; NaN fails an active bound)."""
        if name not in self._meets_one:
            self._meets_one[name] = within(self.features[name], self._criteria.get(name, (None, None)))
        return self._meets_one[name]

    def compute_idx_meets_criteria(self) -> np.ndarray:
        """Bool (N,): ROIs that meet every active criterion (excluded features take no part)."""
        ok = np.ones(self.num_rois, bool)
        for name, bounds in self._criteria.items():
            if name in self.features and name not in self.exclude_features and bounds != (None, None):
                ok &= self.feature_meets(name)
        return ok

    @property
    def idx_meets_criteria(self) -> np.ndarray:
        """Bool (N,): ROIs that meet every active criterion (as :meth:`compute_idx_meets_criteria`)."""
        return self.compute_idx_meets_criteria()

    def compute_idx_selected(self) -> np.ndarray:
        """Bool (N,): the criteria's decision, overridden by active manual labels."""
        return np.where(self._active, self._label, self.compute_idx_meets_criteria())

    @property
    def idx_selected(self) -> np.ndarray:
        """Bool (N,): the final selection (as :meth:`compute_idx_selected`)."""
        return self.compute_idx_selected()

    @property
    def has_cutoffs(self) -> bool:
        """Whether any criterion of a feature that takes part in the selection has a bound."""
        return any(b != (None, None) for n, b in self._criteria.items() if n not in self.exclude_features)

    # ------------------------------------------------------------------ manual labels

    @property
    def manual_label(self) -> np.ndarray:
        """Bool (N,): each ROI's manual label, True = selected (a read-only view)."""
        return _read_only(self._label)

    @property
    def manual_label_active(self) -> np.ndarray:
        """Bool (N,): whether each ROI's manual label overrides the criteria (a read-only view)."""
        return _read_only(self._active)

    @property
    def manual_selection(self) -> np.ndarray:
        """Bool (2, N): row 0 label, row 1 active (a copy)."""
        return np.stack([self._label, self._active])

    def update_manual_labels(self, idx: Any, label: Any, active: Any = True) -> None:
        """Set manual labels of ROIs ``idx`` (int, array or bool mask) to ``label`` (active by default)."""
        index = np.unique(np.arange(self.num_rois)[idx]).astype(np.int64)
        if index.size == 0:
            return
        before = (self._label[index].copy(), self._active[index].copy())
        lab = np.broadcast_to(np.asarray(label, bool), index.shape)
        act = np.broadcast_to(np.asarray(active, bool), index.shape)
        after = (lab.copy(), act.copy())
        if np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1]):
            return
        self._history.push(Edit("manual", None, before, after, index))  # first: listeners see can_undo
        self._apply_manual(index, *after)

    def flip(self, idx: int) -> bool:
        """Flip ROI ``idx``'s current decision with an active manual label; returns the new decision."""
        new = not bool(self.compute_idx_selected()[idx])
        self.update_manual_labels(int(idx), new, True)
        return new

    def clear_manual_labels(self, idx: Any = None) -> None:
        """Deactivate the manual labels of ``idx`` (all ROIs when None): the criteria decide again."""
        index = np.flatnonzero(self._active) if idx is None else np.arange(self.num_rois)[idx]
        index = np.atleast_1d(index)
        index = index[self._active[index]]
        if index.size:
            self.update_manual_labels(index, self._label[index], False)

    def _apply_manual(self, index: np.ndarray, label: np.ndarray, active: np.ndarray) -> None:
        self._label[index] = label
        self._active[index] = active
        self._record_manual(index, label, active)
        self.manual_changed.emit(index)
        self.selection_changed.emit()
        self._changed()

    def _record_manual(self, index: np.ndarray, label: np.ndarray, active: np.ndarray) -> None:
        """Hear of every manual edit as it is applied (the manager journals them)."""

    def restore(self, criteria: Mapping[str, Bounds], manual_selection: np.ndarray | None) -> None:
        """Start from a saved state (no undo step, no signal); criteria of absent features are kept aside."""
        for name, bounds in criteria.items():
            if name in self.features:
                self._set_criterion(name, bounds)
            else:
                self._extra_criteria[name] = bounds
        if manual_selection is not None:
            ms = np.asarray(manual_selection, bool)
            if ms.shape != (2, self.num_rois):
                raise ValueError(f"manual selection must have shape (2, {self.num_rois}), got {ms.shape}")
            self._label, self._active = ms[0].copy(), ms[1].copy()

    def adopt_selection(self, on_disk: np.ndarray) -> int:
        """Make the selection equal ``on_disk``: ROIs that differ get manual labels (unsaved); returns how many."""
        if on_disk.shape != (self.num_rois,):
            raise ValueError(f"a selection of {on_disk.size} values for {self.num_rois} ROIs")
        differ = np.flatnonzero(self.compute_idx_selected() != on_disk)
        self._label[differ] = on_disk[differ]
        self._active[differ] = True
        self._dirty = self._dirty or bool(differ.size)
        return int(differ.size)

    # ------------------------------------------------------------------ undo / redo

    @property
    def can_undo(self) -> bool:
        """Whether there is an action to undo."""
        return bool(self._history.done)

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone action to redo."""
        return bool(self._history.undone)

    @property
    def undo_text(self) -> str | None:
        """What :meth:`undo` would take back, in words ("label of ROI 5"), or None."""
        return self._history.done[-1].describe() if self._history.done else None

    @property
    def redo_text(self) -> str | None:
        """What :meth:`redo` would do again, in words, or None."""
        return self._history.undone[-1].describe() if self._history.undone else None

    def undo(self) -> bool:
        """Undo the last action; returns False when there is none."""
        return self._step(back=True)

    def redo(self) -> bool:
        """Redo the last undone action; returns False when there is none."""
        return self._step(back=False)

    def _step(self, back: bool) -> bool:
        moved = self._history.step(back)
        if moved is None:
            return False
        edit, state = moved
        if edit.kind != "manual":
            self.criteria_origin = edit.origin[0 if back else 1]
        if edit.kind == "criteria_all":
            self._after_criteria([name for name, bounds in state.items() if self._set_criterion(name, bounds)])
        elif edit.kind == "criteria":
            assert edit.name is not None
            self._set_criterion(edit.name, state)
            self._after_criteria([edit.name])
        else:
            assert edit.index is not None
            self._apply_manual(edit.index, state[0], state[1])
        if not self._dirty:
            self._back_at_saved()
        return True

    def _back_at_saved(self) -> None:
        """Undo or redo came back to the saved state (the manager forgets its crash journal)."""

    # ------------------------------------------------------------------ focus and dirty

    @property
    def focus(self) -> int:
        """The focused ROI (-1: none)."""
        return self._focus

    def set_focus(self, idx: int) -> None:
        """Focus ROI ``idx`` (-1 clears); views mark it."""
        idx = int(idx)
        if not -1 <= idx < self.num_rois:
            raise IndexError(f"ROI {idx} does not exist (0..{self.num_rois - 1})")
        if idx != self._focus:
            self._focus = idx
            self.focus_changed.emit(idx)

    @property
    def dirty(self) -> bool:
        """Whether there are unsaved changes."""
        return self._dirty

    def mark_saved(self) -> None:
        """Declare the current state saved (the caller saved it, or chose to discard the changes).

        Undoing or redoing back to this state later makes it clean again (no "*", no question).
        """
        self._history.mark_saved()
        self._unsaved_other = False
        self._set_dirty(False)

    def _changed(self, undoable: bool = True) -> None:
        """After a change: dirty unless undo/redo has come back to the saved state."""
        if not undoable:
            self._unsaved_other = True
        self._set_dirty(self._unsaved_other or not self._history.at_saved)

    def _set_dirty(self, value: bool) -> None:
        if value != self._dirty:
            self._dirty = value
            self.dirty_changed.emit(value)


def adjusted(origin: str | None) -> str:
    """Return where cutoffs from ``origin`` came from once they are changed by hand here.

    Cutoffs of no origin, or set here, stay "set here"; cutoffs from somewhere else
    ("suggested from 12 labels", "from day1/suite2p") become "…, adjusted", once.
    """
    if origin is None or origin.endswith("set here"):
        return "set here"
    return origin if origin.endswith("adjusted") else f"{origin}, adjusted"


def check_bounds(name: str, bounds: Iterable) -> Bounds:
    """Return ``bounds`` as ``(min|None, max|None)`` floats, or raise ``ValueError`` naming ``name``.

    Each bound is None or a finite number (not a bool); min never exceeds max.
    """
    b = list(bounds)
    if len(b) != 2:
        raise ValueError(f"criterion for {name!r} must be [min, max], got {b!r}")
    out: list[float | None] = []
    for v in b:
        if v is None:
            out.append(None)
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v):
            out.append(float(v))
        else:
            raise ValueError(f"criterion bounds for {name!r} must be finite numbers or None, got {v!r}")
    if out[0] is not None and out[1] is not None and out[0] > out[1]:
        raise ValueError(f"criterion for {name!r}: min {out[0]} exceeds max {out[1]}")
    return out[0], out[1]


def within(values: np.ndarray, bounds: Bounds) -> np.ndarray:
    """Bool mask of ``values`` inside ``bounds`` (inclusive; NaN fails an active bound, passes none)."""
    lo, hi = bounds
    ok = np.ones(np.shape(values), bool)
    with np.errstate(invalid="ignore"):
        if lo is not None:
            ok &= values >= lo
        if hi is not None:
            ok &= values <= hi
    return ok


def _read_only(arr: np.ndarray) -> np.ndarray:
    view = arr.view()
    view.flags.writeable = False
    return view
