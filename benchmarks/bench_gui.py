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
- save: the Save action (every feature, criterion, label and the selection, atomically);
- switch (the largest size): a study of two such sessions, features saved; from
  ``next_session()`` (or previous) to the other session shown and painted, there and
  back three times. Its floor: napari reading the other session (``load_suite2p``) and
  putting its reference and labels into the same two layers.

napari's own floor is measured in the same run, in a fresh process of its own: a bare
viewer showing the same reference stack and a labels layer of the same shape (one label
per ROI), shown and painted ("open"), and the repaint of that labels layer after a
refresh ("repaint": the labels re-sliced and uploaded, then the canvas painted
synchronously: what showing new ROI colours costs napari itself), and a bare repaint of
the unchanged canvas ("paint"). Each of our figures is printed beside it as a ratio; the goals are open
<= 1.25 x and slider, click <= 1.5 x napari's repaint.
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
from cellector_gui._viewer.qt_access import canvas_widget

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


_FLOOR = r"""
import json, sys, time
T0 = time.perf_counter()
import numpy as np
import napari
from qtpy.QtWidgets import QApplication, QLabel, QWidget
from cellector.io.suite2p import load_suite2p
from cellector_gui._viewer.qt_access import fit_to_screen
from cellector_gui._dock.widget import DOCK_WIDTH

session = load_suite2p(sys.argv[1])
r = session.rois
labels = np.zeros(r.shape, np.uint32)  # one label per ROI, as our overlay draws them
labels[r.zpix, r.ypix, r.xpix] = np.repeat(np.arange(1, r.n_rois + 1), np.diff(r.ptr))
viewer = napari.Viewer(show=True)
viewer.add_image(session.reference, name="reference", colormap="red", blending="additive")
layer = viewer.add_labels(labels, name="labels")
dock = QLabel("floor")  # a dock of our width, so the canvas has our canvas's size
dock.setFixedWidth(DOCK_WIDTH)
viewer.window.add_dock_widget(dock, area="right")
fit_to_screen(dock)
app = QApplication.instance()
canvas = next(w for w in dock.window().findChildren(QWidget) if type(w).__name__ == "CanvasBackendDesktop")

def idle():
    for _ in range(3):
        app.processEvents()

canvas.repaint(); idle()
t_open = time.perf_counter() - T0
repaint, paint = [], []
for _ in range(40):
    t = time.perf_counter()
    layer.refresh()  # the labels layer re-sliced and uploaded: what showing new ROI colours costs napari
    canvas.repaint()
    repaint.append(time.perf_counter() - t)
    idle()
    t = time.perf_counter()
    canvas.repaint()  # the canvas alone, nothing changed
    paint.append(time.perf_counter() - t)
    idle()


def stats(a):
    return [float(np.median(a) * 1000), float(np.percentile(a, 95) * 1000)]


print(json.dumps({"open": t_open, "repaint": stats(repaint), "paint": stats(paint)}))
viewer.close()
"""


_SWITCH = r"""
import json, sys, time
import numpy as np
from qtpy.QtWidgets import QApplication
from cellector_gui import build_window
from cellector_gui._viewer.qt_access import canvas_widget

viewer, widget = build_window(sys.argv[1], show=True, block=True, recover=False)
canvas = canvas_widget(widget)
app = QApplication.instance()

def shown():
    canvas.repaint()
    for _ in range(3):
        app.processEvents()

shown()
switch = []
for k in range(6):  # there and back, three times
    t = time.perf_counter()
    assert widget.next_session() if k % 2 == 0 else widget.previous_session()
    shown()
    switch.append(time.perf_counter() - t)
    assert widget.manager is not None and widget.study.current == (k + 1) % 2
print(json.dumps({"n": widget.manager.num_rois, "switch": [float(np.median(switch)), float(np.max(switch))]}))
widget.manager.mark_saved()
widget.study.close()
viewer.close()
"""

