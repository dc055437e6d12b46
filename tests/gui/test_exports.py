"""The window's Export menu: NWB, suite2p-format labels and the report figure, clicked as a user does."""

import numpy as np
import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QMessageBox

from cellector.study.cli import main as cellector

from ..conftest import tree_hashes
from ..export.test_nwb_layouts import _inspect, _planes_say, docs_example


@pytest.fixture
def genuine(make_napari_viewer, real_copy):
    """(widget, root) on the genuine two-plane folder, with a saved cutoff."""
    from cellector.manager import CellectorManager
    from cellector_gui import build_window

    root = real_copy("suite2p-1.1-2planes")
    m = CellectorManager.from_folder(root)
    m.update_criteria("dot_product", [float(np.nanmedian(m.features["dot_product"])), None])
    m.save_all()
    _viewer, widget = build_window(root, viewer=make_napari_viewer(), recover=False)
    yield widget, root
    if widget.manager is not None:
        widget.manager.mark_saved()
    widget.unbind()


def _choose(widget, qtbot, action):
    """Click Export…, then the menu entry, with the mouse."""
    button = widget.controls.export_button.native
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    menu = widget.exports.menu
    qtbot.waitUntil(menu.isVisible, timeout=2000)
    assert [a.text() for a in menu.actions()] == [
        "NWB file…",
        "suite2p labels (planeN/redcell_cellector.npy)",
        "Report figure (PNG and PDF)…",
    ]
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not menu.isVisible(), timeout=2000)


def test_nwb_from_the_window_asks_for_the_metadata_once(genuine, dialogs, qtbot, tmp_path):
    from pynwb import NWBHDF5IO

    widget, root = genuine
    m = widget.manager
    meta = tmp_path / "meta.yaml"
    meta.write_text(docs_example("list"))
    m.flip(0)  # an unsaved change: the export asks to save it first
    dialogs.expect("question", QMessageBox.StandardButton.Yes, "Save your changes first?")
    dialogs.expect("open file", (str(meta), "YAML (*.yaml *.yml)"), "NWB metadata")
    first = tmp_path / "out" / "day1.nwb"
    dialogs.expect("save file", (str(first), "NWB (*.nwb)"), "Save the NWB file")
    _choose(widget, qtbot, widget.exports.nwb_action)
    assert widget.status.text() == f"NWB exported: {first}" and not m.dirty
    _planes_say(first, 2)
    saved = np.load(root / "cellector" / "idx_selected.npy")
    with NWBHDF5IO(str(first), "r") as io:
        seg = io.read().processing["ophys"]["ImageSegmentation"]
        got = np.concatenate([seg[n]["is_red"].data[:] for n in ("PlaneSegmentation", "PlaneSegmentation1")])
    np.testing.assert_array_equal(got, saved)
    assert _inspect(first) == []
    # the second export of the window (another session of the study, say) uses the same metadata file
    second = tmp_path / "out" / "again.nwb"
    dialogs.expect("save file", (str(second), "NWB (*.nwb)"), "Save the NWB file")
    _choose(widget, qtbot, widget.exports.nwb_action)
    assert second.is_file() and widget.exports.metadata == meta


def test_window_exports_refuse_what_the_command_refuses(genuine, dialogs, qtbot, tmp_path, capsys):
    widget, root = genuine
    inside = root / "plane0" / "x.nwb"
    before = tree_hashes(root.parent)
    assert cellector(["export", str(root), "--format", "nwb", "-o", str(inside)]) == 2
    command_says = capsys.readouterr().err.strip().split(f"{root}: ", 1)[1]
    dialogs.expect("open file", ("", ""), "NWB metadata")  # Cancel: no metadata
    dialogs.expect("save file", (str(inside), "NWB (*.nwb)"), "Save the NWB file")
    dialogs.expect("warning", QMessageBox.StandardButton.Ok, command_says)
    _choose(widget, qtbot, widget.exports.nwb_action)
    assert widget.status.text() == f"NWB not exported: {command_says}"
    # malformed metadata: the field named, nothing written, and the next export asks for a file again
    bad = tmp_path / "bad.yaml"
    bad.write_text("Ophys:\n  ImagingPlane:\n    locaton: VISp\n")
    widget.exports._metadata_asked = False
    dialogs.expect("open file", (str(bad), "YAML (*.yaml *.yml)"), "NWB metadata")
    dialogs.expect("warning", QMessageBox.StandardButton.Ok, "unknown field(s) locaton")
    _choose(widget, qtbot, widget.exports.nwb_action)
    assert "locaton" in widget.status.text() and widget.exports.metadata is None
    assert tree_hashes(root.parent) == before


def test_suite2p_labels_from_the_window(genuine, dialogs, qtbot):
    widget, root = genuine
    _choose(widget, qtbot, widget.exports.redcell_action)
    saved = np.load(root / "cellector" / "idx_selected.npy")
    s = widget.manager.roi_processor.session
    for z, plane in enumerate(s.planes):
        labels = np.load(root / plane / "redcell_cellector.npy")
        assert labels.shape == (np.sum(s.roi_plane == z), 2)
        np.testing.assert_array_equal(labels[:, 0] > 0.5, saved[s.roi_plane == z])
    assert widget.status.text().startswith("suite2p labels exported: ")


def test_the_report_figure_from_the_window(window, dialogs, qtbot, tmp_path):
    import matplotlib.image as mpimg

    _viewer, widget = window
    target = tmp_path / "figs" / "session.png"
    dialogs.expect("save file", (str(target), "PNG (*.png)"), "Save the report figure")
    _choose(widget, qtbot, widget.exports.figure_action)
    assert mpimg.imread(target).shape[1] >= 1000 and target.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert widget.status.text().startswith("figure saved: ")
    # into the recording: refused, said in a warning, nothing written
    inside = widget.manager.root_dir / "plane0" / "fig.png"
    dialogs.expect("save file", (str(inside), "PNG (*.png)"), "Save the report figure")
    dialogs.expect("warning", QMessageBox.StandardButton.Ok, "refusing to write")
    _choose(widget, qtbot, widget.exports.figure_action)
    assert not inside.exists() and widget.status.text().startswith("figure not saved: refusing")
