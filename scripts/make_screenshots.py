"""Regenerate the documentation's screenshots from the real window on demo data.

    xvfb-run -a python scripts/make_screenshots.py [OUT_DIR]    # default docs/images

Writes ``window.png`` (the whole window with the demo's worked-example criteria),
``cards.png`` (the feature cards) and ``outline.png`` (outline mode, zoomed).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

DOCS_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def make_screenshots(out: Path) -> list[Path]:
    """Open the window on a demo session, set the demo criteria and save the images."""
    from qtpy.QtWidgets import QApplication

    from cellector.cli import DEMO_CRITERIA
    from cellector.datasets import make_suite2p_folder
    from cellector_gui import build_window

    out.mkdir(parents=True, exist_ok=True)
    session = make_suite2p_folder(Path(tempfile.mkdtemp(prefix="cellector-shots-")), n_planes=2, n_rois=300)
    viewer, widget = build_window(session.root, show=True, recover=False)
    viewer.window.resize(1500, 950)
    for name, bounds in DEMO_CRITERIA.items():
        widget.manager.update_criteria(name, bounds)
    widget.manager.flip(int(widget.manager.compute_idx_selected().argmin()))  # one manual override
    app = QApplication.instance()

    def settle() -> None:
        for _ in range(5):
            app.processEvents()

    settle()
    viewer.reset_view()
    settle()
    paths = [out / "window.png", out / "cards.png", out / "outline.png"]
    viewer.screenshot(str(paths[0]), canvas_only=False)
    widget.cards_box.grab().save(str(paths[1]))
    widget.outline_box.setChecked(True)
    from cellector_gui._qt_access import camera

    camera(viewer).zoom = camera(viewer).zoom * 3
    settle()
    viewer.screenshot(str(paths[2]), canvas_only=True)
    widget.manager.mark_saved()
    widget.unbind()
    viewer.close()
    return paths


if __name__ == "__main__":
    for p in make_screenshots(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS_IMAGES):
        print(f"wrote {p}")
