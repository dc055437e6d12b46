"""One card per feature: histogram, two-handled range slider with exact entry, bound toggles.

Built from magicgui widgets (``FloatRangeSlider``, ``FloatSpinBox``, ``CheckBox`` in
``Container`` rows) with the matplotlib canvas as a native widget inside the card.

One axis: the histogram's x-axis is stretched over exactly the pixels the slider's
handle centres travel, so a handle at 130 sits under the histogram's 130. The cutoff
lines can be dragged on the histogram as well; the number boxes set the cutoff itself
(any value, even outside the data; the slider shows it clamped).
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
from magicgui.widgets import CheckBox, Container, FloatRangeSlider, FloatSpinBox, Label
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from qtpy.QtCore import Signal
from qtpy.QtWidgets import QStyle, QStyleOptionSlider, QVBoxLayout, QWidget
from superqt import QDoubleRangeSlider, QLabeledRangeSlider
from superqt.utils import qthrottled

from cellector_gui._widgets.bounds import Bounds, CardBounds
from cellector_gui._widgets.rows import row

__all__ = ["FeatureCard"]

_BINS = 50
_GRAY = "#9a9a9a"
_HIGHLIGHT = "#56B4E9"
_THROTTLE_MS = 25  # live criterion updates while dragging: at most 40 per second


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
        n_nan = int(np.sum(~np.isfinite(self.values)))
        self.title = Label(value=f"<b>{self.name}</b>")
        self.nan_label = Label(value=f"NaN: {n_nan}", tooltip="ROIs without a value; they fail any active bound")
        head = row(self.title, self.nan_label, stretch_at=1)
        self.figure = Figure(figsize=(3, 1.1), dpi=80, facecolor="none")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(80)
        self.ax = self.figure.add_axes((0.02, 0.2, 0.96, 0.78))
        self._style_axes()
        # Blitting: a full draw renders the static axes once and keeps them as a
        # background; live updates redraw only the animated artists (~1 ms, not ~30 ms).
        self._background = None
        self.canvas.mpl_connect("draw_event", self._on_draw)
        self.canvas.mpl_connect("resize_event", self._on_canvas_resized)
        self.canvas.mpl_connect("button_press_event", self._on_canvas_press)
        self.canvas.mpl_connect("motion_notify_event", self._on_canvas_motion)
        self.canvas.mpl_connect("button_release_event", self._on_canvas_release)
        self._dragging: str | None = None
        self.range = FloatRangeSlider(
            min=self.lo, max=self.hi, value=(self.lo, self.hi), step=(self.hi - self.lo) / 1000, readout=False
        )
        # the histogram's axis is the slider's scale: no number labels on the slider
        self.range.native.setEdgeLabelMode(QLabeledRangeSlider.EdgeLabelMode(0))  # the empty flag: none
        self.range.native.setHandleLabelPosition(QLabeledRangeSlider.LabelPosition.NoLabel)
        # superqt's slider inside magicgui's widget: what a drag moves, and whose handle
        # geometry the histogram's axis is aligned to
        self.slider = self.range.native.findChild(QDoubleRangeSlider)
        self.model = CardBounds(self.lo, self.hi)  # the bound rules, without Qt
        self.range.changed.connect(self._on_slider_value_changed)
        self.range.native.sliderReleased.connect(self._on_slider_released)
        self.use_min = CheckBox(text="min", tooltip="use this bound")
        self.use_max = CheckBox(text="max", tooltip="use this bound")
        for box in (self.use_min, self.use_max):
            box.changed.connect(self._on_toggle_toggled)
        self.min_box, self.max_box = self._spin("min"), self._spin("max")
        entry = row(self.use_min, self.min_box, self.max_box, self.use_max, stretch_at=2)
        self.body = Container(widgets=[head, self.range, entry], labels=False)
        self.body.margins = (2, 2, 2, 2)
        self.body.native.layout().insertWidget(1, self.canvas)  # the histogram: a native widget in the card
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.body.native)
        # one update per frame while dragging: the ROI recolour never queues behind the mouse
        self._live = qthrottled(self._emit_live, timeout=_THROTTLE_MS, leading=True)

    def _spin(self, side: str) -> FloatSpinBox:
        box = FloatSpinBox(
            min=-1e12,  # a typed cutoff may lie outside the data
            max=1e12,
            step=(self.hi - self.lo) / 100,
            value=self.lo if side == "min" else self.hi,
            tooltip=f"type the {side} cutoff (Enter); it switches the {side} bound on",
        )
        box.native.setDecimals(_decimals(self.hi - self.lo))
        box.native.setKeyboardTracking(False)  # a cutoff per finished number, not per keystroke
        box.changed.connect(self._on_min_box_changed if side == "min" else self._on_max_box_changed)
        return box

    # ------------------------------------------------------------------ one axis for slider and histogram

    def handle_travel(self) -> tuple[float, float]:
        """Return the card x-pixels of a handle's centre at the slider's minimum and maximum."""
        opt = QStyleOptionSlider()
        self.slider.initStyleOption(opt)
        style = self.slider.style()
        cc, sc = QStyle.ComplexControl.CC_Slider, QStyle.SubControl
        groove = style.subControlRect(cc, opt, sc.SC_SliderGroove, self.slider)
        handle = style.subControlRect(cc, opt, sc.SC_SliderHandle, self.slider)
        first = groove.x() + handle.width() / 2
        last = groove.right() - handle.width() + 1 + handle.width() / 2
        offset = self.slider.mapTo(self, self.slider.rect().topLeft()).x()
        return offset + first, offset + last

    def handle_x(self, value: float) -> float:
        """Return the card x-pixel where a handle at ``value`` has its centre."""
        x0, x1 = self.handle_travel()
        return x0 + (value - self.lo) / (self.hi - self.lo) * (x1 - x0)

    def axis_x(self, value: float) -> float:
        """Return the card x-pixel of ``value`` on the histogram's axis."""
        px = self.ax.transData.transform((value, 0))[0] / self.canvas.devicePixelRatioF()
        return self.canvas.mapTo(self, self.canvas.rect().topLeft()).x() + px

    def _align(self) -> None:
        """Stretch the axes over exactly the handles' travel (called whenever the card is laid out)."""
        width = self.canvas.width()
        if width <= 0:
            return
        x0, x1 = self.handle_travel()
        left = x0 - self.canvas.mapTo(self, self.canvas.rect().topLeft()).x()
        self.ax.set_position((left / width, 0.2, (x1 - x0) / width, 0.78))
        self._background = None
        self.canvas.draw_idle()

    def _on_canvas_resized(self, _event=None) -> None:
        self._align()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._align()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._align()

    # ------------------------------------------------------------------ dragging the cutoff lines

    def _on_canvas_press(self, event) -> None:
        if event.xdata is None or event.button != 1:
            return
        lo, hi = self.range.value
        px = self.ax.transData.transform
        near = {side: abs(px((v, 0))[0] - event.x) for side, v in (("min", lo), ("max", hi))}
        side = min(near, key=lambda s: near[s])
        if near[side] <= 6 * self.canvas.devicePixelRatioF():
            self._dragging = side

    def _on_canvas_motion(self, event) -> None:
        if self._dragging is None or event.xdata is None:
            return
        lo, hi = self.range.value
        x = float(np.clip(event.xdata, self.lo, self.hi))
        self.range.value = (min(x, hi), hi) if self._dragging == "min" else (lo, max(x, lo))

    def _on_canvas_release(self, _event) -> None:
        if self._dragging is not None:
            self._dragging = None
            self._on_slider_released()

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
        ghost: dict[str, Any] = {"color": "#CC79A7", "lw": 1.4, "ls": ":", "visible": False, "animated": True}
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

    def bounds(self) -> Bounds:
        """Return the criterion the controls show: ``(min|None, max|None)`` (the boxes hold exact values)."""
        return self.model.bounds()

    def _on_slider_value_changed(self, value: tuple[float, float]) -> None:
        moved = self.model.slider_moved(*value)
        self._show_model(boxes=moved)
        self._live()

    def _show_model(self, boxes: tuple[bool, bool] = (True, True)) -> None:
        """Copy the model's switches and (where ``boxes``) cutoffs into the widgets, without echo."""
        m = self.model
        with contextlib.ExitStack() as stack:
            for widget in (self.use_min, self.use_max, self.min_box, self.max_box):
                stack.enter_context(widget.changed.blocked())
            self.use_min.value, self.use_max.value = m.use
            if boxes[0]:
                self.min_box.value = m.cut[0]
            if boxes[1]:
                self.max_box.value = m.cut[1]

    def _emit_live(self) -> None:
        self.bounds_edited.emit(self.name, self.bounds(), False)

    def _on_min_box_changed(self, value: float) -> None:
        self._typed("min", float(value))

    def _on_max_box_changed(self, value: float) -> None:
        self._typed("max", float(value))

    def _typed(self, side: str, value: float) -> None:
        self.bounds_edited.emit(self.name, self.model.typed(side, value), True)

    def _on_slider_released(self) -> None:
        self._live.cancel()  # the final edit below carries the latest bounds
        self.bounds_edited.emit(self.name, self.bounds(), True)

    def _on_toggle_toggled(self, _checked: bool) -> None:
        self.bounds_edited.emit(self.name, self.bounds(), True)

    # ------------------------------------------------------------------ model -> view

    def show_criterion(self, bounds: Bounds) -> None:
        """Show a criterion from the model (clamped to the data range, no echo)."""
        shown = self.model.show(bounds)
        with self.range.changed.blocked():
            self.range.value = shown
        self.model.shown = (float(self.range.value[0]), float(self.range.value[1]))  # as the slider holds it
        self._show_model()
        self.min_line.set_visible(bounds[0] is not None)
        self.max_line.set_visible(bounds[1] is not None)
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
