"""The ROI overlay: a label image built once, recoloured through an RGBA lookup table.

Recolouring never rebuilds masks: each ROI owns an index in ``label`` (0 is the
background), and a change of decision only rewrites the (N + 1, 4) lookup table
and takes it through the label image into a preallocated RGBA buffer.
"""

from __future__ import annotations

import numpy as np

from cellector.rois import RoiSet

__all__ = ["COLORS", "DECISIONS", "RoiOverlay", "label_image", "outline"]

#: Okabe-Ito colours (colour-blind safe), RGBA uint8.
COLORS = {
    "selected": (86, 180, 233, 170),
    "rejected": (153, 153, 153, 90),
    "forced_on": (0, 114, 178, 230),
    "forced_off": (213, 94, 0, 210),
    "focus": (255, 255, 255, 255),
}
DECISIONS = ("selected", "rejected", "forced_on", "forced_off")


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
        self.label = label_image(rois)
        self._outline: np.ndarray | None = None
        self.rgba = np.zeros((*self.label.shape, 4), np.uint8)
        self.lut = np.zeros((rois.n_rois + 1, 4), np.uint8)
        self.outline_mode = False
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

    def decision_lut(self, selected: np.ndarray, manual: np.ndarray, show: str = "all", focus: int = -1) -> np.ndarray:
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
            ROI drawn in the focus colour (-1: none).
        """
        lut = self.lut[1:]
        label, active = manual
        cls = np.where(active, np.where(label, 2, 3), np.where(selected, 0, 1))
        palette = np.array([COLORS[d] for d in DECISIONS], np.uint8)
        lut[:] = palette[cls]
        if show == "selected":
            lut[~selected, 3] = 0
        elif show == "rejected":
            lut[selected, 3] = 0
        if 0 <= focus < lut.shape[0]:
            lut[focus] = COLORS["focus"]
        return self.lut

    def feature_lut(self, values: np.ndarray, cmap, vmin: float, vmax: float, focus: int = -1) -> np.ndarray:
        """Fill the lookup table with ``cmap`` (a callable on [0, 1] -> RGBA floats) of ``values``."""
        span = vmax - vmin if vmax > vmin else 1.0
        norm = np.clip((values - vmin) / span, 0, 1)
        rgba = (np.asarray(cmap(np.nan_to_num(norm))) * 255).astype(np.uint8)
        rgba[:, 3] = 200
        rgba[~np.isfinite(values)] = (60, 60, 60, 120)
        self.lut[1:] = rgba
        if 0 <= focus < values.size:
            self.lut[focus + 1] = COLORS["focus"]
        return self.lut

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
            self.stale.discard(z)
        if plane is not None:
            self.stale = set(range(index.shape[0])) - {plane}
        return self.rgba
