"""The npe2 route: ``napari FOLDER --plugin cellector``, the dock and the sample data."""

import numpy as np
from npe2 import PluginManager

from cellector_gui._dock.plugin import CellectorDock, get_reader


def _dock(viewer, qtbot):
    """Wait for the reader's dock to appear and its worker to attach the session."""

    def attached():
        docks = list(viewer.window.dock_widgets.values())
        inner = [w for w in docks if isinstance(w, CellectorDock)]
        assert inner and inner[0].inner.manager is not None

    qtbot.waitUntil(attached, timeout=60000)
    return next(d for d in viewer.window.dock_widgets.values() if isinstance(d, CellectorDock))


def test_manifest_is_valid():
    pm = PluginManager.instance()
    pm.discover()
    manifest = pm.get_manifest("cellector")
    assert [w.display_name for w in manifest.contributions.widgets] == ["Cellector"]
    assert manifest.contributions.sample_data[0].key == "synthetic_session"
    assert manifest.icon.endswith("cellector.png")


def test_reader_refuses_what_is_not_suite2p(tmp_path):
    (tmp_path / "a.tif").write_bytes(b"II*\x00")
    assert get_reader(str(tmp_path)) is None
    assert get_reader(str(tmp_path / "a.tif")) is None
    assert get_reader(str(tmp_path / "missing")) is None
    assert get_reader([str(tmp_path), str(tmp_path)]) is None


def test_open_folder_with_the_plugin(make_napari_viewer, qtbot, real_copy):
    root = real_copy("suite2p-1.1-2planes")
    viewer = make_napari_viewer()
    layers = viewer.open(str(root), plugin="cellector")
    assert [layer.name for layer in layers] == ["reference", "functional"]
    assert layers[0].data.shape[0] == 2  # two planes
    dock = _dock(viewer, qtbot)
    m = dock.inner.manager
    assert m.num_rois == m.roi_processor.session.rois.n_rois
    names = [layer.name for layer in viewer.layers]
    assert names.count("reference") == 1 and "ROIs" in names  # reader's layers reused
    m.update_criteria("dot_product", [float(np.nanmax(m.features["dot_product"])) + 1, None])
    assert not m.compute_idx_selected().any()
    assert "0 selected of 61" in dock.inner.summary.text()
    m.mark_saved()
    dock.inner.unbind()


def test_a_folder_opened_with_the_plugin_fills_the_screen(make_napari_viewer, qtbot, real_copy):
    """As cellector-gui does: the window takes the screen's available area, napari's layer docks step aside."""
    from qtpy.QtWidgets import QApplication, QDockWidget, QScrollArea

    from cellector_gui._viewer.qt_access import canvas_widget, main_window

    viewer = make_napari_viewer(show=True)
    viewer.open(str(real_copy("suite2p-1.1-2planes")), plugin="cellector")
    dock = _dock(viewer, qtbot)
    top = main_window(dock)
    screen = QApplication.primaryScreen().availableGeometry()
    qtbot.waitUntil(lambda: top.width() >= 0.9 * screen.width(), timeout=10000)
    napari_docks = [d for d in top.findChildren(QDockWidget) if d.objectName() in ("layer controls", "layer list")]
    assert napari_docks and not any(d.isVisible() for d in napari_docks)
    # the canvas takes all the width the cellector dock leaves (napari's docks would take ~300 px)
    assert canvas_widget(dock.inner).width() >= top.width() - dock.inner.maximumWidth() - 40
    # and the cards reach down to the bottom of the dock (napari adds no stretch below them)
    cards = dock.inner.findChild(QScrollArea)
    assert dock.height() - dock.inner.mapTo(dock, cards.geometry().bottomLeft()).y() < 30
    dock.inner.manager.mark_saved()
    dock.inner.unbind()


def test_sample_data(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    viewer.open_sample("cellector", "synthetic_session")
    assert "reference" in [layer.name for layer in viewer.layers]
    dock = _dock(viewer, qtbot)
    assert dock.inner.manager.num_rois == 300
    dock.inner.manager.mark_saved()
    dock.inner.unbind()


def test_single_channel_folder_as_a_plugin(make_napari_viewer, qtbot, real_copy):
    root = real_copy("real-fissa-1plane")
    viewer = make_napari_viewer()
    layers = viewer.open(str(root), plugin="cellector")
    assert [layer.name for layer in layers] == ["reference", "functional"]
    dock = _dock(viewer, qtbot)
    assert dock.inner.manager.num_rois == 23
    assert "single-channel recording" in dock.inner.banner.text()
    assert dock.inner.reference_row.combo.value == "meanImg"
    dock.inner.unbind()
