"""Opening sessions in the window: real and single-channel folders, the commands, errors, loading."""

import numpy as np
import pytest

from cellector_gui._viewer.overlay import COLORS

from .conftest import click, first_visible_roi, pixel_of, press, rgba_at


def test_window_shows_session(window):
    viewer, widget = window
    assert viewer.title.startswith("cellector — ")
    assert list(widget.cards) == [
        "red_s2p",
        "phase_corr",
        "dot_product",
        "corr_coef",
        "in_vs_out",
        "local_contrast",
        "functional_dot_product",
    ]
    assert {"reference", "functional", "ROIs", "ROI weights (lam)"} <= {la.name for la in viewer.layers}
    assert viewer.layers["reference"].data.shape == (2, 128, 128)
    # no cutoffs yet: said so, and the ROIs are drawn "undecided", not all selected
    assert "no cutoffs set" in widget.summary.text()
    idx = first_visible_roi(widget)
    assert rgba_at(widget, idx) == COLORS["undecided"]
    # the red channel in a red colormap, blended additively; the functional mean green
    ref = viewer.layers["reference"]
    r, g, b, _ = ref.colormap.colors[-1]
    assert ref.blending == "additive" and r > 0.9 and g < 0.2 and b < 0.5
    assert viewer.layers["functional"].colormap.colors[-1][1] > 0.9
    # outlines: the reference stays visible inside every ROI (transparent interior)
    label = widget.overlay.label[0]
    inner = (label[1:-1, 1:-1] > 0) & (label[1:-1, 1:-1] == label[:-2, 1:-1]) & (label[1:-1, 1:-1] == label[2:, 1:-1])
    inner &= (label[1:-1, 1:-1] == label[1:-1, :-2]) & (label[1:-1, 1:-1] == label[1:-1, 2:])
    ys, xs = np.nonzero(inner)
    assert widget.roi_layer.data[0, ys + 1, xs + 1, 3].max() == 0
    assert viewer.dims.axis_labels == ("plane", "y", "x")  # the plane slider is named, not "-3"


@pytest.mark.parametrize("folder", ["suite2p-1.1-2planes", "suite2p-0.14-1plane"])
def test_real_folders(make_napari_viewer, real_copy, folder, mouse_event):
    from cellector_gui import build_window

    viewer, widget = build_window(real_copy(folder), viewer=make_napari_viewer(), recover=False)
    idx = first_visible_roi(widget)
    click(viewer, mouse_event, pixel_of(widget, idx))
    assert widget.manager.manual_selection[1, idx]
    widget.manager.mark_saved()
    widget.unbind()


def test_single_channel_folder_with_chosen_key(make_napari_viewer, real_copy):
    from cellector_gui import build_window

    _viewer, widget = build_window(
        real_copy("real-fissa-1plane"), viewer=make_napari_viewer(), reference_key="meanImg", recover=False
    )
    assert "red_s2p" not in widget.cards and widget.manager.num_rois == 23
    widget.unbind()


def test_build_window_on_a_single_channel_folder_falls_back_like_the_command(make_napari_viewer, real_copy):
    """``build_window(folder)`` opens a single-channel folder as ``cellector-gui FOLDER`` does: fallback + banner."""
    from cellector_gui import build_window

    _viewer, widget = build_window(real_copy("real-fissa-1plane"), viewer=make_napari_viewer(), recover=False)
    assert widget.manager.roi_processor.session.reference_key == "meanImg"
    assert widget.banner.isVisibleTo(widget)
    assert "no 'meanImg_chan2' image (a single-channel recording?): showing 'meanImg' instead" in widget.banner.text()
    assert "dot_product" in widget.cards and "red_s2p" not in widget.cards
    widget.unbind()


def test_build_window_on_a_malformed_reference_raises_one_line(make_napari_viewer, real_copy):
    from cellector.io.suite2p import Suite2pError
    from cellector_gui import build_window

    root = real_copy("suite2p-0.14-1plane")
    ops = np.load(root / "plane0" / "ops.npy", allow_pickle=True).item()
    ops["meanImg_chan2"] = ops["meanImg_chan2"].ravel()
    np.save(root / "plane0" / "ops.npy", np.array(ops, dtype=object), allow_pickle=True)
    with pytest.raises(Suite2pError, match=r"^plane0/ops.npy: 'meanImg_chan2' is 1-D \(shape \(\d+,\)\)"):
        build_window(root, viewer=make_napari_viewer(), recover=False)


def test_worker_loading_keeps_window_responsive(make_napari_viewer, synthetic, qtbot):
    from cellector_gui import build_window

    viewer, widget = build_window(synthetic.root, viewer=make_napari_viewer(), block=False, recover=False)
    assert widget.manager is None and not widget.progress.isHidden()
    # while the features load, the canvas already shows the red reference (not napari's welcome screen)
    shown = [layer for layer in viewer.layers if layer.name == "reference"]
    assert len(shown) == 1 and shown[0].colormap.name == "red"
    qtbot.waitUntil(lambda: widget.manager is not None, timeout=60000)
    assert widget.progress.isHidden() and widget.cards
    # the same layer was adopted, not a second one added
    assert [layer for layer in viewer.layers if layer.name == "reference"] == shown
    assert widget.layers.evidence[0] is shown[0]
    widget.unbind()