_SWITCH_FLOOR = r"""
import json, sys, time
from pathlib import Path
import numpy as np
import napari
from qtpy.QtWidgets import QApplication, QLabel, QWidget
from cellector.io.suite2p import load_suite2p
from cellector_gui._viewer.qt_access import fit_to_screen
from cellector_gui._dock.widget import DOCK_WIDTH

def labels_of(session):
    r = session.rois
    out = np.zeros(r.shape, np.uint32)
    out[r.zpix, r.ypix, r.xpix] = np.repeat(np.arange(1, r.n_rois + 1), np.diff(r.ptr))
    return out

root = Path(sys.argv[1])
folders = [root / "a" / "suite2p", root / "b" / "suite2p"]
first = load_suite2p(folders[0])
viewer = napari.Viewer(show=True)
image = viewer.add_image(first.reference, name="reference", colormap="red", blending="additive")
layer = viewer.add_labels(labels_of(first), name="labels")
dock = QLabel("floor")
dock.setFixedWidth(DOCK_WIDTH)
viewer.window.add_dock_widget(dock, area="right")
fit_to_screen(dock)
app = QApplication.instance()
canvas = next(w for w in dock.window().findChildren(QWidget) if type(w).__name__ == "CanvasBackendDesktop")
canvas.repaint()
switch = []
for k in range(6):
    t = time.perf_counter()
    session = load_suite2p(folders[(k + 1) % 2])  # read the other session
    image.data = session.reference  # and show it in the same layers
    layer.data = labels_of(session)
    canvas.repaint()
    for _ in range(3):
        app.processEvents()
    switch.append(time.perf_counter() - t)
print(json.dumps({"switch": [float(np.median(switch)), float(np.max(switch))]}))
viewer.close()
"""


def prepare_study(data: Path, n: int) -> Path:
    """A study of two sessions of ``n`` ROIs each (1024² planes), their features cached; its folder."""
    from cellector.io.datasets import make_suite2p_folder
    from cellector.manager import CellectorManager

    root = data / f"study{n}"
    for name, seed in (("a", 1), ("b", 2)):
        if not (root / name / "suite2p").is_dir():
            planes = max(1, n // PER_PLANE)
            make_suite2p_folder(root / name, n_planes=planes, n_rois=n // planes, shape=FRAME, seed=seed)
        CellectorManager.from_folder(root / name / "suite2p", load_saved=False).save_all()
    return root


def switch(data: Path, n: int) -> None:
    """Print the time from next/previous session to the other session shown, beside napari's floor."""
    root = prepare_study(data, n)
    f = run_child(_SWITCH, root)
    floor = run_child(_SWITCH_FLOOR, root)
    print(
        f"switch between two sessions of {f['n']} ROIs (features saved): {f['switch'][0]:.2f} s median, "
        f"{f['switch'][1]:.2f} s worst (goal 3 s) | napari reading the other session into the same layers: "
        f"{floor['switch'][0]:.2f} s | ratio {f['switch'][0] / floor['switch'][0]:.2f}x",
        flush=True,
    )


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
    print(
        f"{'ROIs':>7} {'open s':>7} {'slider':>13} {'slider+hist':>13} {'click':>13} {'save':>13}"
        f"  | napari: {'open s':>6} {'repaint':>13} {'paint':>13} | ratios: open slider click"
    )
    for n in sizes:
        root = prepare(data, n)
        f = run_child(_CHILD, root)
        floor = run_child(_FLOOR, root)
        cells = " ".join(f"{a:>6.1f}/{b:<6.1f}" for a, b in (f["slider"], f["slider_hist"], f["click"], f["save"]))
        ratios = (f["open"] / floor["open"], f["slider"][0] / floor["repaint"][0], f["click"][0] / floor["repaint"][0])
        napari = " ".join(f"{a:>6.1f}/{b:<6.1f}" for a, b in (floor["repaint"], floor["paint"]))
        print(
            f"{f['n']:>7} {f['open']:>7.2f} {cells}  |         {floor['open']:>6.2f} {napari} |"
            "         " + "  ".join(f"{x:>4.2f}x" for x in ratios),
            flush=True,
        )
    print("goals: open <= 1.25 x napari's open; slider and click <= 1.5 x napari's repaint")
    switch(data, max(sizes))


if __name__ == "__main__":
    main()
