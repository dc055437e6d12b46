"""The colour bar shown while the ROIs are coloured by a feature: the map and its range."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtGui import QImage, QPixmap
from qtpy.QtWidgets import QHBoxLayout, QLabel, QWidget

from cellector_gui._viewer.overlay import feature_colormap

__all__ = ["ColorBar"]


class ColorBar(QWidget):
    """``low [gradient] high`` in one row; hidden while the ROIs are coloured by decision."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.low, self.high, self.bar = QLabel(self), QLabel(self), QLabel(self)
        self.bar.setFixedHeight(10)
        self.bar.setScaledContents(True)  # the gradient stretches over whatever width the row gives it
        self.bar.setPixmap(_gradient())
        self.high.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.low)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.high)
        self.setVisible(False)

    def show_range(self, name: str | None, limits: tuple[float, float] = (0.0, 1.0)) -> None:
        """Show ``name``'s colour range (1st-99th percentile), or hide the bar for None."""
        self.setVisible(name is not None)
        if name is not None:
            self.low.setText(f"{name} {limits[0]:.4g}")
            self.high.setText(f"{limits[1]:.4g}")
            self.setToolTip(f"ROI colours: {name} from its 1st to its 99th percentile (NaN: dark gray)")


def _gradient(width: int = 256) -> QPixmap:
    rgba = (feature_colormap()(np.linspace(0, 1, width)) * 255).astype(np.uint8)
    rgba = np.ascontiguousarray(np.repeat(rgba[None], 2, axis=0))
    image = QImage(rgba.tobytes(), width, 2, 4 * width, QImage.Format.Format_RGBA8888)
    return QPixmap.fromImage(image.copy())  # copy: the bytes go away
