"""A study in one window: the sessions panel, switching sessions, carried cutoffs, background features."""

import shutil

import numpy as np
import pytest
from qtpy.QtCore import Qt

from cellector.manager import CellectorManager

from ..conftest import DATA
from .conftest import press, real_keys

# three genuine sessions of different sizes: 61 ROIs on one plane, 61 on two, 23 (single channel)
SESSIONS = {
    "mouse1/day1": "suite2p-0.14-1plane",
    "mouse1/day2": "suite2p-1.1-2planes",
    "mouse2/day1": "real-fissa-1plane",
}


@pytest.fixture
def study_root(tmp_path):
    """A study folder holding the three genuine sessions at depth two, nothing computed yet."""
    root = tmp_path / "study"
    for where, name in SESSIONS.items():
        shutil.copytree(DATA / name, root / where)
    return root


def _saved(root, where, cutoff=None, labels=False):
    """Curate one session from a script: a dot_product cutoff (if any), two labels of each kind (if asked), save."""
    m = CellectorManager.from_folder(root / where / "suite2p", reference_key="meanImg_chan2")
    if cutoff is not None:
        m.update_criteria("dot_product", (cutoff, None))
    if labels:
        m.update_manual_labels([0, 1], True)
        m.update_manual_labels([2, 3], False)
    m.save_all()
    return m


def _open(root, make_napari_viewer, **kwargs):
    from cellector_gui import build_window

    viewer = make_napari_viewer()
    return build_window(root, viewer=viewer, recover=False, **kwargs)


@pytest.fixture
def closing():
    """Windows to close at the end of a test without the unsaved-changes question."""
    widgets = []
    yield widgets.append
    for w in widgets:
        if w.manager is not None:
            w.manager.mark_saved()
        w.study.close()
        w.unbind()


def _cells(panel):
    t = panel.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_the_panel_lists_every_session_and_opens_the_first_not_saved(study_root, make_napari_viewer, closing, qtbot):
    day1 = _saved(study_root, "mouse1/day1", cutoff=100.0, labels=True)
    CellectorManager.from_folder(study_root / "mouse1/day2/suite2p")  # features computed, nothing else
    _viewer, widget = _open(study_root, make_napari_viewer)
    closing(widget)
    assert [s.relative_to(study_root).as_posix() for s in widget.sessions] == [
        "mouse1/day1/suite2p",
        "mouse1/day2/suite2p",
        "mouse2/day1/suite2p",
    ]
    panel = widget.study.panel
    selected = int(day1.compute_idx_selected().sum())
    rows = _cells(panel)
    assert rows[0] == ["mouse1/day1", "61", str(selected), "saved"]
    assert rows[1][:3] == ["mouse1/day2", "61", ""]
    assert rows[2][:2] == ["mouse2/day1", "23"]
    assert widget.study.current == 1 and widget.manager.root_dir == study_root / "mouse1/day2/suite2p"
    assert panel.table.item(1, 0).font().bold() and not panel.table.item(0, 0).font().bold()
    assert "2 planes, 61 ROIs" in panel.detail.text()
    assert "cutoffs set here" in panel.table.item(0, 0).toolTip()  # where day1's cutoffs came from
    e = day1.estimate_selection()  # and how good they looked when saved
    assert (
        f"estimated F1 {e.estimated_f1:.2f} ± {e.f1_margin:.2f} (4 labels) when saved"
        in panel.table.item(0, 0).toolTip()
    )
    assert "estimated" not in panel.table.item(2, 0).toolTip()
    assert "3 sessions · 1 saved" in panel.title.text()
    widget.manager.update_criteria("dot_product", (50.0, None))
    widget.save()  # the header counts what the rows say, at once
    assert rows_state(panel, 1) == "saved" and "3 sessions · 2 saved" in panel.title.text()


def rows_state(panel, i):
    return panel.table.item(i, 3).text()


