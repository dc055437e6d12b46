"""One card per feature: histogram, two-handled range slider with exact entry, bound toggles."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from superqt import QLabeledDoubleRangeSlider
from superqt.utils import signals_blocked

__all__ = ["FeatureCard"]

_BINS = 50
_GRAY = "#9a9a9a"
_HIGHLIGHT = "#56B4E9"


class FeatureCard(QWidget):
    """Histogram of one feature with its criterion controls.

    Emits ``bounds_edited(name, (min|None, max|None), final)`` when the user moves a
    handle (``final`` False while dragging) or toggles a bound; it never changes the
    model itself.
    """

    bounds_edited = Signal(str, object, bool)

    def __init__(self, name: str, values: np.ndarray, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.values = np.asarray(values, np.float64)
        finite = self.values[np.isfinite(self.values)]
        self.lo, self.hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if self.hi <= self.lo:
            self.hi = self.lo + 1.0
        self.edges = np.linspace(self.lo, self.hi, _BINS + 1)
        self._all_counts = np.histogram(finite, self.edges)[0]
        self._build()

    # ------------------------------------------------------------------ construction

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        head = QHBoxLayout()
        self.title = QLabel(f"<b>{self.name}</b>", self)
        n_nan = int(np.sum(~np.isfinite(self.values)))
        self.nan_label = QLabel(f"NaN: {n_nan}", self)
        self.nan_label.setToolTip("ROIs without a value; they fail any active bound on this feature")
        self.use_min = QCheckBox("min", self)
        self.use_max = QCheckBox("max", self)
        for box in (self.use_min, self.use_max):
            box.setToolTip("use this bound")
            box.toggled.connect(self._on_toggle_toggled)
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.nan_label)
        head.addWidget(self.use_min)
        head.addWidget(self.use_max)
        layout.addLayout(head)
        self.figure = Figure(figsize=(3, 1.1), dpi=80, facecolor="none")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setParent(self)
        self.canvas.setMinimumHeight(80)
        self.ax = self.figure.add_axes((0.02, 0.18, 0.96, 0.8))
        self._style_axes()
        # Blitting: a full draw renders the static axes once and keeps them as a
        # background; live updates redraw only the animated artists (~1 ms, not ~30 ms).
        self._background = None
        self.canvas.mpl_connect("draw_event", self._on_draw)
        layout.addWidget(self.canvas)
        self.slider = QLabeledDoubleRangeSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(self.lo, self.hi)
        self.slider.setDecimals(_decimals(self.hi - self.lo))
        self.slider.setSingleStep((self.hi - self.lo) / 1000)
        self.slider.setValue((self.lo, self.hi))
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.slider.sliderReleased.connect(self._on_slider_released)
        layout.addWidget(self.slider)

    def _style_axes(self) -> None:
        ax = self.ax
        ax.set_facecolor("none")
        ax.tick_params(labelsize=7, colors="#bbbbbb", left=False, labelleft=False)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.spines["bottom"].set_color("#888888")
        self.all_stairs = ax.stairs(self._all_counts, self.edges, fill=True, color=_GRAY, alpha=0.6)
        self.sel_stairs = ax.stairs(np.zeros(_BINS), self.edges, fill=True, color=_HIGHLIGHT, alpha=0.9, animated=True)
        self.min_line = ax.axvline(self.lo, color="#E69F00", lw=1.2, visible=False, animated=True)
        self.max_line = ax.axvline(self.hi, color="#E69F00", lw=1.2, visible=False, animated=True)
        self.focus_line = ax.axvline(self.lo, color="white", lw=1.5, ls="--", visible=False, animated=True)
        # cutoffs suggested from the curator's labels: dotted "ghost" lines until applied
        ghost = {"color": "#CC79A7", "lw": 1.4, "ls": ":", "visible": False, "animated": True}
        self.ghost_min = ax.axvline(self.lo, **ghost)
        self.ghost_max = ax.axvline(self.hi, **ghost)
        self._animated = (
            self.sel_stairs,
            self.min_line,
            self.max_line,
            self.focus_line,
            self.ghost_min,
            self.ghost_max,
        )
        ax.set_xlim(self.lo, self.hi)
        ax.set_ylim(0, max(1, self._all_counts.max()) * 1.05)

    # ------------------------------------------------------------------ user -> signal

    def bounds(self) -> tuple[float | None, float | None]:
        """Return the criterion the controls show: ``(min|None, max|None)``."""
        lo, hi = self.slider.value()
        return (float(lo) if self.use_min.isChecked() else None, float(hi) if self.use_max.isChecked() else None)

    def _on_slider_value_changed(self, value: tuple[float, float]) -> None:
        lo, hi = value
        # Moving a handle switches that bound on: the user clearly wants to use it.
        with signals_blocked(self.use_min), signals_blocked(self.use_max):
            if not np.isclose(lo, self.lo) or self.use_min.isChecked():
                self.use_min.setChecked(True)
            if not np.isclose(hi, self.hi) or self.use_max.isChecked():
                self.use_max.setChecked(True)
        self.bounds_edited.emit(self.name, self.bounds(), False)

    def _on_slider_released(self) -> None:
        self.bounds_edited.emit(self.name, self.bounds(), True)

    def _on_toggle_toggled(self, _checked: bool) -> None:
        self.bounds_edited.emit(self.name, self.bounds(), True)

    # ------------------------------------------------------------------ model -> view

    def show_criterion(self, bounds: tuple[float | None, float | None]) -> None:
        """Show a criterion from the model (clamped to the data range, no echo)."""
        lo, hi = bounds
        shown = (
            self.lo if lo is None else min(max(lo, self.lo), self.hi),
            self.hi if hi is None else min(max(hi, self.lo), self.hi),
        )
        with signals_blocked(self.slider), signals_blocked(self.use_min), signals_blocked(self.use_max):
            self.slider.setValue(shown)
            self.use_min.setChecked(lo is not None)
            self.use_max.setChecked(hi is not None)
        self.min_line.set_visible(lo is not None)
        self.max_line.set_visible(hi is not None)
        self.min_line.set_xdata([shown[0], shown[0]])
        self.max_line.set_xdata([shown[1], shown[1]])
        self._redraw_dynamic()

    def show_selection(self, selected: np.ndarray) -> None:
        """Highlight the selected ROIs in the histogram."""
        v = self.values[selected]
        counts = np.histogram(v[np.isfinite(v)], self.edges)[0]
        self.sel_stairs.set_data(counts)
        self._redraw_dynamic()

    def show_focus(self, idx: int) -> None:
        """Mark ROI ``idx``'s value (-1 or NaN hides the mark)."""
        value = self.values[idx] if idx >= 0 else np.nan
        self.focus_line.set_visible(bool(np.isfinite(value)))
        if np.isfinite(value):
            self.focus_line.set_xdata([value, value])
        self._redraw_dynamic()

    def show_suggestion(self, bounds: tuple[float | None, float | None] | None) -> None:
        """Draw suggested cutoffs as ghost lines (None or unused bounds hide them)."""
        lo, hi = bounds if bounds is not None else (None, None)
        for line, value in ((self.ghost_min, lo), (self.ghost_max, hi)):
            line.set_visible(value is not None)
            if value is not None:
                x = min(max(value, self.lo), self.hi)
                line.set_xdata([x, x])
        self._redraw_dynamic()

    def _on_draw(self, _event=None) -> None:
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._draw_animated()

    def _draw_animated(self) -> None:
        for artist in self._animated:
            self.ax.draw_artist(artist)

    def _redraw_dynamic(self) -> None:
        """Redraw the selection, bounds and focus over the cached background."""
        if self._background is None:  # never drawn yet (or hidden): the first draw shows all
            self.canvas.draw_idle()
            return
        self.canvas.restore_region(self._background)
        self._draw_animated()
        self.canvas.update()  # paint the updated buffer in the next paint event


def _decimals(span: float) -> int:
    if span <= 0 or not np.isfinite(span):
        return 3
    return int(np.clip(3 - np.floor(np.log10(span)), 2, 8))
