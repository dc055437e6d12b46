"""The published read-only attributes of a RoiProcessor: ROI geometry and patch stacks on demand.

The published cellector held ``centered_masks``, ``centered_reference`` and friends as
arrays; here each is computed when read (an ``(N, 81, 81)`` stack of 100 000 ROIs is
2.6 GB), from the flat ROI arrays, the reference images and the parameters.
"""

from __future__ import annotations

import numpy as np

from cellector.features.rois import PerRoi, RoiSet

__all__ = ["RoiViews"]


class RoiViews:
    """ROI geometry (``num_rois``, ``zpix``, ``ypix``, ``xpix``, ``lam``, ``centroids``) and patch stacks.

    A base of :class:`~cellector.roi_processor.processor.RoiProcessor`, which sets the attributes below.
    """

    rois: RoiSet
    reference: np.ndarray
    functional_reference: np.ndarray | None
    parameters: dict

    @property
    def num_rois(self) -> int:
        """Number of ROIs."""
        return self.rois.n_rois

    @property
    def volumetric(self) -> bool:
        """Whether ROIs span planes (suite3d)."""
        return self.rois.volumetric

    @property
    def lz(self) -> int:
        """Planes in the reference stack."""
        return self.rois.shape[0]

    @property
    def ly(self) -> int:
        """Rows of the reference frame."""
        return self.rois.shape[1]

    @property
    def lx(self) -> int:
        """Columns of the reference frame."""
        return self.rois.shape[2]

    @property
    def zpix(self) -> np.ndarray | PerRoi:
        """2-D data: the plane of each ROI, int64 (N,). Volumetric: one z array per ROI."""
        return self.rois.per_roi("zpix") if self.volumetric else self.rois.plane

    @property
    def ypix(self) -> PerRoi:
        """One array of pixel rows per ROI (read-only views over the flat arrays)."""
        return self.rois.per_roi("ypix")

    @property
    def xpix(self) -> PerRoi:
        """One array of pixel columns per ROI (read-only views)."""
        return self.rois.per_roi("xpix")

    @property
    def lam(self) -> PerRoi:
        """One array of pixel weights per ROI (read-only views)."""
        return self.rois.per_roi("lam")

    @property
    def centroids(self) -> dict[str, np.ndarray]:
        """Integer centroids ``{"zc", "yc", "xc"}`` (N,) each, by the ``centroid_method`` parameter."""
        c = self.rois.centroids(self.parameters["centroid_method"])
        return {"zc": c[:, 0], "yc": c[:, 1], "xc": c[:, 2]}

    def _patches(self, image: np.ndarray | None) -> np.ndarray | None:
        if image is None:
            return None
        from cellector.utils import get_centered_reference

        c = self.rois.centroids(self.parameters["centroid_method"])
        p = self.parameters
        return get_centered_reference(image, c, p["centered_width"], p["fill_value"], self.volumetric)

    def _filtered(self, image: np.ndarray | None) -> np.ndarray | None:
        if image is None:
            return None
        from cellector.features.filters import butterworth_bpf

        p = self.parameters
        return butterworth_bpf(image, p["lowcut"], p["highcut"], p["order"])

    @property
    def centered_masks(self) -> np.ndarray:
        """The masks centred on their centroids, float32 ``(N, S, S)`` (computed on each access)."""
        from cellector.utils import get_centered_masks

        c = self.rois.centroids(self.parameters["centroid_method"])
        p = self.parameters
        z = self.rois.per_roi("zpix") if self.volumetric else None
        return get_centered_masks(self.lam, self.ypix, self.xpix, c, p["centered_width"], p["fill_value"], z, self.lz)

    @property
    def filtered_reference(self) -> np.ndarray:
        """The band-passed reference stack (computed on each access)."""
        out = self._filtered(self.reference)
        assert out is not None
        return out

    @property
    def filtered_functional_reference(self) -> np.ndarray | None:
        """The band-passed functional reference (None without one; computed on each access)."""
        return self._filtered(self.functional_reference)

    @property
    def centered_reference(self) -> np.ndarray:
        """Reference windows around each centroid, float32 ``(N, S, S)`` (computed on each access)."""
        out = self._patches(self.reference)
        assert out is not None
        return out

    @property
    def centered_functional_reference(self) -> np.ndarray | None:
        """Functional reference windows around each centroid (None without one)."""
        return self._patches(self.functional_reference)

    @property
    def filtered_centered_reference(self) -> np.ndarray:
        """Windows of the band-passed full frame around each centroid (computed on each access)."""
        out = self._patches(self.filtered_reference)
        assert out is not None
        return out

    @property
    def filtered_centered_functional_reference(self) -> np.ndarray | None:
        """Windows of the band-passed functional frame (None without one)."""
        return self._patches(self.filtered_functional_reference)