def test_switching_by_key_button_and_click_reuses_the_viewer(study_root, make_napari_viewer, closing, qtbot):
    viewer, widget = _open(study_root, make_napari_viewer)
    closing(widget)
    assert widget.study.current == 0
    roles = ("reference", "functional", "lam", "rois")
    layers = {role: widget.layers.by_role(role) for role in roles}
    press(widget, "Shift-N")
    assert widget.study.current == 1 and widget.manager.num_rois == 61
    assert all(widget.layers.by_role(role) is layers[role] for role in roles)  # the same layers, new data
    reference = widget.manager.roi_processor.reference
    np.testing.assert_array_equal(layers["reference"].data, reference)
    # the folder's other image keys: day2 (suite2p 1.1) has no meanImg_chan2_corrected, so its layer went
    assert "meanImg_chan2_corrected" not in [layer.name for layer in viewer.layers]
    assert widget.overlay.label.shape[0] == 2 and viewer.dims.nsteps[0] == 2  # two planes now
    assert viewer.dims.axis_labels[0] == "plane"
    assert sorted(widget.cards) == sorted(widget.manager.features)
    panel = widget.study.panel
    qtbot.mouseClick(panel.previous_button, Qt.MouseButton.LeftButton)
    assert widget.study.current == 0
    rect = panel.table.visualItemRect(panel.table.item(2, 0))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert widget.study.current == 2 and widget.manager.num_rois == 23
    assert "single-channel" in widget.banner.text()  # the fissa session opens on its functional image
    assert not widget.study.next_session() and "last session" in widget.status.text()
    press(widget, "Shift-B")
    assert widget.study.current == 1


def test_next_session_typed_by_a_user(study_root, make_napari_viewer, closing, qtbot):
    _viewer, widget = _open(study_root, make_napari_viewer)
    closing(widget)
    real_keys(widget, qtbot, "shift+n")
    qtbot.waitUntil(lambda: widget.study.current == 1, timeout=10_000)


def test_leaving_unsaved_changes_asks_save_discard_or_cancel(study_root, make_napari_viewer, closing, dialogs):
    from qtpy.QtWidgets import QMessageBox

    _viewer, widget = _open(study_root, make_napari_viewer)
    closing(widget)
    first = widget.manager
    first.update_criteria("dot_product", (50.0, None))
    dialogs.expect("exec", QMessageBox.StandardButton.Cancel, "Save changes before opening mouse1/day2/suite2p")
    assert not widget.next_session()
    assert widget.study.current == 0 and widget.manager is first and first.dirty  # Cancel stays
    assert widget.study.panel.table.item(0, 3).text() == "changed"
    dialogs.expect("exec", QMessageBox.StandardButton.Discard, "Save changes before opening")
    assert widget.next_session() and widget.study.current == 1
    assert not (study_root / "mouse1/day1/suite2p/cellector/idx_selected.npy").exists()  # discarded
    widget.manager.update_criteria("dot_product", (60.0, None))
    dialogs.expect("exec", QMessageBox.StandardButton.Save, "Save changes before opening mouse2/day1/suite2p")
    assert widget.open_session(2) and widget.study.current == 2
    saved = np.load(study_root / "mouse1/day2/suite2p/cellector/idx_selected.npy")
    day2 = CellectorManager.from_folder(study_root / "mouse1/day2/suite2p")
    assert day2.criteria["dot_product"] == (60.0, None) and saved.sum() == day2.compute_idx_selected().sum()
    assert widget.study.panel.table.item(1, 3).text() == "saved"


def test_an_earlier_sessions_cutoffs_are_offered_and_applied_with_one_click(
    study_root, make_napari_viewer, closing, qtbot
):
    _saved(study_root, "mouse1/day1", cutoff=100.0)
    _viewer, widget = _open(study_root, make_napari_viewer)
    closing(widget)
    assert widget.study.current == 1  # day1 is saved: day2 opens
    m = widget.manager
    assert not m.has_cutoffs
    card = widget.cards["dot_product"]
    assert card.ghost_min.get_visible() and card.ghost_min.get_xdata()[0] == pytest.approx(
        min(max(100.0, card.lo), card.hi)
    )
    assert "cutoffs of mouse1/day1 (p applies them here)" in widget.controls.suggestion_label.value
    label = widget.controls.suggestion_label.native
    assert label.heightForWidth(label.width()) <= label.height()  # the offer is never cut
    qtbot.mouseClick(widget.controls.apply_button.native, Qt.MouseButton.LeftButton)
    assert m.criteria["dot_product"] == (100.0, None) and m.criteria_origin == "from mouse1/day1/suite2p"
    assert not card.ghost_min.get_visible() or "cutoffs of" not in widget.controls.suggestion_label.value
    press(widget, "Control-Z")
    assert not m.has_cutoffs  # one undo step
    press(widget, "p")  # the key does the same
    assert m.criteria["dot_product"] == (100.0, None)
    fits = []
    m.guidance.suggestion = lambda: fits.append(1)  # a drag must not fit the labels at every step
    for cut in (101.0, 102.0, 103.0):
        m.update_criteria("dot_product", (cut, None), coalesce=True)
    assert fits == [] and m.criteria_origin == "from mouse1/day1/suite2p, adjusted"
    del m.guidance.suggestion
    widget.save()
    assert "cutoffs from mouse1/day1/suite2p" in widget.study.panel.table.item(1, 0).toolTip()


