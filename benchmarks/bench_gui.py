"""The window: open-to-interactive, slider and click latency to the repainted canvas, save.

Run from a clean checkout (needs a display; on a headless machine use Xvfb)::

    xvfb-run -a python benchmarks/bench_gui.py            # 1 000 and 20 000 ROIs
    xvfb-run -a python benchmarks/bench_gui.py 20000

Each size is a synthetic folder of 1024 x 1024 planes, 5 000 ROIs per plane, whose
features are computed (and cached) first. A fresh process then opens the window and
reports:

- open: from the start of the process (before ``import napari``) to the window shown,
  the features loaded from the cache and the canvas painted;
- slider: a value set on a feature card's range slider through its Qt widget, until
  the napari canvas has repainted synchronously (median and 95th percentile of 40 steps);
  "+hist" adds the deferred redraw of the six histograms (Qt event loop run to idle);
- click: a mouse press and release delivered through napari's mouse callbacks on an
  ROI (flip of its decision) until the canvas has repainted;
- save: the Save action (every feature, criterion, label and the selection, atomically).
"""

from __future__ import annotations

import os
from pathlib import Path

from _common import FRAME, PER_PLANE, make_folder, parse_args, run_child

SIZES = (1_000, 20_000)

_CHILD = r"""
import json, sys, time
T0 = time.perf_counter()
import numpy as np
import napari
from qtpy.QtWidgets import QApplication
from napari.utils.interactions import mouse_press_callbacks, mouse_release_callbacks
from cellector_gui import build_window
from cellector_gui._qt_access import canvas_widget

viewer, widget = build_window(sys.argv[1], show=True, block=True, recover=False)
canvas = canvas_widget(widget)
app = QApplication.instance()

def paint():
    canvas.repaint()  # synchronous paint of the GL canvas

def idle():
    for _ in range(3):
        app.processEvents()

paint(); idle()
t_open = time.perf_counter() - T0

card = widget.cards["corr_coef"]
lo, hi = card.lo, card.hi
slider, slider_hist = [], []
for v in np.linspace(lo + 0.05 * (hi - lo), lo + 0.95 * (hi - lo), 40):
    t = time.perf_counter()
    card.slider.setValue((float(v), hi))
    paint()
    slider.append(time.perf_counter() - t)
    idle()
    slider_hist.append(time.perf_counter() - t)

class Event:
    def __init__(self, kind, pos):
        self.type, self.position, self.button, self.is_dragging = kind, pos, 1, False
        self.modifiers, self.dims_displayed, self.handled, self.pos = (), (1, 2), False, [0, 0]
        self.view_direction, self.dims_point, self.delta = None, list(pos), (0, 0)

label = widget.overlay.label
plane = 0
ids = np.unique(label[plane]); ids = ids[ids > 0][:40]
click = []
for roi in ids:
    z, y, x = np.argwhere(label == roi)[0]
    pos = (float(z), float(y), float(x))
    t = time.perf_counter()
    mouse_press_callbacks(viewer, Event("mouse_press", pos))
    mouse_release_callbacks(viewer, Event("mouse_release", pos))
    paint()
    click.append(time.perf_counter() - t)
    idle()
assert widget.manager.manual_selection[1, ids - 1].all(), "clicks did not reach the ROIs"

save = []
for i in range(5):
    widget.manager.flip(int(ids[0]) - 1)
    t = time.perf_counter()
    widget.save()
    save.append(time.perf_counter() - t)

def stats(a):
    a = np.asarray(a) * 1000
    return [float(np.median(a)), float(np.percentile(a, 95))]

print(json.dumps({"n": widget.manager.num_rois, "open": t_open, "slider": stats(slider),
                  "slider_hist": stats(slider_hist), "click": stats(click), "save": stats(save)}))
widget.manager.mark_saved()
viewer.close()
"""


def prepare(data: Path, n: int) -> Path:
    """Synthetic folder for ``n`` ROIs with its features cached and no criteria or labels saved."""
    from cellector.manager import CellectorManager

    root = make_folder(data, n)
    CellectorManager.from_folder(root, load_saved=False).save_all()  # a clean state for every run
    return root


def main(argv: list[str] | None = None) -> None:
    sizes, data = parse_args(__doc__, SIZES, argv)
    print(
        f"machine: {os.cpu_count()} cores; frame {FRAME[0]}x{FRAME[1]}, {PER_PLANE} ROIs per plane; "
        "latencies in ms as median / 95th percentile"
    )
    print(f"{'ROIs':>7} {'open s':>7} {'slider':>13} {'slider+hist':>13} {'click':>13} {'save':>13}")
    for n in sizes:
        f = run_child(_CHILD, prepare(data, n))
        cells = " ".join(f"{a:>6.1f}/{b:<6.1f}" for a, b in (f["slider"], f["slider_hist"], f["click"], f["save"]))
        print(f"{f['n']:>7} {f['open']:>7.2f} {cells}", flush=True)
    print("targets at 20 000 ROIs: open < 5 s, slider and click < 30 ms, save < 200 ms")


if __name__ == "__main__":
    main()
