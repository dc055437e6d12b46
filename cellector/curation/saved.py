"""SavedFeatures: the features saved in ``<root>/cellector``, standing in for a RoiProcessor.

The published ``CellectorManager(root_dir)`` reads a saved state without the suite2p
folder's ROIs: every ``*_feature.npy`` is a feature. This class gives the manager what
it needs from a :class:`~cellector.roi_processor.processor.RoiProcessor` (ROI count, features,
metadata, the ROI fingerprint the labels were made on) from those files alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cellector._shared.version import __version__
from cellector.io import store

if TYPE_CHECKING:
    from cellector.io.suite2p import Session

__all__ = ["SavedFeatures"]


class SavedFeatures:
    """Features read from ``root_dir/cellector`` (no ROIs, no images).

    Parameters
    ----------
    root_dir : str or Path
        The folder holding ``cellector/``.
    num_rois : int, optional
        The ROI count, needed when no feature is saved (else checked against them).
    state : dict, optional
        :func:`cellector.io.store.load_state`'s result, when the caller already read it.
    store_dir : str or Path, optional
        The folder holding the state, when it is not ``root_dir/cellector``.

    Raises
    ------
    ValueError
        When no feature is saved and ``num_rois`` is not given, or the saved features
        disagree on the ROI count (the message names the file).
    """

    def __init__(
        self,
        root_dir: str | Path,
        num_rois: int | None = None,
        state: dict | None = None,
        store_dir: str | Path | None = None,
    ) -> None:
        self.root_dir = Path(root_dir)
        #: The folder holding the state (``root_dir/cellector`` unless ``store_dir`` is given).
        self.store = store.StoreDir(store_dir if store_dir is not None else store.store_path(self.root_dir))
        self.store_note: str | None = None
        self.state = store.load_state(self.store) if state is None else state
        self.session: Session | None = None  # no suite2p folder was read
        meta = self.state["metadata"] or {}
        self._provenance: dict[str, Any] = dict(meta.get("features", {}))
        self._fingerprint: str | None = meta.get("labels_roi_fingerprint") or meta.get("roi_fingerprint")
        self._features: dict[str, np.ndarray] = {}
        self.num_rois = self._count(num_rois)
        for name, values in self.state["features"].items():
            self._features[name] = np.asarray(values)
        self._planes = _saved_planes(meta, self.num_rois)

    def _count(self, num_rois: int | None) -> int:
        folder = self.store
        lengths = {name: int(np.size(v)) for name, v in self.state["features"].items()}
        if num_rois is None and not lengths:
            raise ValueError(
                f"{folder} holds no saved features, so the number of ROIs is unknown: pass num_rois=N "
                "(or build the manager from a RoiProcessor)"
            )
        n = int(num_rois) if num_rois is not None else next(iter(lengths.values()))
        if n < 0:
            raise ValueError(f"num_rois must be >= 0, got {num_rois}")
        for name, size in lengths.items():
            if size != n:
                raise ValueError(f"{folder / f'{name}_feature.npy'} has {size} values but the session has {n} ROIs")
        return n

    @property
    def features(self) -> dict[str, np.ndarray]:
        """Feature name -> (N,) values, in the order they were found."""
        return dict(self._features)

    @property
    def plane_list(self) -> list[str] | None:
        """The plane folders the saved state covers, in ROI order (None: not recorded)."""
        return self._planes[0] if self._planes is not None else None

    @property
    def roi_plane(self) -> np.ndarray:
        """The plane of each ROI, from the saved metadata (all 0 when it does not say)."""
        if self._planes is None:
            return np.zeros(self.num_rois, np.int64)
        return np.repeat(np.arange(len(self._planes[1]), dtype=np.int64), self._planes[1])

    @property
    def roi_fingerprint(self) -> str | None:
        """Fingerprint of the ROIs the saved labels were made on (None: not recorded)."""
        return self._fingerprint

    def missing_features(self) -> list[str]:
        """Return the default features still to compute: none (nothing can be computed here)."""
        return []

    def add_feature(self, name: str, values: Any) -> None:
        """Add (or replace) a feature; one number per ROI."""
        store.check_feature_name(name)  # it becomes a file name in the store
        arr = np.asarray(values)
        if arr.shape != (self.num_rois,) or not np.issubdtype(arr.dtype, np.number):
            raise ValueError(
                f"feature {name!r} must be numeric with shape ({self.num_rois},), got {arr.dtype} {arr.shape}"
            )
        self._features[name] = arr
        self._provenance[name] = {"source": "external", "n": self.num_rois}

    def metadata(self) -> dict:
        """Return the metadata to save with the state (the saved provenance is kept)."""
        return {
            "cellector_version": __version__,
            "n_rois": self.num_rois,
            "features": {
                n: self._provenance.get(n, {"source": "external", "n": self.num_rois}) for n in self._features
            },
        }


def _saved_planes(meta: dict, n: int) -> tuple[list[str], list[int]] | None:
    """Return the planes and their processed ROI counts that ``cellector.json`` records, if they add up to ``n``."""
    planes = meta.get("planes")
    prints = meta.get("plane_fingerprints")
    if not isinstance(planes, list) or not isinstance(prints, dict):
        return None
    try:
        counts = [int(prints[p]["processed"]) for p in planes]
    except (KeyError, TypeError, ValueError):
        return None
    return ([str(p) for p in planes], counts) if sum(counts) == n and min(counts, default=0) >= 0 else None