def test_a_broken_session_says_why_and_the_others_keep_working(study_root, make_napari_viewer, closing):
    (study_root / "mouse1/day2/suite2p/plane1/stat.npy").write_bytes(b"not a numpy file")
    _viewer, widget = _open(study_root, make_napari_viewer)
    closing(widget)
    panel = widget.study.panel
    assert panel.table.item(1, 3).text() == "broken"
    assert "cannot be opened" in panel.table.item(1, 0).toolTip() and "stat.npy" in panel.table.item(1, 0).toolTip()
    assert widget.study.current == 0
    assert widget.next_session() and widget.study.current == 2  # the broken one is skipped
    assert not widget.open_session(1) and widget.study.current == 2
    assert "cannot be opened" in widget.status.text()


def test_a_session_holding_another_sessions_state_is_never_opened(study_root, make_napari_viewer, closing):
    from ..conftest import tree_hashes

    _saved(study_root, "mouse1/day1", cutoff=100.0, labels=True)  # 61 ROIs on one plane
    day2 = study_root / "mouse1/day2/suite2p"  # 61 ROIs on two planes
    shutil.copytree(study_root / "mouse1/day1/suite2p/cellector", day2 / "cellector")
    before = tree_hashes(day2)
    _viewer, widget = _open(study_root, make_napari_viewer)
    closing(widget)
    panel = widget.study.panel
    assert rows_state(panel, 1) == "foreign"
    tip = panel.table.item(1, 0).toolTip()
    assert "not this folder's (saved for plane0, this folder has plane0, plane1)" in tip
    assert widget.study.current == 2  # the first session to curate: day1 is saved, day2 cannot be opened
    assert widget.previous_session() and widget.study.current == 0  # day2 skipped, as a broken one is
    assert not widget.open_session(1) and "cannot be opened" in widget.status.text()
    assert tree_hashes(day2) == before


