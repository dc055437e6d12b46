"""CellectorManager: the published face of a curation — selection state, store and guidance together.

The window only renders this state and forwards user intent through its methods;
scripts call the same methods. Views follow through psygnal signals. The state itself
(criteria, labels, undo) is :class:`~cellector.curation.selection.SelectionState`; where it is
kept is a :class:`~cellector.curation.store.CurationStore`; the pure helpers are
:mod:`cellector.guidance.review` and :mod:`cellector.guidance.suggest`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cellector.curation.saved import SavedFeatures
from cellector.curation.selection import Bounds, SelectionState
from cellector.curation.store import CurationStore, restore_state
from cellector.features.compute import run_with_progress
from cellector.guidance import review
from cellector.guidance import suggest as guidance
from cellector.guidance.session import SessionGuidance
from cellector.roi_processor.processor import RoiProcessor
from cellector.roi_processor.source import FeatureSource

if TYPE_CHECKING:
    from cellector.io.suite2p import Session

__all__ = ["CellectorManager"]


class CellectorManager(SelectionState):
    """Criteria, manual labels, the resulting selection, undo/redo, saving and guidance.

    Two constructors, told apart by the first argument: ``CellectorManager(roi_processor,
    criteria=None, manual_selection=None, load_saved=True, saved_state=None,
    exclude_features=None)`` over a :class:`RoiProcessor`, and the published
    ``CellectorManager(root_dir, exclude_features=None, num_rois=None)`` over what is saved
    in ``root_dir/cellector`` alone (``num_rois`` is needed when no feature is saved).

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
    curation : CurationStore, optional
        The store of the folder, when the caller made it already (:meth:`iter_open` checks
        the saved state with it first): a folder opened has one store.

    Signals
    -------
    As :class:`~cellector.curation.selection.SelectionState`.
    """

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
        self._init(saved, saved_state=saved.state, exclude_features=exclude_features)

    def _init(
        self,
        roi_processor: FeatureSource,
        criteria: dict[str, Bounds] | None = None,
        manual_selection: np.ndarray | None = None,
        load_saved: bool = True,
        saved_state: dict | None = None,
        exclude_features: Iterable[str] | None = None,
        curation: CurationStore | None = None,
    ) -> None:
        super().__init__(roi_processor, exclude_features)
        #: Guided review: the guide over the features, labels carried over, the functional opt-in
        self.guidance = SessionGuidance(self)
        #: Where the curation is saved (starts where the features are cached); one per folder opened
        self.curation = curation if curation is not None else CurationStore.of(roi_processor)
        self.notes: list[str] = [roi_processor.store_note] if roi_processor.store_note else []
        if load_saved and self.curation.folder is not None:
            self._load_saved(saved_state)
        for name, bounds in (criteria or {}).items():
            self._set_criterion(name, bounds)  # an unknown feature is an error here
        self.restore({}, manual_selection)

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
        path: str | Path | Session,
        load_saved: bool = True,
        progress: Callable[[int, int], None] | None = None,
        **kwargs: Any,
    ) -> CellectorManager:
        """Open a suite2p folder: the saved state is validated first, then features (cached).

        Parameters
        ----------
        path : str, Path or Session
            A suite2p folder (see :func:`cellector.io.suite2p.load_suite2p`), or a
            :class:`~cellector.io.suite2p.Session` read already.
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
        path: str | Path | Session,
        load_saved: bool = True,
        **kwargs: Any,
    ) -> Generator[tuple[int, int], None, CellectorManager]:
        """:meth:`from_folder` as a generator: yields ``(done, total)``, returns the manager.

        For front ends that load in a worker thread (``m = yield from iter_open(...)``).
        """
        from cellector.roi_processor.create import create_from_suite2p

        kwargs["autocompute"] = False
        rp = create_from_suite2p(path, **kwargs)
        curation = CurationStore.of(rp)  # the one store of this folder: it checks the state, then keeps it
        # Validate everything saved before computing, so a bad store fails before any write.
        state = curation.load() if load_saved else None
        yield from rp.iter_compute(saved_state=state)
        return cls(rp, load_saved=load_saved, saved_state=state, curation=curation)

    @property
    def root_dir(self) -> Path | None:
        """The folder whose ``cellector/`` holds the saved state."""
        r = self.roi_processor.root_dir
        return None if r is None else Path(r)

    # ------------------------------------------------------------------ describing the state

    def plane_names(self) -> list[str]:
        """Return the plane folders in ROI order (``plane0``, ...; numbered when not from suite2p)."""
        return review.plane_names(self.roi_processor.plane_list, self.roi_processor.roi_plane)

    def selected_per_plane(self, selected: np.ndarray | None = None) -> list[tuple[str, int, int]]:
        """Return ``(plane, selected, ROIs)`` for every plane."""
        sel = self.compute_idx_selected() if selected is None else selected
        return review.selected_per_plane(sel, self.roi_processor.roi_plane, self.plane_names())

    def describe_roi(self, idx: int) -> str:
        """Return ``"ROI i (plane0 #k), decision: feature=value, ..."`` for status lines."""
        session = self.roi_processor.session
        where = f" ({session.planes[session.roi_plane[idx]]} #{session.suite2p_index[idx]})" if session else ""
        if self._active[idx]:
            decision = f"manually {'selected' if self._label[idx] else 'rejected'}"
        elif not self.has_cutoffs:
            decision = "no cutoffs set"
        else:
            decision = "selected" if self.compute_idx_meets_criteria()[idx] else "not selected"
        return review.describe_roi(idx, where, self.features, decision)

    def review_candidates(self, show: str = "all", near_cutoff: bool = False, fraction: float = 0.05) -> np.ndarray:
        """Return the ROIs a review loop visits, near a cutoff nearest first (:func:`.review.candidates`)."""
        return review.candidates(
            self.features, self._criteria, self.compute_idx_selected(), show, near_cutoff, fraction
        )

    # ------------------------------------------------------------------ guidance

    @property
    def guide_with_functional(self) -> bool:
        """Whether features of the functional image guide too (off: red evidence decides)."""
        return self.guidance.with_functional

    @guide_with_functional.setter
    def guide_with_functional(self, value: bool) -> None:
        self.guidance.with_functional = bool(value)

    def review_queue(self) -> np.ndarray:
        """Return the ROIs without an active manual label, most informative first (:mod:`cellector.guidance`)."""
        return self.guidance.review_queue()

    def suggestion(self) -> guidance.Suggestion | None:
        """Return the cutoffs fitted to the manual labels (carried ones count) and their estimate; None: too few."""
        return self.guidance.suggestion()

    def estimate_selection(self) -> guidance.Estimate | None:
        """Return the current selection's estimated precision, recall and F1 (None: too few labels)."""
        return self.guidance.assess()

    def suggest_criteria(self) -> dict[str, Bounds]:
        """Return ``{feature: (min|None, max|None)}`` fitted to the manual labels (``{}``: too few labels)."""
        s = self.suggestion()
        return {} if s is None else s.criteria

    def apply_suggested_criteria(self) -> guidance.Suggestion | None:
        """Set every criterion to the suggestion, as one undoable step; returns it (None: nothing to apply)."""
        s = self.suggestion()
        if s is not None:
            self.apply_criteria(s.criteria, f"suggested from {s.n_labels} labels")
        return s

    def apply_criteria(self, criteria: Mapping[str, Iterable], origin: str) -> None:
        """Set several criteria as one undoable step and say where they came from (``criteria_origin``)."""
        self.set_all_criteria({k: v for k, v in criteria.items() if k in self.features}, origin)

    def carry_labels_from(self, *sources: Any) -> int:
        """Seed guidance with the manual labels of other sessions of the study; returns how many.

        ``sources`` are managers, or folders whose ``cellector/`` holds a saved curation.
        Each session's features are put on its own scale first, so brightness that differs
        between sessions does not matter. No source clears the carried labels.
        """
        others = [src if isinstance(src, CellectorManager) else CellectorManager(Path(src)) for src in sources]
        return self.guidance.carry_from(others)

    # ------------------------------------------------------------------ saving and loading

    @property
    def store_note(self) -> str | None:
        """Why the state is not in ``<root>/cellector`` (a read-only folder), else None."""
        return self.curation.note

    @property
    def store_dir(self) -> Path | None:
        """The folder the state is saved to (``<root>/cellector`` unless told or read-only)."""
        return self.curation.folder

    def move_store(self, folder: str | os.PathLike) -> None:
        """Save to ``folder`` from now on (e.g. chosen when the suite2p folder is read-only)."""
        self.curation.move(Path(folder))
        self._changed(undoable=False)

    def _meta(self) -> dict:
        # Labels are tied to the ROIs they were made on (features have their own provenance).
        return {
            **self.roi_processor.metadata(),
            "labels_roi_fingerprint": self.roi_processor.roi_fingerprint,
            "n_selected": int(self.compute_idx_selected().sum()),
            "criteria_origin": self.criteria_origin,
            "estimate": self.guidance.record(),  # how good the saved selection looked, for a study's overview
        }

    def save_features(self) -> None:
        """Save the features (with provenance)."""
        self.curation.save(self._meta(), features=self.features)

    def save_criteria(self) -> None:
        """Save every criterion (``{name}_featurecriteria.npy``); files of unknown features are kept."""
        self.curation.save(self._meta(), criteria={**self._extra_criteria, **self._criteria})

    def save_manual_selection(self) -> None:
        """Save the manual labels (``manual_selection.npy``, bool (2, N))."""
        self.curation.save(self._meta(), manual_selection=self.manual_selection)
        self.curation.clear_journal()

    def save_idx_selected(self) -> None:
        """Save the final selection (``idx_selected.npy``, bool (N,))."""
        self.curation.save(self._meta(), idx_selected=self.compute_idx_selected())

    def save_all(self) -> Path:
        """Save features, criteria, manual labels and selection as one state; returns the folder."""
        folder = self.curation.save(
            self._meta(),
            features=self.features,
            criteria={**self._extra_criteria, **self._criteria},
            manual_selection=self.manual_selection,
            idx_selected=self.compute_idx_selected(),
        )
        self.curation.clear_journal()
        self.mark_saved()
        return folder

    def _load_saved(self, state: dict | None = None) -> None:
        state = self.curation.load() if state is None else self.curation.check(state)
        self.notes += restore_state(self, state)
        self.criteria_origin = (state["metadata"] or {}).get("criteria_origin")

    # ------------------------------------------------------------------ journal (crash recovery)

    def _record_manual(self, index: np.ndarray, label: np.ndarray, active: np.ndarray) -> None:
        problem = self.curation.record(index, label, active)
        if problem is not None:
            self.notes.append(problem)

    def _back_at_saved(self) -> None:
        self.curation.clear_journal()  # back where it was saved: nothing for crash recovery to offer

    def pending_journal(self) -> int:
        """Count the manual edits journalled since the last save (a crashed session)."""
        return len(self.curation.pending())

    def recover_journal(self) -> int:
        """Replay journalled manual edits of a crashed session (one undo step); returns how many."""
        entries = self.curation.pending()
        if not entries:
            return 0
        label, active = self._label.copy(), self._active.copy()
        for e in entries:
            idx = np.asarray(e["index"], np.int64)
            if idx.size and idx.max() < self.num_rois:
                label[idx] = e["label"]
                active[idx] = e["active"]
        changed = np.flatnonzero((label != self._label) | (active != self._active))
        self.update_manual_labels(changed, label[changed], active[changed])  # one undo step
        return len(entries)

    def discard_journal(self) -> None:
        """Forget journalled edits of a crashed session."""
        self.curation.clear_journal()
