"""CellectorManager: the single source of truth for criteria, manual labels and selection.

The window only renders this state and forwards user intent through its methods;
scripts call the same methods. Views follow through psygnal signals.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Generator, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from psygnal import Signal

from . import guidance, review
from .features import run_with_progress
from .history import Edit, History
from .io import store
from .io.journal import JOURNAL, Journal
from .roi_processor import RoiProcessor
from .saved_features import SavedFeatures

__all__ = ["Bounds", "CellectorManager"]

Bounds = tuple[float | None, float | None]


class CellectorManager:
    """Criteria, manual labels, the resulting selection, undo/redo and saving.

    Two constructors, told apart by the first argument:

    ``CellectorManager(roi_processor, criteria=None, manual_selection=None, load_saved=True,
    saved_state=None, exclude_features=None)``
        Over a :class:`RoiProcessor` (its ROIs and features).
    ``CellectorManager(root_dir, exclude_features=None, num_rois=None)``
        The published form: over what is saved in ``root_dir/cellector`` alone (every
        ``*_feature.npy`` a feature, its ``*_featurecriteria.npy`` its criterion,
        ``manual_selection.npy`` the labels). ``num_rois`` is needed when no feature is
        saved.

    Parameters
    ----------
    roi_processor : RoiProcessor
        Holds the ROIs and their features.
    criteria : dict, optional
        Feature name -> ``[min, max]`` (None for an unused bound).
    manual_selection : ndarray, optional
        bool ``(2, N)``: row 0 the label (True = selected), row 1 whether it is active.
    load_saved : bool
        Restore criteria and manual labels saved in ``root_dir/cellector`` (refused
        with :class:`~cellector.io.store.StoreError` when the ROIs changed since).
    exclude_features : iterable of str, optional
        Features that never take part in the selection (their criteria are kept).

    Signals
    -------
    criteria_changed(str) : a feature's criterion changed
    manual_changed(object) : manual labels of these ROI indices changed
    selection_changed() : the selection may have changed
    dirty_changed(bool) : unsaved changes appeared or were saved
    focus_changed(int) : the focused ROI changed (-1 for none)
    features_changed(str) : a feature was added or replaced (:meth:`add_feature`)
    """

    criteria_changed = Signal(str)
    features_changed = Signal(str)
    manual_changed = Signal(object)
    selection_changed = Signal()
    dirty_changed = Signal(bool)
    focus_changed = Signal(int)

    def __init__(self, roi_processor: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(roi_processor, (RoiProcessor, SavedFeatures)):
            self._init(roi_processor, *args, **kwargs)
        elif isinstance(roi_processor, (str, os.PathLike)):
            self._init_from_root(roi_processor, *args, **kwargs)
        else:
            raise ValueError(
                "CellectorManager needs a RoiProcessor or the folder holding cellector/, "
                f"got {type(roi_processor).__name__}"
            )

    def _init_from_root(
        self,
        root_dir: str | os.PathLike,
        exclude_features: Iterable[str] | None = None,
        num_rois: int | None = None,
        store_dir: str | os.PathLike | None = None,
    ) -> None:
        saved = SavedFeatures(
            Path(root_dir), num_rois=num_rois, store_dir=None if store_dir is None else Path(store_dir)
        )
        state = saved.state
        self._init(saved, saved_state=state, exclude_features=exclude_features)

    def _init(
        self,
        roi_processor: RoiProcessor | SavedFeatures,
        criteria: dict[str, Bounds] | None = None,
        manual_selection: np.ndarray | None = None,
        load_saved: bool = True,
        saved_state: dict | None = None,
        exclude_features: Iterable[str] | None = None,
    ) -> None:
        self.roi_processor = roi_processor
        if isinstance(exclude_features, str):
            exclude_features = [exclude_features]
        self.exclude_features: list[str] = list(exclude_features or [])
        #: Let features of the functional image guide too (off: red evidence decides)
        self.guide_with_functional = False
        n = roi_processor.num_rois
        self._criteria: dict[str, Bounds] = {name: (None, None) for name in roi_processor.features}
        self._label = np.zeros(n, bool)
        self._active = np.zeros(n, bool)
        self._meets_one: dict[str, np.ndarray] = {}
        self._history = History()
        self._dirty = False
        self._unsaved_other = False  # a change undo cannot take back (an added feature, a moved store)
        self._focus = -1
        self.notes: list[str] = [roi_processor.store_note] if roi_processor.store_note else []
        self._extra_criteria: dict[str, Bounds] = {}
        if load_saved and self.roi_processor.store is not None:
            self._load_saved(saved_state)
        for name, bounds in (criteria or {}).items():
            self._set_criterion(name, bounds)
        if manual_selection is not None:
            self._set_manual_array(manual_selection)

    # ------------------------------------------------------------------ construction

    @classmethod
    def make_from_roi_processor(
        cls, roi_processor: RoiProcessor, exclude_features: Iterable[str] | None = None, **kwargs: Any
    ) -> CellectorManager:
        """Make a manager over an existing RoiProcessor (computes missing features first)."""
        kwargs["exclude_features"] = exclude_features
        if roi_processor.missing_features():
            roi_processor.compute_features()
        return cls(roi_processor, **kwargs)

    @classmethod
    def from_folder(
        cls,
        path: str | Path,
        load_saved: bool = True,
        progress: Callable[[int, int], None] | None = None,
        **kwargs: Any,
    ) -> CellectorManager:
        """Open a suite2p folder: the saved state is validated first, then features (cached).

        Parameters
        ----------
        path : str or Path
            A suite2p folder (see :func:`cellector.io.suite2p.load_suite2p`).
        load_saved : bool
            Restore saved criteria and manual labels.
        progress : callable, optional
            ``progress(done, total)`` while features are computed.
        **kwargs
            ``reference_key``, ``functional_key``, ``iscell_only`` and processing parameters.
        """
        return run_with_progress(cls.iter_open(path, load_saved=load_saved, **kwargs), progress)

    @classmethod
    def iter_open(
        cls,
        path: str | Path,
        load_saved: bool = True,
        **kwargs: Any,
    ) -> Generator[tuple[int, int], None, CellectorManager]:
        """:meth:`from_folder` as a generator: yields ``(done, total)``, returns the manager.

        For front ends that load in a worker thread (``m = yield from iter_open(...)``).
        """
        from .io.base import create_from_suite2p

        kwargs["autocompute"] = False
        rp = create_from_suite2p(path, **kwargs)
        state = None
        if load_saved:
            # Validate everything saved before computing, so a bad store fails before any write.
            assert rp.store is not None
            state = store.load_state(rp.store)
            _check_same_rois(rp, state["metadata"], state["manual_selection"])
        yield from rp.iter_compute(saved_state=state)
        return cls(rp, load_saved=load_saved, saved_state=state)

    @property
    def root_dir(self) -> Path | None:
        """The folder whose ``cellector/`` holds the saved state."""
        r = self.roi_processor.root_dir
        return None if r is None else Path(r)

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

    def _check_bounds(self, name: str, bounds: Iterable) -> Bounds:
        if name not in self.features:
            raise ValueError(f"unknown feature {name!r}; features: {list(self.features)}")
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

    def _set_criterion(self, name: str, bounds: Iterable) -> bool:
        new = self._check_bounds(name, bounds)
        if self._criteria.get(name) == new:
            return False
        self._criteria[name] = new
        self._meets_one.pop(name, None)
        return True

    def update_criteria(self, feature: str, criterion: Iterable, coalesce: bool = False) -> None:
        """Set the criterion of ``feature`` to ``[min, max]`` (None: bound unused).

        The published signature. With ``coalesce=True`` consecutive changes of the same
        feature (a slider drag) form one undo step until :meth:`end_coalescing` or another
        action.
        """
        name = feature
        before = self._criteria.get(name, (None, None))
        if not self._set_criterion(name, criterion):
            return
        top = self._history.top
        if coalesce and top is not None and top.coalescing and top.kind == "criteria" and top.name == name:
            top.after = self._criteria[name]
        else:
            self._push(Edit("criteria", name, before, self._criteria[name], coalescing=coalesce))
        self._after_criteria(name)

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

    def end_coalescing(self) -> None:
        """Close the current coalesced undo step (e.g. when a slider is released)."""
        self._history.end_coalescing()

    def _after_criteria(self, name: str) -> None:
        self.criteria_changed.emit(name)
        self.selection_changed.emit()
        self._changed()

    def feature_meets(self, name: str) -> np.ndarray:
        """Bool (N,): ROIs within feature ``name``'s bounds (inclusive; NaN fails an active bound)."""
        if name not in self._meets_one:
            lo, hi = self._criteria.get(name, (None, None))
            v = self.features[name]
            ok = np.ones(v.shape, bool)
            with np.errstate(invalid="ignore"):
                if lo is not None:
                    ok &= v >= lo
                if hi is not None:
                    ok &= v <= hi
            self._meets_one[name] = ok
        return self._meets_one[name]

    def compute_idx_meets_criteria(self) -> np.ndarray:
        """Bool (N,): ROIs that meet every active criterion (excluded features take no part)."""
        ok = np.ones(self.num_rois, bool)
        for name in self._criteria:
            if name in self.features and name not in self.exclude_features and self._criteria[name] != (None, None):
                ok &= self.feature_meets(name)
        return ok

    @property
    def idx_meets_criteria(self) -> np.ndarray:
        """Bool (N,): ROIs that meet every active criterion (as :meth:`compute_idx_meets_criteria`)."""
        return self.compute_idx_meets_criteria()

    @property
    def idx_selected(self) -> np.ndarray:
        """Bool (N,): the final selection (as :meth:`compute_idx_selected`)."""
        return self.compute_idx_selected()

    def compute_idx_selected(self) -> np.ndarray:
        """Bool (N,): the criteria's decision, overridden by active manual labels."""
        return np.where(self._active, self._label, self.compute_idx_meets_criteria())

    # ------------------------------------------------------------------ describing the state

    @property
    def has_cutoffs(self) -> bool:
        """Whether any criterion of a feature that takes part in the selection has a bound."""
        return any(b != (None, None) for n, b in self._criteria.items() if n not in self.exclude_features)

    def plane_names(self) -> list[str]:
        """Return the plane folders in ROI order (``plane0``, ...; numbered when not from suite2p)."""
        session = getattr(self.roi_processor, "session", None)
        return review.plane_names(None if session is None else session.planes, self._roi_plane())

    def _roi_plane(self) -> np.ndarray:
        session = getattr(self.roi_processor, "session", None)
        if session is not None:
            return session.roi_plane
        rois = getattr(self.roi_processor, "rois", None)
        return rois.plane if rois is not None else np.zeros(self.num_rois, np.int64)

    def selected_per_plane(self, selected: np.ndarray | None = None) -> list[tuple[str, int, int]]:
        """Return ``(plane, selected, ROIs)`` for every plane."""
        sel = self.compute_idx_selected() if selected is None else selected
        return review.selected_per_plane(sel, self._roi_plane(), self.plane_names())

    def describe_roi(self, idx: int) -> str:
        """Return ``"ROI i (plane0 #k): feature=value, ... — decision"`` for status lines."""
        session = getattr(self.roi_processor, "session", None)
        where = f" ({session.planes[session.roi_plane[idx]]} #{session.suite2p_index[idx]})" if session else ""
        if self._active[idx]:
            decision = f"manually {'selected' if self._label[idx] else 'rejected'}"
        elif not self.has_cutoffs:
            decision = "no cutoffs set"
        else:
            decision = "selected" if self.compute_idx_meets_criteria()[idx] else "not selected"
        return review.describe_roi(idx, where, self.features, decision)

    def review_candidates(self, show: str = "all", near_cutoff: bool = False, fraction: float = 0.05) -> np.ndarray:
        """Return the ROIs a review loop visits, in index order (:func:`cellector.review.candidates`)."""
        return review.candidates(
            self.features, self._criteria, self.compute_idx_selected(), show, near_cutoff, fraction
        )

    # ------------------------------------------------------------------ guidance

    def review_queue(self) -> np.ndarray:
        """Return the ROIs without an active manual label, most informative to label first.

        See :mod:`cellector.guidance`: before both kinds of label exist it bisects the
        strongest feature's range; afterwards it favours ROIs near the fitted cutoffs and
        those on which features disagree. Excluded features take no part.
        """
        return guidance.review_queue(
            self.features, self._label, self._active, self.exclude_features, self.guide_with_functional
        )

    def suggestion(self) -> guidance.Suggestion | None:
        """Return the cutoffs fitted to the active manual labels, with their agreement (None: too few labels)."""
        return guidance.suggest(
            self.features, self._label, self._active, self.exclude_features, self.guide_with_functional
        )

    def suggest_criteria(self) -> dict[str, Bounds]:
        """Return ``{feature: (min|None, max|None)}`` for every feature, fitted to the manual labels.

        ``{}`` until there is at least one active label of each kind. :meth:`suggestion`
        also tells how well the rule agrees with the labels (leave-one-out).
        """
        s = self.suggestion()
        return {} if s is None else s.criteria

    def apply_suggested_criteria(self) -> guidance.Suggestion | None:
        """Set every criterion to the suggestion, as one undoable step; returns it (None: nothing to apply)."""
        s = self.suggestion()
        if s is not None:
            self.set_all_criteria(s.criteria)
        return s

    def set_all_criteria(self, criteria: Mapping[str, Iterable]) -> None:
        """Set several criteria at once (features not named keep theirs), as one undoable step."""
        before = dict(self._criteria)
        changed = [name for name, bounds in criteria.items() if self._set_criterion(name, bounds)]
        if not changed:
            return
        self._push(Edit("criteria_all", None, before, dict(self._criteria)))
        self._after_many(changed)

    def _after_many(self, names: list[str]) -> None:
        for name in names:
            self.criteria_changed.emit(name)
        self.selection_changed.emit()
        self._changed()

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
        self._push(Edit("manual", None, before, after, index))  # first: listeners of the change see can_undo
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

    def _apply_manual(self, index: np.ndarray, label: np.ndarray, active: np.ndarray, journal: bool = True) -> None:
        self._label[index] = label
        self._active[index] = active
        if journal:
            self._journal(index, label, active)
        self.manual_changed.emit(index)
        self.selection_changed.emit()
        self._changed()

    def _set_manual_array(self, ms: np.ndarray) -> None:
        ms = np.asarray(ms, bool)
        if ms.shape != (2, self.num_rois):
            raise ValueError(f"manual selection must have shape (2, {self.num_rois}), got {ms.shape}")
        self._label, self._active = ms[0].copy(), ms[1].copy()

    # ------------------------------------------------------------------ undo / redo

    def _push(self, edit: Edit) -> None:
        self._history.push(edit)

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
        if edit.kind == "criteria_all":
            changed = [name for name, bounds in state.items() if self._set_criterion(name, bounds)]
            self._after_many(changed)
        elif edit.kind == "criteria":
            assert edit.name is not None
            self._set_criterion(edit.name, state)
            self._after_criteria(edit.name)
        else:
            assert edit.index is not None
            self._apply_manual(edit.index, state[0], state[1])
        if not self._dirty:  # back where it was saved: nothing for crash recovery to offer
            self._clear_journal()
        return True

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

    # ------------------------------------------------------------------ saving and loading

    @property
    def store_note(self) -> str | None:
        """Why the state is not in ``<root>/cellector`` (a read-only folder), else None."""
        return self.roi_processor.store_note

    @property
    def store_dir(self) -> Path | None:
        """The folder the state is saved to (``<root>/cellector`` unless told or read-only)."""
        return self.roi_processor.store

    def move_store(self, folder: str | os.PathLike) -> None:
        """Save to ``folder`` from now on (e.g. chosen when the suite2p folder is read-only)."""
        new = store.StoreDir(Path(folder))
        old_journal = self._journal_file().path
        self.roi_processor.store = new
        self.roi_processor.store_note = None
        if old_journal is not None and old_journal.is_file():  # the journal follows the store
            new.mkdir(parents=True, exist_ok=True)
            shutil.move(old_journal, new / JOURNAL)
        self._changed(undoable=False)

    def _require_root(self) -> store.StoreDir:
        if self.roi_processor.store is None:
            raise ValueError("this manager has no root folder to save to")
        return self.roi_processor.store

    def _meta(self) -> dict:
        # Labels are tied to the ROIs they were made on (features have their own provenance).
        return {
            **self.roi_processor.metadata(),
            "labels_roi_fingerprint": self.roi_processor.roi_fingerprint,
            "n_selected": int(self.compute_idx_selected().sum()),
        }

    def save_features(self) -> None:
        """Save the features (with provenance)."""
        store.save_state(self._require_root(), self._meta(), features=self.features)

    def save_criteria(self) -> None:
        """Save every criterion (``{name}_featurecriteria.npy``); files of unknown features are kept."""
        crit = {**self._extra_criteria, **self._criteria}
        store.save_state(self._require_root(), self._meta(), criteria=crit)

    def save_manual_selection(self) -> None:
        """Save the manual labels (``manual_selection.npy``, bool (2, N))."""
        store.save_state(self._require_root(), self._meta(), manual_selection=self.manual_selection)
        self._clear_journal()

    def save_idx_selected(self) -> None:
        """Save the final selection (``idx_selected.npy``, bool (N,))."""
        store.save_state(self._require_root(), self._meta(), idx_selected=self.compute_idx_selected())

    def save_all(self) -> Path:
        """Save features, criteria, manual labels and selection as one state; returns the folder."""
        folder = store.save_state(
            self._require_root(),
            self._meta(),
            features=self.features,
            criteria={**self._extra_criteria, **self._criteria},
            manual_selection=self.manual_selection,
            idx_selected=self.compute_idx_selected(),
        )
        self._clear_journal()
        self.mark_saved()
        return folder

    def _load_saved(self, state: dict | None = None) -> None:
        if state is None:
            state = store.load_state(self._require_root())
            _check_same_rois(self.roi_processor, state["metadata"], state["manual_selection"])
        self.notes += state["notes"]
        if state["metadata"] is None and state["manual_selection"] is not None:
            self.notes.append(
                "labels saved by the published cellector: its ROI order may not follow "
                "the plane numbers (plane10 before plane2)"
            )
        for name, bounds in state["criteria"].items():
            if name in self.features:
                self._set_criterion(name, bounds)
            else:
                self._extra_criteria[name] = bounds  # kept, never deleted
        if state["manual_selection"] is not None:
            self._set_manual_array(state["manual_selection"])
        if "idx_selected.npy" in state.get("changed_outside", []) and state["idx_selected"] is not None:
            self._adopt_selection(state["idx_selected"])

    def _adopt_selection(self, on_disk: np.ndarray) -> None:
        """Keep a selection another program wrote: the ROIs where it differs become manual labels.

        The saved cutoffs stay, and the selection then equals the file analysis code
        reads; the state is unsaved until the user saves it.
        """
        if on_disk.shape != (self.num_rois,):
            raise store.StoreError(
                f"idx_selected.npy was rewritten outside cellector with {on_disk.size} values, "
                f"but the folder has {self.num_rois} ROIs"
            )
        differ = np.flatnonzero(self.compute_idx_selected() != on_disk)
        if not differ.size:
            return
        self._label[differ] = on_disk[differ]
        self._active[differ] = True
        self._dirty = True
        self.notes.append(_adoption_note(differ.size))

    # ------------------------------------------------------------------ journal (crash recovery)

    def _journal_file(self) -> Journal:
        return Journal(self.roi_processor.store, self.roi_processor.roi_fingerprint)

    def _journal(self, index: np.ndarray, label: np.ndarray, active: np.ndarray) -> None:
        problem = self._journal_file().append(index, label, active)
        if problem is not None:
            self.notes.append(problem)

    def _clear_journal(self) -> None:
        self._journal_file().clear()

    def pending_journal(self) -> int:
        """Count the manual edits journalled since the last save (a crashed session)."""
        return len(self._journal_file().entries())

    def recover_journal(self) -> int:
        """Replay journalled manual edits of a crashed session (one undo step); returns how many."""
        entries = self._journal_file().entries()
        if not entries:
            return 0
        before = (self._label.copy(), self._active.copy())
        for e in entries:
            idx = np.asarray(e["index"], np.int64)
            if idx.size and idx.max() < self.num_rois:
                self._label[idx] = e["label"]
                self._active[idx] = e["active"]
        everything = np.arange(self.num_rois)
        self._push(Edit("manual", None, before, (self._label.copy(), self._active.copy()), everything))
        self.manual_changed.emit(everything)
        self.selection_changed.emit()
        self._changed()
        return len(entries)

    def discard_journal(self) -> None:
        """Forget journalled edits of a crashed session."""
        self._clear_journal()