def test_gui_command_refuses_another_folders_state(tmp_path, capsys):
    from cellector_gui._main import main

    from ..conftest import tree_hashes

    src, dst = tmp_path / "a", tmp_path / "b"
    shutil.copytree(DATA / "suite2p-0.14-1plane", src)
    shutil.copytree(DATA / "suite2p-1.1-2planes", dst)
    _saved(tmp_path, "a", cutoff=100.0)
    shutil.copytree(src / "suite2p/cellector", dst / "suite2p/cellector")
    before = tree_hashes(dst)
    assert main([str(dst / "suite2p")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cellector-gui: error:") and err.count("\n") == 1 and "not this folder's" in err
    assert tree_hashes(dst) == before


def test_the_next_sessions_features_are_computed_in_the_background(study_root, make_napari_viewer, closing, qtbot):
    _viewer, widget = _open(study_root, make_napari_viewer)
    closing(widget)
    worker = widget.study.worker
    assert worker is not None
    qtbot.waitUntil(lambda: not worker.is_running, timeout=60_000)
    expected = ["features computed"] * 3
    qtbot.waitUntil(lambda: [row["state"] for row in widget.study.study.rows] == expected, timeout=5_000)
    for where in ("mouse1/day2", "mouse2/day1"):
        assert (study_root / where / "suite2p/cellector/dot_product_feature.npy").is_file()
    assert [rows_state(widget.study.panel, i) for i in (1, 2)] == ["features", "features"]


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_panel_never_hides_the_canvas_or_the_cards(study_root, make_napari_viewer, closing, qtbot, size):
    from cellector_gui._viewer.qt_access import canvas_widget, fit_to_screen, main_window

    _viewer, widget = _open(study_root, make_napari_viewer)
    closing(widget)
    fit_to_screen(widget, size)
    top = main_window(widget)
    top.show()
    qtbot.waitExposed(top)
    qtbot.wait(200)

    def box(w):
        return w.mapTo(top, w.rect().topLeft()).x(), w.mapTo(top, w.rect().topRight()).x()

    panel, canvas = widget.study.panel, canvas_widget(widget)
    _p0, p1 = box(panel)
    c0, c1 = box(canvas)
    d0, _ = box(widget)
    assert p1 < c0 and c1 < d0  # panel | canvas | dock, side by side
    assert c1 - c0 >= 0.4 * size[0]  # the canvas keeps the largest share
    assert widget.cards_scroll.isVisible() and widget.cards_scroll.viewport().height() > 150


def test_closing_the_window_stops_the_background_work(study_root, make_napari_viewer, qtbot):
    import threading

    from cellector.io.datasets import make_suite2p_folder

    for k in range(3):  # sessions large enough that their features take a while
        make_suite2p_folder(study_root / f"big{k}", n_planes=1, n_rois=3000, shape=(512, 512), seed=k)
    before = threading.active_count()
    viewer, widget = _open(study_root, make_napari_viewer)
    worker = widget.study.worker
    qtbot.waitUntil(lambda: worker.is_running, timeout=10_000)
    widget.manager.mark_saved()
    viewer.close()  # as the user closes the window
    qtbot.waitUntil(lambda: not worker.is_running, timeout=30_000)
    features = lambda: [t for t in threading.enumerate() if t.name.startswith("cellector-features")]  # noqa: E731
    qtbot.waitUntil(lambda: not features(), timeout=10_000)  # the features' threads end too
    assert threading.active_count() <= before + 1  # at most napari's idle worker thread
    assert not (study_root / "big2/suite2p/cellector/dot_product_feature.npy").exists()  # it stopped early


def test_napari_opens_a_study_folder_with_its_sessions_panel(study_root, make_napari_viewer, qtbot):
    """``napari study --plugin cellector``: the first session not saved, the sessions panel, switching."""
    from .test_plugin import _dock

    _saved(study_root, "mouse1/day1", cutoff=100.0)
    viewer = make_napari_viewer()
    layers = viewer.open(str(study_root), plugin="cellector")
    assert layers[0].name == "reference"
    dock = _dock(viewer, qtbot).inner
    assert len(dock.sessions) == 3 and dock.study.current == 1  # day1 is saved: day2 opened
    assert dock.manager.root_dir == study_root / "mouse1/day2/suite2p"
    qtbot.waitUntil(lambda: dock.next_session() or dock.study.current == 2, timeout=30_000)
    qtbot.waitUntil(lambda: dock.manager is not None and dock.manager.num_rois == 23, timeout=30_000)
    assert [layer.name for layer in viewer.layers].count("reference") == 1  # one reference layer, reused
    dock.manager.mark_saved()
    dock.study.close()
    dock.unbind()


def test_leaving_a_three_plane_session_for_a_one_plane_one_leaves_no_stale_view(tmp_path, make_napari_viewer, closing):
    """Every layer, hidden ones too, takes the new frame: the plane slider and the view follow (a trial's trap)."""
    from cellector.io.datasets import make_suite2p_folder

    root = tmp_path / "study"
    make_suite2p_folder(root / "a", n_planes=3, n_rois=30, shape=(128, 128), seed=1)
    make_suite2p_folder(root / "b", n_planes=1, n_rois=30, shape=(96, 160), seed=2)
    viewer, widget = _open(root, make_napari_viewer)
    closing(widget)
    assert viewer.dims.nsteps == (3, 128, 128)
    assert widget.open_session(1)
    assert viewer.dims.nsteps == (1, 96, 160)  # the slider runs 0-0, not 0-2
    for layer in viewer.layers:  # hidden layers (functional, meanImgE, lam) included
        np.testing.assert_array_equal(layer.extent.world[1], [0, 95, 159])
    y, x = viewer.camera.center[-2:]
    assert 0 <= y <= 95 and 0 <= x <= 159  # the view is on the new frame
    assert widget.open_session(0) and viewer.dims.nsteps == (3, 128, 128)  # and back
