"""Regenerate the documentation's screenshots from the real window on demo data.

    xvfb-run -a -s "-screen 0 1920x1080x24" python scripts/make_screenshots.py [OUT_DIR]   # default docs/images

Writes ``window.png`` (the whole window at 1920 x 1080), ``window-1366x768.png`` (a
laptop screen), ``cards.png`` (the feature cards) and ``outline.png`` (the canvas,
zoomed on the focused ROI), all with the demo's worked-example criteria, one manual
override, eight labels from guided review (so the dock shows a suggestion and its
estimate) and a focused ROI; ``export-menu.png`` / ``export-menu-1366x768.png``: the dock's
Export menu open; ``report.png``, the session's report figure; and ``study.png`` /
``study-1366x768.png``: a study of three
synthetic sessions, the first saved with those criteria, the second open with them
offered as dotted lines.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

DOCS_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
SIZES = {"window.png": (1920, 1080), "window-1366x768.png": (1366, 768)}
STUDY_SIZES = {"study.png": (1920, 1080), "study-1366x768.png": (1366, 768)}


def _settle() -> None:
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance()
    for _ in range(8):
        app.processEvents()


def _label_guided(m, truth, n: int = 8) -> None:
    """Label the first ``n`` ROIs guided review offers, as a careful curator would (so the dock shows a suggestion)."""
    for _ in range(n):
        idx = int(m.review_queue()[0])
        m.update_manual_labels(idx, bool(truth[idx]))


def _open(root: Path, size: tuple[int, int], truth=None):
    from cellector.study.cli import DEMO_CRITERIA
    from cellector_gui import build_window
    from cellector_gui._viewer.qt_access import fit_to_screen

    viewer, widget = build_window(root, show=True, recover=False)
    fit_to_screen(widget, size)
    for name, bounds in DEMO_CRITERIA.items():
        widget.manager.update_criteria(name, bounds)
    m = widget.manager
    missed = ~m.compute_idx_selected()
    if truth is not None:
        missed &= truth  # the override a careful curator makes: a red cell the cutoffs miss
    if missed.any():  # argmax of no True would flip ROI 0, whatever it is
        m.flip(int(missed.argmax()))  # one manual override
    if truth is not None:
        _label_guided(m, truth)
        widget.guidance.refresh()
    focus = int(m.review_queue()[0])
    m.set_focus(focus)
    widget.roi_actions.center_on(focus)
    _settle()
    viewer.reset_view()
    _settle()
    return viewer, widget


def _export_menu(widget, path: Path) -> Path:
    """Open the dock's Export menu as a click does and save the window with it (a popup: grabbed from the screen)."""
    from qtpy.QtWidgets import QApplication

    widget.exports.show_menu(widget.controls.export_button.native)
    _settle()
    window = widget.window()
    g = window.frameGeometry()
    QApplication.primaryScreen().grabWindow(0, g.x(), g.y(), g.width(), g.height()).save(str(path))
    widget.exports.menu.hide()
    _settle()
    return path


def _report(manager, path: Path) -> Path:
    """Draw the session's report figure (as `cellector report` does) into ``path``."""
    from cellector_gui.report import figure_of

    figure_of(manager).savefig(path)
    return path


def make_screenshots(out: Path) -> list[Path]:
    """Open the window on a demo session at each size and save the images; returns their paths."""
    from cellector.io.datasets import make_suite2p_folder
    from cellector_gui._viewer.qt_access import camera

    out.mkdir(parents=True, exist_ok=True)
    session = make_suite2p_folder(Path(tempfile.mkdtemp(prefix="cellector-shots-")), n_planes=2, n_rois=300)
    paths = []
    for name, size in SIZES.items():
        viewer, widget = _open(session.root, size, np.concatenate(session.truth_red))
        viewer.screenshot(str(out / name), canvas_only=False)
        paths.append(out / name)
        paths.append(_export_menu(widget, out / name.replace("window", "export-menu")))
        if name == "window.png":
            widget.cards_box.grab().save(str(out / "cards.png"))
            widget.roi_actions.center_on(widget.manager.focus)
            camera(viewer).zoom = camera(viewer).zoom * 4
            _settle()
            viewer.screenshot(str(out / "outline.png"), canvas_only=True)
            paths += [out / "cards.png", out / "outline.png"]
        if name == "window.png":
            paths.append(_report(widget.manager, out / "report.png"))
        widget.manager.mark_saved()
        widget.unbind()
        viewer.close()
    return paths + study_screenshots(out)


def make_study(root: Path) -> Path:
    """Write a study of three synthetic sessions; the first curated with the demo's criteria and saved."""
    from cellector.io.datasets import make_suite2p_folder
    from cellector.manager import CellectorManager
    from cellector.study.cli import DEMO_CRITERIA

    for k, (name, rois) in enumerate((("mouse1/day1", 300), ("mouse1/day2", 250), ("mouse2/day1", 400))):
        make_suite2p_folder(root / name, n_planes=2, n_rois=rois, seed=10 + k)
    first = CellectorManager.from_folder(root / "mouse1/day1/suite2p")
    first.set_all_criteria(DEMO_CRITERIA)
    first.save_all()
    return root


def study_screenshots(out: Path) -> list[Path]:
    """Open the study window at each size and save the images; returns their paths."""
    from cellector_gui import build_window
    from cellector_gui._viewer.qt_access import fit_to_screen

    root = make_study(Path(tempfile.mkdtemp(prefix="cellector-study-")) / "study")
    paths = []
    for name, size in STUDY_SIZES.items():
        viewer, widget = build_window(root, show=True, recover=False)
        fit_to_screen(widget, size)
        _settle()
        viewer.reset_view()
        _settle()
        viewer.screenshot(str(out / name), canvas_only=False)
        paths.append(out / name)
        widget.manager.mark_saved()
        widget.study.close()
        widget.unbind()
        viewer.close()
    return paths


if __name__ == "__main__":
    for p in make_screenshots(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS_IMAGES):
        print(f"wrote {p}")