def _adoption_note(n: int) -> str:
    """Describe what happens to a selection rewritten outside cellector that differs on ``n`` ROIs."""
    rois = "1 ROI differs" if n == 1 else f"{n} ROIs differ"
    return (
        f"idx_selected.npy was rewritten outside cellector: {rois} from the saved cutoffs and labels; "
        "the cutoffs are kept and those ROIs become manual labels, so the selection equals the file"
    )


def _check_same_rois(rp: RoiProcessor | SavedFeatures, meta: dict | None, manual: np.ndarray | None) -> None:
    """Refuse saved labels that were made for other ROIs (stat.npy changed since)."""
    n = rp.num_rois
    saved_fp = (meta or {}).get("labels_roi_fingerprint")
    if saved_fp is None:  # labels written by the published cellector: only N can be checked
        if manual is not None and manual.shape[1] != n:
            raise store.StoreError(
                f"saved manual selection covers {manual.shape[1]} ROIs but the folder has {n}; "
                "stat.npy changed since it was saved"
            )
        return
    if saved_fp != rp.roi_fingerprint:
        raise store.StoreError(
            "the ROIs changed since the labels were saved (stat.npy edited, e.g. by the suite2p GUI, "
            f"or a different ROI subset); refusing to apply them. Saved: {(meta or {}).get('n_rois')} ROIs, now {n}"
        )


def _read_only(arr: np.ndarray) -> np.ndarray:
    view = arr.view()
    view.flags.writeable = False
    return view
