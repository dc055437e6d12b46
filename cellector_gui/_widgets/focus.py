"""The focus panel: the focused ROI's neighbourhood in the red and the functional image, outlined.

The crops use the canvas's contrast (each layer's contrast limits), so an ROI that looks
like background on the canvas looks like background here too; stretching each crop to
its own range made dim ROIs look bright red.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from cellector.manager import CellectorManager
from cellector_gui._viewer.layers import processor

__all__ = ["FocusPanel"]

_RED = LinearSegmentedColormap.from_list("black_red", ["black", "#ff2020"])
_GREEN = LinearSegmentedColormap.from_list("black_green", ["black", "#20ff20"])
HALF = 20  # pixels of neighbourhood on each side of the ROI's centre (at least)


class FocusPanel(QWidget):
    """Two crops side by side (reference, functional) around the focused ROI, with its outline and values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # crops on the left, values beside them: the panel costs the cards as little height as it can
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.figure = Figure(figsize=(2.8, 1.4), dpi=80, facecolor="none")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setParent(self)
        self.canvas.setFixedSize(200, 108)
        self.canvas.setToolTip("the focused ROI in the reference and the functional image, at the canvas's contrast")
        self.axes = [self.figure.add_axes((0.01 + 0.5 * k, 0.02, 0.48, 0.86)) for k in range(2)]
        for ax, title in zip(self.axes, ("reference", "functional"), strict=True):
            ax.set_axis_off()
            ax.set_title(title, fontsize=8, color="#cccccc", pad=2)
        #: (low, high) of each crop: the canvas layers' contrast limits (None: the crop's own range)
        self.limits: list[tuple[float, float] | None] = [None, None]
        self.values = QLabel("no ROI in focus: click one, or press g / n", self)
        self.values.setWordWrap(True)
        # the text never sets the dock's width: a long feature name is cut, not widening the window
        self.values.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.values.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        font = self.values.font()
        font.setPointSizeF(font.pointSizeF() * 0.85)
        self.values.setFont(font)
        layout.addWidget(self.canvas)
        layout.addWidget(self.values, 1)
        self.manager: CellectorManager | None = None
        self.shown = -1
        # Drawn after the canvas repaints: the crops (imshow + contour, ~12 ms) never delay
        # the ROI colours a click changes. A burst of focus changes draws once.
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(0)
        self._later.timeout.connect(lambda: self.show_roi(self._pending))
        self._pending = -1

    def set_manager(self, manager: CellectorManager | None) -> None:
        """Follow ``manager``'s focus (None detaches)."""
        if self.manager is not None:
            self.manager.focus_changed.disconnect(self.show_later)
        self.manager = manager
        if manager is not None:
            manager.focus_changed.connect(self.show_later)
        self.show_roi(-1 if manager is None else manager.focus)

    def show_later(self, idx: int) -> None:
        """Show ROI ``idx`` once control returns to the event loop (after the canvas's repaint)."""
        self._pending = idx
        self._later.start()

    def crop_box(self, idx: int) -> tuple[int, int, int, int, int]:
        """Return ``(z, y0, y1, x0, x1)`` of the square neighbourhood shown for ROI ``idx``, centred on it.

        The box may reach past the frame's edge (that part is shown empty): every crop is
        square and centred, so an ROI at the edge is not drawn smaller than the others.
        """
        assert self.manager is not None
        rois = processor(self.manager).rois
        zs, ys, xs, _ = rois.roi(idx)
        z = int(np.median(zs))
        half = max(HALF, int(np.ptp(ys)), int(np.ptp(xs)))
        yc, xc = int(np.median(ys)), int(np.median(xs))
        return z, yc - half, yc + half + 1, xc - half, xc + half + 1

    def set_limits(self, reference: tuple[float, float] | None, functional: tuple[float, float] | None) -> None:
        """Draw the crops with these contrast limits (the canvas layers'), and redraw the focused ROI."""
        self.limits = [reference, functional]
        self.show_roi(self.shown)

    def refresh_values(self) -> None:
        """Update the focused ROI's values and decision (cheap: the crops stay)."""
        if self.manager is not None and self.shown >= 0:
            self.values.setText(_as_lines(self.manager.describe_roi(self.shown)))

    def show_roi(self, idx: int) -> None:
        """Show ROI ``idx`` (-1 clears the panel)."""
        self.shown = idx
        for ax in self.axes:
            for artist in [*ax.images, *ax.collections]:
                artist.remove()
        if self.manager is None or idx < 0:
            self.values.setText("no ROI in focus: click one, or press g / n")
            self.canvas.draw_idle()
            return
        rp = processor(self.manager)
        z, y0, y1, x0, x1 = self.crop_box(idx)
        zs, ys, xs, _ = rp.rois.roi(idx)
        mask = np.zeros((y1 - y0, x1 - x0), bool)
        on = (zs == z) & (ys >= y0) & (ys < y1) & (xs >= x0) & (xs < x1)
        mask[ys[on] - y0, xs[on] - x0] = True
        images = (rp.reference, rp.functional_reference)
        for ax, image, cmap, limits in zip(self.axes, images, (_RED, _GREEN), self.limits, strict=True):
            if image is None:
                continue
            crop = _crop(image[z], y0, y1, x0, x1)
            lo, hi = limits if limits is not None else np.nanpercentile(crop, [1, 99.5])
            ax.imshow(crop, cmap=cmap, vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest")
            ax.contour(mask, levels=[0.5], colors="white", linewidths=1.2)
            # the axes take this crop's size: a large ROI's wider limits would otherwise stay, and every
            # later crop would be drawn small in a corner of them
            ax.set_xlim(-0.5, crop.shape[1] - 0.5)
            ax.set_ylim(crop.shape[0] - 0.5, -0.5)
        self.values.setText(_as_lines(self.manager.describe_roi(idx)))
        self.canvas.draw_idle()


def _crop(image: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """Return ``image[y0:y1, x0:x1]`` as float, NaN (drawn empty) where the box reaches past the frame."""
    out = np.full((y1 - y0, x1 - x0), np.nan)
    ly, lx = image.shape
    ya, yb, xa, xb = max(y0, 0), min(y1, ly), max(x0, 0), min(x1, lx)
    if ya < yb and xa < xb:
        out[ya - y0 : yb - y0, xa - x0 : xb - x0] = image[ya:yb, xa:xb]
    return out


def _as_lines(description: str) -> str:
    """One value per line: ``ROI 7 (plane0 #7), selected: a=1, b=2`` as a short column, the decision last."""
    head, _, values = description.partition(": ")
    name, comma, decision = head.rpartition(", ")
    # a zero-width space lets "name=value" break after "=" when a long name does not fit the column
    lines = [v.replace("=", "=\u200b") for v in values.split(", ")]
    return "\n".join([f"{name if comma else head}:", *lines, *([decision] if comma else [])])
