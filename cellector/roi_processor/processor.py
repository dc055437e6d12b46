"""RoiProcessor: ROIs + reference images + parameters -> features (with provenance)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cellector._shared.version import __version__
from cellector.features.compute import iter_features, run_with_progress, validate_parameters, validate_reference
from cellector.features.registry import FEATURE_PARAMETERS, SPECS, feature_names
from cellector.features.rois import RoiSet
from cellector.io import store
from cellector.io.ownership import check_own, identity_of
from cellector.roi_processor.views import RoiViews

if TYPE_CHECKING:
    from cellector.io.suite2p import Session

__all__ = ["RoiProcessor"]


def _array_digest(arr: np.ndarray | None) -> str | None:
    if arr is None:
        return None
    a = np.ascontiguousarray(arr)
    h = hashlib.sha1(str((a.dtype.str, a.shape)).encode())
    h.update(a.data)  # the array's bytes, without copying them
    return h.hexdigest()


class RoiProcessor(RoiViews):
    """Compute and hold the features of a set of ROIs against a reference.

    Parameters
    ----------
    root_dir : str or Path or None
        Folder whose ``cellector/`` subfolder caches features (None: no caching).
    zpix : sequence or None
        2-D data: one plane index per ROI. Volumetric: one z array per ROI.
    ypix, xpix, lam : sequence of 1-D arrays
        Per-ROI pixel coordinates and weights.
    reference : ndarray, (lz, ly, lx) or (ly, lx)
        Structural reference (e.g. ``meanImg_chan2`` per plane).
    functional_reference : ndarray or None
        Functional reference (e.g. ``meanImg``).
    extra_features : dict of str to (N,) array, optional
        Features supplied from outside (e.g. ``red_s2p``), listed first.
    volumetric : bool
        Whether ROIs span planes (``zpix`` per pixel).
    autocompute : bool
        Compute the features at construction.
    use_saved : bool
        Reuse features saved in ``root_dir/cellector`` when their provenance matches.
    save_features : bool
        Save computed features to ``root_dir/cellector``.
    store_dir : str or Path, optional
        Keep the state in this folder instead of ``root_dir/cellector`` (which is also
        replaced by a folder in the user cache when it cannot be written).
    **parameters
        Processing parameters (``centered_width``, ``lowcut``, ...); unknown names raise.
    """

    def __init__(
        self,
        root_dir: Any,
        zpix: Sequence | None,
        ypix: Sequence[np.ndarray],
        xpix: Sequence[np.ndarray],
        lam: Sequence[np.ndarray],
        reference: np.ndarray,
        functional_reference: np.ndarray | None = None,
        extra_features: dict[str, np.ndarray] | None = None,
        volumetric: bool = False,
        autocompute: bool = True,
        use_saved: bool = True,
        save_features: bool = True,
        store_dir: str | Path | None = None,
        **parameters: Any,
    ) -> None:
        ref = validate_reference(reference)
        rois = RoiSet.from_lists(ypix, xpix, lam, zpix, ref.shape, volumetric)
        self._init(
            root_dir,
            rois,
            ref,
            functional_reference,
            extra_features,
            use_saved,
            save_features,
            parameters,
            None,
            store_dir,
        )
        if autocompute:
            self.compute_features()

    @classmethod
    def from_roiset(
        cls,
        root_dir: Any,
        rois: RoiSet,
        reference: np.ndarray,
        functional_reference: np.ndarray | None = None,
        extra_features: dict[str, np.ndarray] | None = None,
        autocompute: bool = True,
        use_saved: bool = True,
        save_features: bool = True,
        session_info: dict | None = None,
        store_dir: str | Path | None = None,
        **parameters: Any,
    ) -> RoiProcessor:
        """Build from an existing :class:`RoiSet` (no list conversion)."""
        self = cls.__new__(cls)
        self._init(
            root_dir,
            rois,
            validate_reference(reference),
            functional_reference,
            extra_features,
            use_saved,
            save_features,
            parameters,
            session_info,
            store_dir,
        )
        if autocompute:
            self.compute_features()
        return self

    def _init(self, root_dir, rois, ref, fref, extra, use_saved, save, parameters, session_info, store_dir) -> None:
        self.root_dir = root_dir
        #: Where the state is kept (``<root>/cellector``, ``--store DIR``, or the user cache for a
        #: read-only folder) and why, when it is not the default.
        self.store: store.StoreDir | None = None
        self.store_note: str | None = None
        if root_dir is not None:
            self.store, self.store_note = store.resolve_store(root_dir, store_dir)
        self.rois = rois
        self.reference = ref
        self.functional_reference = None if fref is None else validate_reference(fref, "functional_reference")
        if self.functional_reference is not None and self.functional_reference.shape != ref.shape:
            raise ValueError(
                f"functional_reference shape {self.functional_reference.shape} differs from reference {ref.shape}"
            )
        self.parameters = validate_parameters(parameters)
        self.use_saved = use_saved
        self.save_features_on_compute = save
        self.session_info = dict(session_info or {})
        #: The suite2p session the ROIs were read from (set by ``create_from_suite2p``), else None.
        self.session: Session | None = None
        self._features: dict[str, np.ndarray] = {}
        self._extra_order: list[str] = []
        self._digests = {
            "reference": _array_digest(ref),
            "functional": _array_digest(self.functional_reference),  # keys: the specs' images
            "rois": rois.fingerprint(),
        }
        for name, values in (extra or {}).items():
            self.add_feature(name, values)

    @property
    def features(self) -> dict[str, np.ndarray]:
        """Feature name -> (N,) values: ``red_s2p`` first, then the spec's order, then extras."""
        order = [n for n in self._extra_order if n == "red_s2p"]
        order += [n for n in feature_names(True) if n in self._features]
        order += [n for n in self._extra_order if n not in order]
        return {n: self._features[n] for n in order if n in self._features}

    @property
    def roi_plane(self) -> np.ndarray:
        """The plane (position in the plane list) of each ROI, int64 (N,)."""
        return self.session.roi_plane if self.session is not None else self.rois.plane

    @property
    def plane_list(self) -> list[str] | None:
        """The suite2p plane folders in ROI order (None: the ROIs were not read from suite2p)."""
        return None if self.session is None else list(self.session.planes)

    @property
    def roi_fingerprint(self) -> str:
        """Hash of every ROI's pixels (stored with saved labels, checked on load)."""
        return self._digests["rois"]

    def provenance(self, name: str) -> dict:
        """Describe what feature ``name`` was computed from: its parameters and input digests."""
        if name not in FEATURE_PARAMETERS:
            return {"source": "external", "n": self.num_rois}
        inputs = [self._digests["rois"], self._digests[SPECS[name].image]]
        return {
            "parameters": {k: self.parameters[k] for k in FEATURE_PARAMETERS[name]},
            "input": hashlib.sha1("|".join(inputs).encode()).hexdigest(),
        }

    # ------------------------------------------------------------------ computing

    def missing_features(self) -> list[str]:
        """Default features not yet computed (in the spec's order)."""
        return [n for n in feature_names(self.functional_reference is not None) if n not in self._features]

    def iter_compute(
        self,
        chunk_size: int = 64,
        saved_state: dict | None = None,
        threads: int | None = None,
    ) -> Generator[tuple[int, int], None, None]:
        """Load matching saved features, compute the rest, yielding ``(done, total)``.

        ``saved_state`` is :func:`cellector.io.store.load_state`'s result when the caller
        has already read it (it is then not read again); ``threads`` as for
        :func:`cellector.features.compute.iter_features`.
        """
        todo = self.load_saved_features(saved_state) if self.use_saved else self.missing_features()
        if todo:
            result = yield from iter_features(
                self.rois, self.reference, self.functional_reference, todo, chunk_size, threads, **self.parameters
            )
            self._features.update(result)
            if self.save_features_on_compute and self.store is not None:
                self.save_features()
        yield (self.num_rois, self.num_rois)

    def compute_features(
        self, use_saved: bool | None = None, progress: Callable[[int, int], None] | None = None
    ) -> dict[str, np.ndarray]:
        """Compute every missing default feature; returns :attr:`features`.

        Parameters
        ----------
        use_saved : bool, optional
            Reuse features saved in ``root_dir/cellector`` whose provenance matches
            (default: the processor's ``use_saved`` setting).
        progress : callable, optional
            ``progress(done, total)`` while computing.
        """
        before = self.use_saved
        self.use_saved = before if use_saved is None else bool(use_saved)
        try:
            run_with_progress(self.iter_compute(), progress)
        finally:
            self.use_saved = before
        return self.features

    def load_saved_features(self, state: dict | None = None) -> list[str]:
        """Load the saved features whose provenance matches; return the default features still missing.

        ``state`` is :func:`cellector.io.store.load_state`'s result when the caller has
        already read and checked it (:meth:`~cellector.curation.store.CurationStore.load`);
        a state read here is checked to be this folder's first. Without a store nothing is
        loaded.
        """
        if self.store is not None:
            if state is None:  # a state handed in was checked by whoever loaded it (the manager's store)
                state = store.load_state(self.store)
                check_own(state, identity_of(self), self.store)  # another folder's features are never used
            self._load_saved(state)
        return self.missing_features()

    def _load_saved(self, state: dict) -> None:
        # Feature files changed behind our back are not in state["features"] (the store
        # drops them); a value of the wrong length, dtype or provenance is computed again.
        meta = state["metadata"] or {}
        prov = meta.get("features", {})
        for name, values in state["features"].items():
            if (
                name in FEATURE_PARAMETERS
                and name not in self._features
                and values.shape == (self.num_rois,)
                and np.issubdtype(values.dtype, np.floating)
                and prov.get(name) == self.provenance(name)
            ):
                self._features[name] = values

    def add_feature(self, name: str, values: np.ndarray) -> None:
        """Add (or replace) a feature computed elsewhere; must have one value per ROI."""
        store.check_feature_name(name)  # it becomes a file name in the store
        values = np.asarray(values)
        if values.shape != (self.num_rois,):
            raise ValueError(f"feature {name!r} has shape {values.shape}; expected ({self.num_rois},)")
        if not np.issubdtype(values.dtype, np.number):
            raise ValueError(f"feature {name!r} must be numeric, got {values.dtype}")
        self._features[name] = values
        if name not in FEATURE_PARAMETERS and name not in self._extra_order:
            self._extra_order.append(name)

    def update_parameters(self, **parameters: Any) -> list[str]:
        """Change parameters and recompute exactly the features that depend on them.

        Returns the names of the features that were invalidated.
        """
        new = validate_parameters({**self.parameters, **parameters})
        changed = {k for k in new if new[k] != self.parameters[k]}
        self.parameters = new
        stale = [n for n, deps in FEATURE_PARAMETERS.items() if n in self._features and changed & set(deps)]
        for n in stale:
            del self._features[n]
        if stale:
            saved, self.use_saved = self.use_saved, False
            try:
                self.compute_features()
            finally:
                self.use_saved = saved
        return stale

    def copy_with_params(self, params: dict[str, Any]) -> RoiProcessor:
        """Return a new processor over the same ROIs and images with ``params`` changed.

        Features that do not depend on the changed parameters are carried over; the
        others are computed for the copy. The copy does not save its features (it would
        overwrite this processor's cache); call :meth:`save_features` on it to do so.
        """
        new = validate_parameters({**self.parameters, **dict(params)})
        copy = RoiProcessor.from_roiset(
            self.root_dir,
            self.rois,
            self.reference,
            self.functional_reference,
            autocompute=False,
            use_saved=False,
            save_features=False,
            session_info=self.session_info,
            store_dir=self.store,
            **new,
        )
        copy.session = self.session
        changed = {k for k in new if new[k] != self.parameters[k]}
        for name, values in self._features.items():
            deps = FEATURE_PARAMETERS.get(name, ())
            if not changed & set(deps):
                copy._features[name] = values
        copy._extra_order = list(self._extra_order)
        copy.compute_features()
        return copy

    # ------------------------------------------------------------------ saving

    def metadata(self) -> dict:
        """Return the metadata describing these ROIs and features (for ``cellector.json``)."""
        meta = {
            "cellector_version": __version__,
            "n_rois": self.num_rois,
            "parameters": self.parameters,
            "roi_fingerprint": self._digests["rois"],
            "volumetric": self.rois.volumetric,
            "features": {n: self.provenance(n) for n in self._features},
        }
        meta.update(self.session_info)
        return meta

    def save_features(self) -> None:
        """Save every feature with its provenance to ``root_dir/cellector``."""
        if self.store is None:
            raise ValueError("this RoiProcessor has no root_dir to save to")
        store.save_state(self.store, self.metadata(), features=self.features)
