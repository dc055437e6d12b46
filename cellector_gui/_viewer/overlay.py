"""The ROI overlay: a label image built once, recoloured through an RGBA lookup table.

Recolouring never rebuilds masks: each ROI owns an index in ``label`` (0 is the
background), and a change of decision only rewrites the (N + 1, 4) lookup table
and takes it through the label image into a preallocated RGBA buffer.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from cellector.features.rois import RoiSet
from cellector_gui._viewer.palette import DECISION_COLORS, rgba

__all__ = ["COLORS", "DECISIONS", "FEATURE_COLORS", "RoiOverlay", "feature_colormap", "label_image", "outline"]

#: Colour-by-feature runs cyan -> green -> yellow: every colour of it stands out on the
#: red reference and on black (viridis' dark purple end vanished on dark red).
FEATURE_COLORS = ("#00d8ff", "#7dff6a", "#ffe000")


def feature_colormap():
    """Return the colour map of colour-by-feature (a matplotlib colormap on [0, 1])."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("cellector_feature", FEATURE_COLORS)


#: The decision's colours (:mod:`~cellector_gui._viewer.palette`, shared with the report), RGBA uint8.
#: Outlines are drawn opaque; a filled ROI takes :data:`FILL_ALPHA` so the red shows through.
COLORS = {
    "selected": rgba(DECISION_COLORS["selected"]),
    "rejected": rgba(DECISION_COLORS["rejected"], 150),
    "forced_on": rgba(DECISION_COLORS["manually red"]),
    "forced_off": rgba(DECISION_COLORS["manually not red"]),
    "undecided": (230, 230, 230, 170),
    "focus": (255, 255, 255, 255),
}
DECISIONS = ("selected", "rejected", "forced_on", "forced_off", "undecided")
FILL_ALPHA = 70


def label_image(rois: RoiSet) -> np.ndarray:
    """int32 ``(lz, ly, lx)`` with ROI ``i`` painted as ``i + 1`` (later ROIs win overlaps)."""
    img = np.zeros(rois.shape, np.int32)
    ids = np.repeat(np.arange(1, rois.n_rois + 1, dtype=np.int32), rois.npix)
    img[rois.zpix, rois.ypix, rois.xpix] = ids
    return img


def outline(label: np.ndarray) -> np.ndarray:
    """Return the label image with ROI interiors set to 0 (pixels whose 4 neighbours share their label)."""
    edge = np.zeros(label.shape, bool)
    edge[:, 1:, :] |= label[:, 1:, :] != label[:, :-1, :]
    edge[:, :-1, :] |= label[:, :-1, :] != label[:, 1:, :]
    edge[:, :, 1:] |= label[:, :, 1:] != label[:, :, :-1]
    edge[:, :, :-1] |= label[:, :, :-1] != label[:, :, 1:]
    edge[:, [0, -1], :] = True
    edge[:, :, [0, -1]] = True
    return np.where(edge, label, 0)


