"""What a curation needs from whatever holds the features: the :class:`FeatureSource` protocol.

Two classes satisfy it: :class:`~cellector.roi_processor.processor.RoiProcessor` (ROIs, images and
features computed from them) and :class:`~cellector.curation.saved.SavedFeatures` (the
features saved in a store, without the ROIs). The manager types its source by this
protocol instead of probing attributes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from cellector.io.suite2p import Session

__all__ = ["FeatureSource"]


@runtime_checkable
class FeatureSource(Protocol):
    """The features of a session's ROIs, and where they came from.

    Attributes
    ----------
    root_dir : Path or None
        The folder whose ``cellector/`` holds the saved state (None: in memory only).
    store : Path or None
        Where the features are cached (``<root>/cellector``, ``--store DIR``, or the
        user cache for a read-only folder); the curation's own store starts there.
    store_note : str or None
        Why ``store`` is not ``<root>/cellector``, for the user.
    session : Session or None
        The suite2p session the ROIs were read from (None otherwise).
    """

    @property
    def root_dir(self) -> Any:
        """The folder holding ``cellector/`` (None: in memory only)."""
        ...

    @property
    def store(self) -> Path | None:
        """Where the features are cached."""
        ...

    @property
    def store_note(self) -> str | None:
        """Why ``store`` is not ``<root>/cellector``."""
        ...

    @property
    def session(self) -> Session | None:
        """The suite2p session the ROIs were read from."""
        ...

    @property
    def num_rois(self) -> int:
        """Number of ROIs."""
        ...

    @property
    def features(self) -> dict[str, np.ndarray]:
        """Feature name -> (N,) values."""
        ...

    @property
    def roi_fingerprint(self) -> str | None:
        """Hash of the ROIs' pixels (None: not known)."""
        ...

    @property
    def roi_plane(self) -> np.ndarray:
        """The plane (position in the plane list) of each ROI, int64 (N,)."""
        ...

    @property
    def plane_list(self) -> list[str] | None:
        """The plane folders in ROI order (None: not read from suite2p folders)."""
        ...

    def missing_features(self) -> list[str]:
        """Return the default features not computed yet."""
        ...

    def add_feature(self, name: str, values: Any) -> None:
        """Add (or replace) a feature, one number per ROI."""
        ...

    def metadata(self) -> dict:
        """Return what ``cellector.json`` records about these ROIs and features."""
        ...