def test_the_users_own_reference_layer_is_neither_taken_nor_removed(make_napari_viewer, synthetic, qtbot):
    """Layers are ours by metadata, never by name: a user's "reference" and "functional" stay theirs."""
    from cellector_gui import build_window

    viewer = make_napari_viewer()
    mine = viewer.add_image(np.zeros((8, 8)), name="reference")
    other = viewer.add_image(np.ones((8, 8)), name="functional")
    viewer, widget = build_window(synthetic.root, viewer=viewer, recover=False)
    ours = widget.layers.evidence[0]
    assert (
        ours is not mine
        and ours.colormap.name == "red"
        and ours.data.shape == widget.manager.roi_processor.reference.shape
    )
    press(widget, "r")  # toggles our reference, not the user's namesake
    assert not ours.visible and mine.visible
    added = list(widget.layers.added)
    widget.manager.mark_saved()
    widget.detach()
    assert mine in viewer.layers and other in viewer.layers and mine.name == "reference"
    assert not any(layer in viewer.layers for layer in added)


def test_gui_command_bad_folder(tmp_path, capsys):
    from cellector_gui._main import main

    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cellector-gui: error:") and "Traceback" not in err and err.count("\n") == 1


def test_gui_command_demo_opens_the_window(tmp_path, monkeypatch, qtbot, make_napari_viewer):
    """``cellector-gui --demo``, the README's headline command, through its real main()."""
    import tempfile

    import napari

    from cellector_gui._dock.widget import CellectorWidget
    from cellector_gui._main import main

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # napari's test factory makes the viewer (it isolates plugin registration between tests)
    monkeypatch.setattr(napari, "Viewer", make_napari_viewer)
    seen = {}

    def run():  # stands in for napari's event loop: wait for the worker, look, close
        viewer = napari.current_viewer()
        widget = viewer.window.dock_widgets["cellector"]
        assert isinstance(widget, CellectorWidget)
        qtbot.waitUntil(lambda: widget.manager is not None, timeout=60000)
        seen["title"] = viewer.title
        seen["n"] = widget.manager.num_rois
        seen["cards"] = list(widget.cards)
        seen["layers"] = [layer.name for layer in viewer.layers]
        widget.unbind()

    monkeypatch.setattr(napari, "run", run)
    assert main(["--demo"]) == 0
    assert seen["n"] == 600 and "dot_product" in seen["cards"] and "reference" in seen["layers"]
    assert seen["title"].startswith(f"cellector — {tmp_path}")


def test_gui_command_without_a_display(tmp_path):
    import os
    import subprocess

    from ..conftest import console_script

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run(
        [console_script("cellector-gui"), "--demo"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "no display" in r.stderr and "cellector demo OUT" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_single_channel_folder_opens_and_explains(make_napari_viewer, real_copy, monkeypatch, qtbot):
    """``cellector-gui FOLDER`` on a single-channel recording: the window opens, says why, offers the keys."""
    import napari

    from cellector_gui._main import main

    root = real_copy("real-fissa-1plane")
    monkeypatch.setattr(napari, "Viewer", make_napari_viewer)
    seen = {}

    def run():
        viewer = napari.current_viewer()
        widget = viewer.window.dock_widgets["cellector"]
        qtbot.waitUntil(lambda: widget.manager is not None, timeout=60000)
        seen["banner"] = widget.banner.text() if widget.banner.isVisibleTo(widget) else ""
        seen["keys"] = list(widget.reference_row.combo.choices)
        seen["key"] = widget.reference_row.combo.value
        # one click on another key reopens the folder with it
        widget.reference_row.combo.value = "meanImgE"
        qtbot.waitUntil(lambda: widget.manager is not None and bool(widget.cards), timeout=60000)
        seen["reopened"] = widget.manager.roi_processor.session.reference_key
        seen["cards"] = list(widget.cards)
        seen["layers"] = [la.name for la in viewer.layers]
        widget.unbind()

    monkeypatch.setattr(napari, "run", run)
    assert main([str(root)]) == 0
    assert "no 'meanImg_chan2' image (a single-channel recording?): showing 'meanImg' instead" in seen["banner"]
    assert seen["key"] == "meanImg" and "meanImgE" in seen["keys"]
    assert seen["reopened"] == "meanImgE" and "red_s2p" not in seen["cards"] and "dot_product" in seen["cards"]
    assert seen["layers"].count("reference") == 1 and seen["layers"].count("ROIs") == 1


def test_a_folder_with_zero_rois_says_so(make_napari_viewer, synthetic, mouse_event):
    from cellector_gui import build_window

    for plane in ("plane0", "plane1"):
        folder = synthetic.root / plane
        np.save(folder / "stat.npy", np.array([], dtype=object), allow_pickle=True)
        np.save(folder / "iscell.npy", np.zeros((0, 2)))
        np.save(folder / "redcell.npy", np.zeros((0, 2)))
    viewer, widget = build_window(synthetic.root, viewer=make_napari_viewer(), recover=False)
    assert widget.manager.num_rois == 0 and "this folder has no ROIs" in widget.summary.text()
    assert widget.manager.review_queue().size == 0
    click(viewer, mouse_event, (0, 10, 10))  # clicking the background of an empty session does nothing
    widget.roi_actions.guided_next()
    assert widget.status.text() == "this folder has no ROIs"
    widget.unbind()


def test_the_window_imports_scikit_learn_in_the_background(monkeypatch):
    """The first fit needs scikit-learn (about 1 s to import): a window starts that import off the GUI thread."""
    import sys
    import types

    from cellector_gui._widgets import guidance_view as _guidance_view

    started = []
    monkeypatch.delitem(sys.modules, _guidance_view.SLOW_IMPORT, raising=False)
    monkeypatch.setattr(
        _guidance_view.threading, "Thread", lambda **kw: types.SimpleNamespace(start=lambda: started.append(kw))
    )
    _guidance_view.warm_up()
    assert len(started) == 1 and started[0]["args"] == ("sklearn.mixture",) and started[0]["daemon"]
    monkeypatch.setitem(sys.modules, _guidance_view.SLOW_IMPORT, types.ModuleType("sklearn.mixture"))
    _guidance_view.warm_up()  # already imported: nothing more to start
    assert len(started) == 1