class RoiOverlay:
    """Decision colours of every ROI as an RGBA image ``(lz, ly, lx, 4)``.

    Parameters
    ----------
    rois : RoiSet
        The ROIs (their label image is built once here).
    """

    def __init__(self, rois: RoiSet) -> None:
        self._rois = rois
        self.label = label_image(rois)
        self._outline: np.ndarray | None = None
        self.rgba = np.zeros((*self.label.shape, 4), np.uint8)
        self.lut = np.zeros((rois.n_rois + 1, 4), np.uint8)
        self.outline_mode = True  # the red signal inside every ROI stays visible
        self.focus = -1
        self.stale: set[int] = set()

    @property
    def index_image(self) -> np.ndarray:
        """The label image used for colouring (outline or filled)."""
        if not self.outline_mode:
            return self.label
        if self._outline is None:
            self._outline = outline(self.label)
        return self._outline

    def roi_at(self, zyx: tuple[float, ...]) -> int:
        """ROI index under a data coordinate ``(z, y, x)`` (or ``(y, x)``), -1 for none or outside."""
        idx = [round(c) for c in zyx]
        if len(idx) == 2:
            idx = [0, *idx]
        if any(not 0 <= c < s for c, s in zip(idx, self.label.shape, strict=False)):
            return -1
        return int(self.label[tuple(idx)]) - 1

    def decision_lut(
        self, selected: np.ndarray, manual: np.ndarray, show: str = "all", focus: int = -1, decided: bool = True
    ) -> np.ndarray:
        """Fill the lookup table from the decision of each ROI.

        Parameters
        ----------
        selected : bool (N,)
            Final selection.
        manual : bool (2, N)
            Manual labels (row 0 label, row 1 active).
        show : {"all", "selected", "rejected"}
            Which ROIs to draw.
        focus : int
            ROI outlined in the focus colour (-1: none).
        decided : bool
            False while no cutoff is set: ROIs without a manual label are drawn
            "undecided" rather than all selected.
        """
        lut = self.lut[1:]
        label, active = manual
        auto = np.where(selected, 0, 1) if decided else 4
        cls = np.where(active, np.where(label, 2, 3), auto)
        palette = np.array([COLORS[d] for d in DECISIONS], np.uint8)
        lut[:] = palette[cls]
        if not self.outline_mode:
            lut[:, 3] = np.minimum(lut[:, 3], FILL_ALPHA)
        if show == "selected":
            lut[~selected, 3] = 0
        elif show == "rejected":
            lut[selected, 3] = 0
        self.focus = focus if 0 <= focus < lut.shape[0] else -1
        return self.lut

    def feature_lut(self, values: np.ndarray, cmap, vmin: float, vmax: float, focus: int = -1) -> np.ndarray:
        """Fill the lookup table with ``cmap`` (a callable on [0, 1] -> RGBA floats) of ``values``."""
        span = vmax - vmin if vmax > vmin else 1.0
        norm = np.clip((values - vmin) / span, 0, 1)
        rgba = (np.asarray(cmap(np.nan_to_num(norm))) * 255).astype(np.uint8)
        rgba[:, 3] = 200
        rgba[~np.isfinite(values)] = (60, 60, 60, 120)
        self.lut[1:] = rgba
        self.focus = focus if 0 <= focus < values.size else -1
        return self.lut

    def _outline_focus(self, z: int) -> None:
        """Draw the focused ROI's edge, and the pixels just outside it, in the focus colour.

        Only the ROI's bounding box is touched, so a focus change costs microseconds.
        """
        if self.focus < 0:
            return
        zs, ys, xs, _ = self._rois.roi(self.focus)
        on = zs == z
        if not on.any():
            return
        h, w = self.label.shape[1:]
        y0, y1 = max(int(ys[on].min()) - 2, 0), min(int(ys[on].max()) + 3, h)
        x0, x1 = max(int(xs[on].min()) - 2, 0), min(int(xs[on].max()) + 3, w)
        inside = self.label[z, y0:y1, x0:x1] == self.focus + 1
        mark = (inside & ~ndi.binary_erosion(inside, border_value=0)) | (ndi.binary_dilation(inside) & ~inside)
        self.rgba[z, y0:y1, x0:x1][mark] = COLORS["focus"]

    def render(self, plane: int | None = None) -> np.ndarray:
        """Take the lookup table through the index image into the RGBA buffer (in place).

        The table is read as one uint32 per colour, so each pixel is a single 4-byte
        gather. With ``plane`` only that plane is rendered (the one on screen); the
        others are rendered when they are shown.
        """
        lut32 = self.lut.view(np.uint32).reshape(-1)
        out32 = self.rgba.view(np.uint32).reshape(self.label.shape)
        index = self.index_image
        planes = range(index.shape[0]) if plane is None else [plane]
        for z in planes:
            np.take(lut32, index[z], out=out32[z])
            self._outline_focus(z)
            self.stale.discard(z)
        if plane is not None:
            self.stale = set(range(index.shape[0])) - {plane}
        return self.rgba
