"""The curation window driven through its real widgets under Xvfb."""

import re

import numpy as np
import pytest
from napari.utils.interactions import mouse_move_callbacks, mouse_press_callbacks, mouse_release_callbacks
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QApplication, QMessageBox, QWidget

from cellector_gui._viewer.overlay import COLORS, FILL_ALPHA
from cellector_gui._viewer.qt_access import camera

from .conftest import EventProxy, first_visible_roi, pixel_of, press, real_keys


def _rgba_at(widget, idx):
    z, y, x = pixel_of(widget, idx)
    widget.overlay.render(z)
    return tuple(int(c) for c in widget.roi_layer.data[z, y, x])


def _click(viewer, mouse_event, zyx, moved=False):
    """Press (, move) and release through napari's public callback dispatchers.

    napari's canvas hands callbacks a proxy whose ``__wrapped__`` event is swapped for
    each later move/release event, so a drag generator sees ``event.type`` change.
    """
    pos = tuple(float(c) for c in zyx)
    mouse_press_callbacks(viewer, EventProxy(mouse_event(type="mouse_press", position=pos, button=1)))
    if moved:
        move = mouse_event(type="mouse_move", position=(pos[0], pos[1] + 5, pos[2] + 5), button=1, is_dragging=True)
        mouse_move_callbacks(viewer, move)
    mouse_release_callbacks(viewer, mouse_event(type="mouse_release", position=pos, button=1))


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
    assert _rgba_at(widget, idx) == COLORS["undecided"]
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


def test_slider_sets_criterion_and_recolours(window, qtbot):
    viewer, widget = window
    m = widget.manager
    card = widget.cards["corr_coef"]
    values = m.features["corr_coef"]
    cut = float(np.nanmedian(values))
    card.slider.setValue((cut, card.hi))  # the real superqt widget, as a drag does
    assert m.criteria["corr_coef"] == (pytest.approx(cut), None)
    sel = m.compute_idx_selected()
    assert sel.sum() == np.sum(values >= m.criteria["corr_coef"][0])
    rejected = int(np.flatnonzero(~sel & np.isin(np.arange(m.num_rois), np.unique(widget.overlay.label) - 1))[0])
    assert _rgba_at(widget, rejected) == COLORS["rejected"]
    kept = int(np.flatnonzero(sel & np.isin(np.arange(m.num_rois), np.unique(widget.overlay.label) - 1))[0])
    assert _rgba_at(widget, kept) == COLORS["selected"]
    # the histogram highlight follows: selected counts equal the selection
    assert card.sel_stairs.get_data().values.sum() == sel.sum()
    assert "*" in viewer.title  # dirty marker


def test_console_criterion_moves_slider(window):
    _viewer, widget = window
    card = widget.cards["phase_corr"]
    hi = (card.lo + card.hi) / 2
    widget.manager.update_criteria("phase_corr", [None, hi])
    assert card.slider.value()[1] == pytest.approx(hi, abs=1e-6)
    assert card.use_max.value and not card.use_min.value
    # a criterion outside the data range is shown clamped but kept
    widget.manager.update_criteria("phase_corr", [None, card.hi * 10])
    assert card.slider.value()[1] == pytest.approx(card.hi)
    assert widget.manager.criteria["phase_corr"] == (None, card.hi * 10)


def test_click_flips_and_drag_does_not(window, mouse_event):
    viewer, widget = window
    m = widget.manager
    idx = first_visible_roi(widget)
    zyx = pixel_of(widget, idx)
    _click(viewer, mouse_event, zyx, moved=True)
    assert not m.manual_selection[1, idx]
    _click(viewer, mouse_event, zyx)
    assert m.manual_selection[:, idx].tolist() == [False, True]  # was selected, now forced off
    assert _rgba_at(widget, idx)[:3] == COLORS["focus"][:3]  # focused after the click
    m.set_focus(-1)
    assert _rgba_at(widget, idx) == COLORS["forced_off"]
    assert "manually rejected" in widget.status.text()
    # background and outside the image: nothing happens, nothing raises
    bg = np.argwhere(widget.overlay.label[0] == 0)[0]
    _click(viewer, mouse_event, (0, *bg))
    _click(viewer, mouse_event, (0, -50, 900))
    assert m.manual_selection[1].sum() == 1


def _hover(viewer, position):
    """Put napari's cursor over ``position`` and let napari compute its status line, as on a mouse move."""
    viewer.mouse_over_canvas = True
    viewer.cursor.position = position
    viewer.update_status_from_cursor()
    status = viewer.status
    return status["coordinates"] if isinstance(status, dict) else status


def test_hover_shows_values(window, mouse_event):
    viewer, widget = window
    assert viewer.layers.selection.active.name == "ROIs"  # the layer napari's status line describes
    widget.resize(440, 900)
    qapp = QApplication.instance()
    widget.layout().activate()  # lay the (hidden) dock out now, as showing it would
    before = [
        w.geometry() for w in (widget.summary, widget.status, widget.controls.save_button.native, widget.cards_box)
    ]
    label = widget.overlay.label[0]
    for idx in np.unique(label[label > 0])[:8] - 1:  # hover several ROIs with long descriptions
        text = _hover(viewer, tuple(float(c) for c in pixel_of(widget, int(idx))))
        z, y, x = pixel_of(widget, int(idx))
        coords, _, described = text.partition("]: ")  # napari writes "[0, 76, 82]" (0.6.2: " [0 76 82]")
        assert [int(c) for c in re.findall(r"\d+", coords)] == [z, y, x], text
        assert described.startswith(f"ROI {idx} (plane0 #") and "corr_coef=" in described, text
        assert "[0, 0, 0" not in text and "255" not in text  # never the overlay's RGBA
        qapp.processEvents()
        widget.layout().activate()
        assert [
            w.geometry() for w in (widget.summary, widget.status, widget.controls.save_button.native, widget.cards_box)
        ] == before
    widget.show_message("a very long message " * 20)  # messages never wrap either
    qapp.processEvents()
    widget.layout().activate()
    assert [
        w.geometry() for w in (widget.summary, widget.status, widget.controls.save_button.native, widget.cards_box)
    ] == before


def _outside(widget, top):
    """The dock's visible widgets that reach outside the window (or, in the cards' scroll area, sideways out of it)."""
    from qtpy.QtCore import QPoint, QRect

    viewport = widget.cards_scroll.viewport()
    port = QRect(viewport.mapTo(top, QPoint(0, 0)), viewport.size())
    bad = []
    for w in widget.findChildren(QWidget):
        if not w.isVisible() or w.width() == 0:
            continue
        r = QRect(w.mapTo(top, QPoint(0, 0)), w.size())
        inside_scroll = viewport.isAncestorOf(w)
        fits = port.left() <= r.left() and r.right() <= port.right() if inside_scroll else top.rect().contains(r)
        if not fits:
            bad.append(f"{type(w).__name__} {w.objectName()!r} at {r.getRect()}")
    return bad


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_dock_keeps_its_width_and_nothing_leaves_the_window(window, synthetic, qtbot, mouse_event, size):
    """Focus ROIs by click and by review, show the help, colour by a feature: the dock never changes width."""
    from cellector_gui._dock.widget import DOCK_WIDTH
    from cellector_gui._viewer.qt_access import fit_to_screen, main_window

    viewer, widget = window
    top = main_window(widget)
    fit_to_screen(widget, size)
    top.show()
    qtbot.waitExposed(top)

    def check(step):
        for _ in range(3):
            QApplication.processEvents()
        assert (top.width(), top.height()) == size, step  # the window never grows past the screen
        assert widget.width() == DOCK_WIDTH, step
        assert not widget.cards_scroll.horizontalScrollBar().isVisible(), step
        assert _outside(widget, top) == [], step
        for name, card in widget.cards.items():  # every number box shows its whole value
            for box in (card.min_box.native, card.max_box.native):
                edit = box.lineEdit()
                assert edit.fontMetrics().horizontalAdvance(edit.text()) <= edit.width() - 4, (step, name, edit.text())
        label = widget.controls.suggestion_label.native  # the suggestion is never cut
        assert label.heightForWidth(label.width()) <= label.height(), step

    check("opened")
    idx = first_visible_roi(widget)
    _click(viewer, mouse_event, pixel_of(widget, idx))
    check("clicked an ROI")
    for key in ("n", "n", "g", "g"):
        press(widget, key)
        check(f"pressed {key}")
    truth = np.concatenate(synthetic.truth_red)
    for i in range(10):
        widget.manager.update_manual_labels(i, bool(truth[i]))
    qtbot.waitUntil(lambda: widget.controls.apply_button.enabled, timeout=5000)
    check("a suggestion shown")
    press(widget, "h")
    assert widget.help_label.isVisible()
    check("help shown")
    widget.controls.color_combo.value = "functional_dot_product"  # the longest feature name
    assert widget.colorbar.isVisible() and widget.colorbar.low.text().startswith("functional_dot_product ")
    check("coloured by a feature")
    widget.manager.mark_saved()


def _wheel(target, delta=-120):
    """A mouse-wheel step over ``target`` (negative: towards the user, i.e. scroll down), as Qt delivers it."""
    from qtpy.QtCore import QPoint, QPointF
    from qtpy.QtGui import QWheelEvent

    centre = QPointF(target.width() / 2, target.height() / 2)
    event = QWheelEvent(
        centre,
        QPointF(target.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(target, event)


def test_the_wheel_over_a_card_scrolls_the_dock_and_never_moves_a_cutoff(window, qtbot):
    from cellector_gui._viewer.qt_access import fit_to_screen, main_window

    _viewer, widget = window
    top = main_window(widget)
    fit_to_screen(widget, (1366, 768))
    top.show()
    qtbot.waitExposed(top)
    bar = widget.cards_scroll.verticalScrollBar()
    assert bar.maximum() > 0  # more cards than fit
    card = widget.cards["dot_product"]
    criteria = widget.manager.criteria
    for target in (card.canvas, card.slider, card.min_box.native, card.max_box.native):
        before = bar.value()
        _wheel(target)
        assert bar.value() > before, type(target).__name__  # the dock scrolled
        bar.setValue(0)
    assert widget.manager.criteria == criteria and card.slider.value() == (card.lo, card.hi)


def test_before_any_cutoff_histograms_are_gray_like_the_canvas(window):
    _viewer, widget = window
    m = widget.manager
    assert not m.has_cutoffs
    card = widget.cards["corr_coef"]
    assert card.sel_stairs.get_data().values.sum() == 0  # nothing highlighted: every ROI is undecided
    m.update_manual_labels(4, True)  # a red label by hand is highlighted, as on the canvas
    assert card.sel_stairs.get_data().values.sum() == 1
    m.update_criteria("corr_coef", [0.0, None])
    n = int(np.sum(m.compute_idx_selected() & np.isfinite(m.features["corr_coef"])))
    assert card.sel_stairs.get_data().values.sum() == n
    m.mark_saved()


def test_focus_crops_use_the_canvas_contrast(window, qtbot):
    viewer, widget = window
    m = widget.manager
    m.set_focus(3)
    qtbot.waitUntil(lambda: widget.focus_panel.shown == 3, timeout=5000)  # drawn after the canvas
    reference = viewer.layers["reference"]
    image = widget.focus_panel.axes[0].images[0]
    assert image.get_clim() == pytest.approx(tuple(reference.contrast_limits))
    reference.contrast_limits = (reference.contrast_limits[0], reference.contrast_limits[1] * 2)
    image = widget.focus_panel.axes[0].images[0]
    assert image.get_clim() == pytest.approx(tuple(reference.contrast_limits))  # follows the user's contrast


def test_keys_review_flip_undo(window):
    viewer, widget = window
    m = widget.manager
    press(widget, "n")
    assert m.focus == 0
    press(widget, "n")
    assert m.focus == 1
    press(widget, "b")
    assert m.focus == 0
    press(widget, "f")
    assert m.manual_selection[:, 0].tolist() == [False, True]
    press(widget, "Control-Z")
    assert not m.manual_selection[1, 0]
    press(widget, "Control-Shift-Z")
    assert m.manual_selection[1, 0]
    press(widget, "u")
    assert not m.manual_selection[1, 0]
    visible = viewer.layers["reference"].visible
    press(widget, "r")
    assert viewer.layers["reference"].visible != visible
    assert widget.overlay.outline_mode  # outlines by default
    press(widget, "k")
    assert not widget.overlay.outline_mode
    press(widget, "s")
    assert widget.show_mode == "selected"


def test_review_moves_to_plane_and_centres(window):
    viewer, widget = window
    m = widget.manager
    second_plane = int(np.flatnonzero(m.roi_processor.session.roi_plane == 1)[0])
    m.set_focus(second_plane - 1)
    widget.roi_actions.step_review(+1)
    assert m.focus == second_plane
    assert viewer.dims.current_step[0] == 1
    _z, y, x = widget.roi_actions.centroids[second_plane]
    assert tuple(camera(viewer).center[-2:]) == pytest.approx((y, x))


def test_near_cutoff_review(window):
    _viewer, widget = window
    m = widget.manager
    v = m.features["corr_coef"]
    cut = float(np.nanmedian(v))
    m.update_criteria("corr_coef", [cut, None])
    widget.controls.near_box.value = True
    cands = widget.roi_actions.review_candidates()
    span = np.nanmax(v) - np.nanmin(v)
    assert cands.size > 0 and np.all(np.abs(v[cands] - cut) <= 0.05 * span)


def test_buttons_undo_clear_all_and_save_restore(window, qtbot, dialogs, make_napari_viewer, synthetic):
    viewer, widget = window
    m = widget.manager
    card = widget.cards["in_vs_out"]
    cut = round((card.lo + card.hi) / 2, 3)
    card.slider.setValue((cut, card.hi))
    m.flip(3)
    m.flip(5)
    qtbot.mouseClick(widget.controls.undo_button.native, Qt.MouseButton.LeftButton)
    assert not m.manual_selection[1, 5]
    dialogs.expect("question", QMessageBox.StandardButton.No, "Remove the manual override?")  # one: singular
    qtbot.mouseClick(widget.controls.clear_all_button.native, Qt.MouseButton.LeftButton)
    assert m.manual_selection[1, 3]
    m.flip(5)
    qtbot.mouseClick(widget.controls.save_button.native, Qt.MouseButton.LeftButton)
    assert not m.dirty and not viewer.title.endswith("*")
    folder = synthetic.root / "cellector"
    np.testing.assert_array_equal(np.load(folder / "idx_selected.npy"), m.compute_idx_selected())
    np.testing.assert_array_equal(np.load(folder / "manual_selection.npy"), m.manual_selection)
    dialogs.expect("question", QMessageBox.StandardButton.Yes, "Remove all 2 manual overrides?")
    qtbot.mouseClick(widget.controls.clear_all_button.native, Qt.MouseButton.LeftButton)
    assert m.manual_selection[1].sum() == 0
    # reopen: criteria, overrides and slider positions come back exactly as saved
    from cellector_gui import build_window

    _v2, w2 = build_window(synthetic.root, viewer=make_napari_viewer(), recover=False)
    assert w2.manager.criteria == {**m.criteria}  # saved before Clear all changed only labels
    assert w2.manager.manual_selection[1, [3, 5]].all()
    assert w2.cards["in_vs_out"].slider.value()[0] == pytest.approx(cut)
    w2.unbind()


def test_undo_buttons_status_and_saved_state_follow_each_step(window, qtbot, mouse_event, dialogs):
    """Click an ROI, then Undo/Redo with the buttons: their states, the status line, the title's "*"."""
    viewer, widget = window
    m, c = widget.manager, widget.controls
    click = Qt.MouseButton.LeftButton
    assert not c.undo_button.enabled and not c.redo_button.enabled
    idx = first_visible_roi(widget)
    _click(viewer, mouse_event, pixel_of(widget, idx))  # the first flip, by a click on the canvas
    assert c.undo_button.enabled and not c.redo_button.enabled
    assert c.undo_button.tooltip == f"undo label of ROI {idx} (Ctrl+Z)" and viewer.title.endswith("*")
    qtbot.mouseClick(c.undo_button.native, click)
    assert not m.manual_selection[1, idx]
    assert not c.undo_button.enabled and c.redo_button.enabled
    assert widget.status.text() == f"undone: label of ROI {idx} (Ctrl+Shift+Z redoes)"  # not the stale flip message
    assert not m.dirty and not viewer.title.endswith("*")  # back at the opened state: nothing to save
    assert widget.confirm_close() and dialogs.seen == []  # closing asks nothing
    qtbot.mouseClick(c.redo_button.native, click)
    assert m.manual_selection[1, idx] and m.dirty and widget.status.text() == f"redone: label of ROI {idx}"
    assert c.undo_button.enabled and not c.redo_button.enabled
    qtbot.mouseClick(c.save_button.native, click)
    m.flip(idx + 1)
    press(widget, "Control-Z")  # back to the saved state
    assert not m.dirty and not (m.root_dir / "cellector" / ".journal.jsonl").exists()  # no recovery offered later
    press(widget, "Control-Z")  # before the save: unsaved again
    assert m.dirty and viewer.title.endswith("*")
    press(widget, "Control-Shift-Z")
    assert not m.dirty  # redone to the saved state
    press(widget, "Control-Z")
    m.flip(idx + 2)  # a new change from before the save: redo, the way back to the saved state, is gone
    press(widget, "Control-Z")
    assert m.dirty  # the state before the save is not what was saved


def test_close_asks_when_dirty(window, monkeypatch):
    _viewer, widget = window
    widget.manager.flip(0)
    monkeypatch.setattr(widget.saving, "ask_unsaved", lambda question: "cancel")
    assert not widget.confirm_close()
    monkeypatch.setattr(widget.saving, "ask_unsaved", lambda question: "save")
    assert widget.confirm_close() and not widget.manager.dirty


def test_journal_of_a_killed_session_is_offered_on_reopen(make_napari_viewer, synthetic, dialogs):
    import subprocess
    import sys

    from qtpy.QtWidgets import QMessageBox

    from cellector_gui import build_window

    code = (
        "import os\nfrom cellector.manager import CellectorManager\n"
        f"m = CellectorManager.from_folder({str(synthetic.root)!r})\n"
        "m.save_all()\nm.flip(2)\nm.flip(7)\nm.flip(7)\nm.flip(11)\n"
        "os._exit(9)  # killed before saving\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    expected = np.zeros((2, sum(synthetic.n_rois)), bool)
    expected[1, [2, 7, 11]] = True
    dialogs.expect("question", QMessageBox.StandardButton.No, "4 manual edits")
    _v, w = build_window(synthetic.root, viewer=make_napari_viewer(), recover=None)
    assert not dialogs.expected  # the offer was made
    assert not w.manager.manual_selection[1].any()  # declined: journal discarded
    w.unbind()
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    dialogs.expect("question", QMessageBox.StandardButton.Yes, "4 manual edits")
    _v2, w2 = build_window(synthetic.root, viewer=make_napari_viewer(), recover=None)
    m = w2.manager
    np.testing.assert_array_equal(m.manual_selection[1], expected[1])
    # no criteria: every ROI meets them, so a flip labels it off; 7 was flipped back on
    assert m.manual_selection[0, [2, 7, 11]].tolist() == [False, True, False]
    assert "restored 4" in w2.status.text() and m.dirty
    m.mark_saved()
    w2.unbind()


@pytest.mark.parametrize("folder", ["suite2p-1.1-2planes", "suite2p-0.14-1plane"])
def test_real_folders(make_napari_viewer, real_copy, folder, mouse_event):
    from cellector_gui import build_window

    viewer, widget = build_window(real_copy(folder), viewer=make_napari_viewer(), recover=False)
    idx = first_visible_roi(widget)
    _click(viewer, mouse_event, pixel_of(widget, idx))
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


def test_colour_by_feature_outline_and_show_modes(window):
    from matplotlib.colors import LinearSegmentedColormap, to_rgb

    _viewer, widget = window
    m = widget.manager
    label = widget.overlay.label[0]
    visible = np.unique(label[label > 0]) - 1
    v = m.features["corr_coef"]
    lo, hi = np.nanpercentile(v, [1, 99])  # the colour range: 1st to 99th percentile
    widget.controls.color_combo.value = "corr_coef"
    # cyan -> green -> yellow: bright against the red reference at both ends
    cmap = LinearSegmentedColormap.from_list("t", [to_rgb("#00d8ff"), to_rgb("#7dff6a"), to_rgb("#ffe000")])
    for idx in visible[:10]:
        expected = (np.asarray(cmap(np.clip((v[idx] - lo) / (hi - lo), 0, 1))) * 255).astype(np.uint8)
        assert _rgba_at(widget, idx) == (*expected[:3], 200)
    assert widget.colorbar.low.text() == f"corr_coef {lo:.4g}" and widget.colorbar.high.text() == f"{hi:.4g}"
    widget.controls.color_combo.value = "decision"
    # outline: a pixel whose four neighbours are in the same ROI goes transparent, the edge stays
    inner = (
        (label[1:-1, 1:-1] > 0)
        & (label[1:-1, 1:-1] == label[:-2, 1:-1])
        & (label[1:-1, 1:-1] == label[2:, 1:-1])
        & (label[1:-1, 1:-1] == label[1:-1, :-2])
        & (label[1:-1, 1:-1] == label[1:-1, 2:])
    )
    y, x = np.argwhere(inner)[0] + 1
    assert widget.controls.outline_box.value and widget.roi_layer.data[0, y, x, 3] == 0  # outlines by default
    ys, xs = np.nonzero(label == label[y, x])
    assert widget.roi_layer.data[0, ys[0], xs[0], 3] > 0  # the topmost pixel is on the outline
    widget.controls.outline_box.value = False
    assert 0 < widget.roi_layer.data[0, y, x, 3] <= FILL_ALPHA  # a light fill: the red shows through
    # show only selected: rejected ROIs disappear
    m.update_criteria("corr_coef", [float(np.nanmedian(v)), None])
    rejected = [i for i in visible if not m.compute_idx_selected()[i]][:5]
    assert rejected and all(_rgba_at(widget, i)[3] > 0 for i in rejected)
    widget.controls.show_combo.value = "selected"
    assert all(_rgba_at(widget, i)[3] == 0 for i in rejected)


def test_close_guard_on_the_real_window_close(window, dialogs):
    from cellector_gui._viewer.qt_access import main_window

    _viewer, widget = window
    m = widget.manager
    m.flip(4)
    journal = synthetic_journal(m)
    assert journal.is_file()  # the edit was journalled as it happened
    top = main_window(widget)
    dialogs.expect("exec", QMessageBox.StandardButton.Cancel, "Save changes before closing?")
    assert not top.close()  # Cancel keeps the window and the edit
    assert m.dirty and m.manual_selection[1, 4]
    dialogs.expect("exec", QMessageBox.StandardButton.Discard, "Save changes before closing?")
    assert top.close()
    assert not journal.exists()  # discarded edits are not offered again on the next open
    assert not (m.root_dir / "cellector" / "manual_selection.npy").exists()


def _ctrl_w(widget):
    """Send Qt's first step of the Ctrl+W shortcut to the canvas; True when it was taken over."""
    from qtpy.QtCore import QEvent, Qt
    from qtpy.QtGui import QKeyEvent
    from qtpy.QtWidgets import QApplication

    from cellector_gui._viewer.qt_access import canvas_widget

    event = QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    event.ignore()  # as Qt sends it: napari's close action runs unless someone accepts the override
    QApplication.sendEvent(canvas_widget(widget), event)
    return event.isAccepted()


def test_ctrl_w_with_unsaved_changes_asks_one_question(window, dialogs, qtbot, monkeypatch):
    from cellector_gui._viewer.qt_access import main_window

    _viewer, widget = window
    m = widget.manager
    top = main_window(widget)
    closes = []
    assert not _ctrl_w(widget)  # nothing unsaved: napari's own close action (and its question) runs
    m.flip(4)
    journal = synthetic_journal(m)
    # napari's close() with no arguments never asks; with confirm_need=True (its Ctrl+W
    # action) it would. Record the call instead of destroying the test's viewer (undone
    # before napari's fixture closes the viewer).
    with monkeypatch.context() as patch:
        patch.setattr(type(top), "close", lambda _self, *args, **kwargs: closes.append((args, kwargs)) or True)
        dialogs.expect("exec", QMessageBox.StandardButton.Cancel, "Save changes before closing?")
        assert _ctrl_w(widget)  # ours replaces napari's question
        qtbot.waitUntil(lambda: not dialogs.expected, timeout=5000)
        assert m.dirty and journal.is_file() and closes == []
        dialogs.expect("exec", QMessageBox.StandardButton.Discard, "Save changes before closing?")
        assert _ctrl_w(widget)
        qtbot.waitUntil(lambda: closes == [((), {})], timeout=5000)  # closed as a program does: no question
    assert not journal.exists()  # discarded edits are not offered again
    assert [kind for kind, _ in dialogs.seen] == ["exec", "exec"]


@pytest.mark.parametrize("where", ["canvas", "dock"])
def test_ctrl_s_typed_by_a_user_saves_the_curation(window, dialogs, qtbot, where):
    """A real Ctrl+S (X key event): the curation is saved and napari's "Save selected layers" never opens."""
    from cellector_gui._viewer.qt_access import canvas_widget

    viewer, widget = window
    m = widget.manager
    assert len(viewer.layers.selection) > 0  # napari's save-selected-layers action is live for Ctrl+S
    m.update_criteria("dot_product", [1.0, None])
    m.flip(3)
    card = next(iter(widget.cards.values()))
    focus = canvas_widget(widget) if where == "canvas" else card.min_box.native
    real_keys(widget, qtbot, "ctrl+s", focus)
    qtbot.waitUntil(lambda: not m.dirty, timeout=10000)
    store = m.root_dir / "cellector"
    np.testing.assert_array_equal(np.load(store / "idx_selected.npy"), m.idx_selected)  # what analysis reads
    assert np.load(store / "manual_selection.npy")[1, 3]
    assert dialogs.seen == []  # no file dialog, no question


def test_help_names_the_save_key_and_the_folder(window):
    from cellector_gui._viewer.bindings import HELP

    assert "<b>Ctrl+S</b>: save the curation (into the suite2p folder's cellector/ folder)" in HELP
    assert "Control-S" not in HELP and "<folder>" not in HELP  # no text the help panel would drop as a tag


def synthetic_journal(manager):
    return manager.root_dir / "cellector" / ".journal.jsonl"


def test_close_guard_save_writes_the_state(window, dialogs):
    from cellector_gui._viewer.qt_access import main_window

    _viewer, widget = window
    m = widget.manager
    m.flip(4)
    dialogs.expect("exec", QMessageBox.StandardButton.Save, "Save changes before closing?")
    assert main_window(widget).close()
    saved = np.load(m.root_dir / "cellector" / "manual_selection.npy")
    np.testing.assert_array_equal(saved, m.manual_selection)
    assert not m.dirty


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


def test_window_save_equals_a_published_api_script(make_napari_viewer, real_copy, tmp_path):
    """The same choices made in the window (sliders, Save button) and by a published-API script."""
    from cellector.io import create_from_suite2p, load_idx_selected
    from cellector.manager import CellectorManager
    from cellector_gui import build_window

    gui_root = real_copy("suite2p-0.14-1plane")
    _viewer, widget = build_window(gui_root, viewer=make_napari_viewer(), recover=False)
    for name, cut in (("dot_product", 90.0), ("corr_coef", 0.3)):
        card = widget.cards[name]
        card.slider.setValue((cut, card.hi))
    widget.manager.update_manual_labels([0, 5], True, True)
    widget.manager.update_manual_labels(7, False, True)
    widget.controls.save_button.native.click()

    script_root = tmp_path / "script" / "suite2p"
    import shutil

    shutil.copytree(gui_root, script_root, ignore=shutil.ignore_patterns("cellector"))
    m = CellectorManager.make_from_roi_processor(create_from_suite2p(script_root))
    m.update_criteria("dot_product", [90.0, None])
    m.update_criteria("corr_coef", [0.3, None])
    m.update_manual_labels([0, 5], True, True)
    m.update_manual_labels(7, False, True)
    m.save_all()
    np.testing.assert_array_equal(load_idx_selected(gui_root), load_idx_selected(script_root))
    np.testing.assert_array_equal(CellectorManager(gui_root).compute_idx_selected(), load_idx_selected(script_root))
    widget.unbind()


@pytest.fixture
def read_only(tmp_path):
    """Make folders unwritable even for root (the immutable flag), as an archive mount is."""
    import subprocess

    frozen = []

    def freeze(path):
        r = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        assert r.returncode == 0, f"chattr +i failed (needed to make a folder read-only for root): {r.stderr}"
        frozen.append(path)

    yield freeze
    for path in frozen:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_read_only_folder_opens_and_save_asks_where(
    make_napari_viewer, real_copy, tmp_path, dialogs, monkeypatch, read_only
):
    import os

    from cellector_gui import build_window

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = real_copy("suite2p-0.14-1plane")
    read_only(root)
    assert not os.access(root, os.W_OK)
    _viewer, widget = build_window(root, viewer=make_napari_viewer(), recover=False)
    m = widget.manager
    assert str(m.store_dir).startswith(str(tmp_path / "cache"))
    assert "cannot be written: the cellector state is kept in" in widget.status.text()
    m.flip(3)
    assert (m.store_dir / ".journal.jsonl").is_file()  # crash recovery stays on, in the user's store
    dialogs.expect("directory", "", "read-only")  # cancelled: nothing saved
    assert widget.save() is None and m.dirty
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    dialogs.expect("directory", str(chosen), "read-only")
    assert widget.save() == chosen and not m.dirty
    assert np.load(chosen / "manual_selection.npy")[1, 3]
    assert oct(os.stat(chosen / "idx_selected.npy").st_mode & 0o777) == "0o644"
    widget.manager.flip(4)
    assert widget.save() == chosen  # asked once: later saves go to the chosen folder
    assert not (root / "cellector").exists()
    widget.unbind()


def test_guided_review_ghost_lines_and_apply(window, synthetic, qtbot):
    _viewer, widget = window
    m = widget.manager
    truth = np.concatenate(synthetic.truth_red)
    assert (
        not widget.controls.apply_button.enabled
        and "label a red and a non-red" in widget.controls.suggestion_label.value
    )
    for _ in range(6):
        expected = int(m.review_queue()[0])
        press(widget, "g")
        assert m.focus == expected and widget.status.text().startswith("guided: ROI")
        m.update_manual_labels(expected, bool(truth[expected]))
    assert m.manual_selection[1].sum() == 6 and m.manual_selection[0].any() and not m.manual_selection[0].all()
    qtbot.waitUntil(lambda: widget.controls.apply_button.enabled, timeout=5000)  # the fit runs once after the burst
    s = m.suggestion()
    text = widget.controls.suggestion_label.value  # the cutoff, then what it promises, in words
    assert text.startswith(f"suggested: <b>{s.cutoffs_text()}</b> · about {round(s.estimated_red)} red cells<br>")
    assert f"estimated precision {s.estimated_precision:.2f}, recall {s.estimated_recall:.2f}" in text
    assert f"(± {s.f1_margin:.2f}), from 6 labels" in text
    for name, side, cut in s.rule.bounds:
        line = widget.cards[name].ghost_min if side == "min" else widget.cards[name].ghost_max
        assert line.get_visible() and line.get_xdata()[0] == pytest.approx(cut)
    others = [c for n, c in widget.cards.items() if n not in {b[0] for b in s.rule.bounds}]
    assert not any(c.ghost_min.get_visible() or c.ghost_max.get_visible() for c in others)
    before = m.criteria
    qtbot.mouseClick(widget.controls.apply_button.native, Qt.MouseButton.LeftButton)
    assert m.criteria == s.criteria
    name, side, cut = s.rule.bounds[0]
    assert widget.cards[name].slider.value()[0 if side == "min" else 1] == pytest.approx(cut, abs=1e-3)
    press(widget, "Control-Z")
    assert m.criteria == before  # one undo step
    press(widget, "p")
    assert m.criteria == s.criteria
    assert "your cutoffs" not in widget.controls.suggestion_label.value  # the suggestion is what is set
    # dragged away from the suggestion: once the drag settles, the dock says what the user's own cutoffs give
    lo, hi = m.criteria[name]
    values = m.features[name]
    moved = float(np.nanpercentile(values, 90)) if side == "min" else float(np.nanpercentile(values, 10))
    m.update_criteria(name, (moved, hi) if side == "min" else (lo, moved))
    qtbot.waitUntil(lambda: "your cutoffs" in widget.controls.suggestion_label.value, timeout=5000)
    mine = m.estimate_selection()
    assert f"labels<br>your cutoffs: {mine.describe()}" in widget.controls.suggestion_label.value
    assert mine.estimated_f1 < s.estimated_f1  # the suggestion is the best cutoff under the same fit
    shown = widget.controls.suggestion_label.native
    assert shown.heightForWidth(shown.width()) <= shown.height()  # the extra line is never cut
    press(widget, "p")
    qtbot.waitUntil(lambda: "your cutoffs" not in widget.controls.suggestion_label.value, timeout=5000)


def test_a_label_that_looks_like_a_slip_is_named_and_w_shows_it(window, synthetic, qtbot):
    """A wrong label deep on the other side is named in the dock, and ``w`` (a real key) focuses it."""
    from cellector_gui._viewer.qt_access import canvas_widget

    _viewer, widget = window
    m = widget.manager
    truth = np.concatenate(synthetic.truth_red)
    dot = m.features["dot_product"]
    reds = np.flatnonzero(truth)[np.argsort(-dot[truth])][:4]  # the four brightest red cells
    nons = np.flatnonzero(~truth)[np.argsort(dot[~truth])][:4]  # the four dimmest non-red ones
    slip = int(nons[0])
    m.update_manual_labels(reds, True)
    m.update_manual_labels(nons[1:], False)
    m.update_manual_labels(slip, True)  # the dimmest ROI of all, labelled red by mistake
    qtbot.waitUntil(lambda: "like a slip" in widget.controls.suggestion_label.value, timeout=5000)
    assert m.suggestion().doubtful == (slip,)
    assert widget.controls.suggestion_label.value.endswith("<br>1 label looks like a slip: <b>w</b> shows it")
    shown = widget.controls.suggestion_label.native  # all three lines fit: none is cut
    assert shown.heightForWidth(shown.width()) <= shown.height()
    real_keys(widget, qtbot, "w", canvas_widget(widget))
    qtbot.waitUntil(lambda: m.focus == slip, timeout=5000)
    assert widget.status.text().startswith(f"check: ROI {slip} is labelled red but looks not red (1 to check")
    real_keys(widget, qtbot, "d")  # relabelled: nothing is left to check
    qtbot.waitUntil(lambda: "like a slip" not in widget.controls.suggestion_label.value, timeout=5000)
    assert m.manual_selection[:, slip].tolist() == [False, True] and m.suggestion().doubtful == ()
    press(widget, "w")
    assert widget.status.text() == "no label looks like a slip"
    m.mark_saved()


def test_label_keys_are_one_press_and_guided_review_moves_on(window, synthetic, qtbot):
    """``e``/``d`` label red / not red in one press (typed as real keys); guided review then offers the next ROI."""
    from cellector_gui._viewer.qt_access import canvas_widget

    _viewer, widget = window
    m = widget.manager
    truth = np.concatenate(synthetic.truth_red)
    assert not m.has_cutoffs  # every ROI shows "not selected": with flip, a red cell would need two presses
    real_keys(widget, qtbot, "g", canvas_widget(widget))
    qtbot.waitUntil(lambda: m.focus >= 0, timeout=5000)
    offered = []
    for _ in range(5):
        idx = m.focus
        offered.append(idx)
        real_keys(widget, qtbot, "e" if truth[idx] else "d")
        qtbot.waitUntil(lambda idx=idx: m.focus != idx, timeout=5000)  # labelled, and the next ROI is in focus
        assert m.manual_selection[:, idx].tolist() == [bool(truth[idx]), True]  # one press, the label asked for
        assert widget.status.text().startswith(f"ROI {idx} labelled {'red' if truth[idx] else 'not red'} · guided:")
    # g skips without labelling; nothing offered earlier comes back
    for _ in range(5):
        before = m.focus
        offered.append(before)
        real_keys(widget, qtbot, "g")
        qtbot.waitUntil(lambda before=before: m.focus != before, timeout=5000)
    assert len(set(offered)) == len(offered) and m.focus not in offered
    # outside guided review a label stays on its ROI
    m.set_focus(offered[0])
    relabel = not m.manual_selection[0, offered[0]]
    real_keys(widget, qtbot, "e" if relabel else "d")
    qtbot.waitUntil(lambda: m.manual_selection[0, offered[0]] == relabel, timeout=5000)
    assert m.focus == offered[0]
    m.mark_saved()


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


def test_focus_panel_shows_the_evidence(window, qtbot):
    _viewer, widget = window
    m = widget.manager
    panel = widget.focus_panel
    assert panel.shown == -1 and "no ROI in focus" in panel.values.text()
    m.set_focus(7)
    assert panel.shown == -1  # drawn once the event loop runs, after the canvas's repaint
    qtbot.waitUntil(lambda: panel.shown == 7, timeout=5000)
    ref_img, func_img = (ax.images[0].get_array() for ax in panel.axes)
    z, y0, y1, x0, x1 = panel.crop_box(7)
    np.testing.assert_array_equal(ref_img, m.roi_processor.reference[z, y0:y1, x0:x1])
    np.testing.assert_array_equal(func_img, m.roi_processor.functional_reference[z, y0:y1, x0:x1])
    assert all(ax.collections for ax in panel.axes)  # the outline is drawn on both crops
    assert panel.values.text().startswith("ROI 7 (plane0 #7):") and "no cutoffs set" in panel.values.text()
    m.flip(7)
    assert "manually rejected" in panel.values.text()


def test_one_axis_for_histogram_and_slider(window, qtbot):
    """A handle's pixel x equals the histogram's pixel x for the same value, at any card width."""
    from cellector_gui._widgets.histogram import FeatureCard

    _viewer, widget = window
    values = widget.manager.features["dot_product"]
    card = FeatureCard("dot_product", values)  # the card as the dock holds it, shown on its own
    qtbot.addWidget(card)
    card.show()
    qtbot.waitExposed(card)
    for width in (260, 900):  # narrow and wide: a fixed margin would be off by several pixels
        card.resize(width, 200)
        qtbot.waitUntil(lambda w=width: card.canvas.width() > w - 40)
        x0, x1 = card.handle_travel()
        assert x1 - x0 > width / 2  # a real travel
        for value in np.linspace(card.lo, card.hi, 7):
            assert abs(card.handle_x(value) - card.axis_x(value)) <= 2, (width, value)


def test_typed_numbers_set_the_cutoff(window):
    _viewer, widget = window
    m = widget.manager
    card = widget.cards["corr_coef"]
    card.min_box.value = 0.25  # as typing 0.25 and Enter does
    assert m.criteria["corr_coef"] == (pytest.approx(0.25), None)
    assert card.slider.value()[0] == pytest.approx(0.25) and card.use_min.value
    assert card.slider.minimum() == pytest.approx(card.lo)  # the slider's range is untouched
    card.max_box.value = 7.5  # outside the data (corr_coef <= 1): kept as typed, shown clamped
    assert m.criteria["corr_coef"] == (pytest.approx(0.25), 7.5)
    assert card.slider.value()[1] == pytest.approx(card.hi)
    card.min_box.value = 9.0  # never crosses the other bound
    assert m.criteria["corr_coef"] == (7.5, 7.5)
    assert m.undo() and m.criteria["corr_coef"] == (pytest.approx(0.25), 7.5)


def test_cutoff_lines_drag_on_the_histogram(window):
    from matplotlib.backend_bases import MouseEvent

    _viewer, widget = window
    m = widget.manager
    card = widget.cards["in_vs_out"]
    card.canvas.draw()
    to_px = card.ax.transData.transform

    def mouse(kind, value):
        x, y = to_px((value, 1))
        event = MouseEvent(kind, card.canvas, x, y, button=1)
        card.canvas.callbacks.process(kind, event)

    target = card.lo + 0.4 * (card.hi - card.lo)
    mouse("button_press_event", card.lo)  # on the min line (at the data minimum)
    mouse("motion_notify_event", target)
    mouse("button_release_event", target)
    assert m.criteria["in_vs_out"][0] == pytest.approx(target, rel=1e-2)
    assert card.slider.value()[0] == pytest.approx(target, rel=1e-2)
    assert not m._history.top.coalescing  # the drag ended as one undo step


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
    _click(viewer, mouse_event, (0, 10, 10))  # clicking the background of an empty session does nothing
    widget.roi_actions.guided_next()
    assert widget.status.text() == "this folder has no ROIs"
    widget.unbind()


def test_a_fast_drag_updates_the_criteria_once_per_frame(window, qtbot):
    """Drag events never queue: a burst of slider moves gives the first at once and the last one later."""
    _viewer, widget = window
    m = widget.manager
    card = widget.cards["corr_coef"]
    seen = []
    m.criteria_changed.connect(lambda name: seen.append(m.criteria[name][0]))
    values = [float(v) for v in np.linspace(card.lo, card.hi, 40)[5:25]]
    for v in values:  # as a drag faster than the throttle's 25 ms does
        card.slider.setValue((v, card.hi))
    assert seen == [pytest.approx(values[0])]
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=2000)
    assert seen[1] == pytest.approx(values[-1]) and m.criteria["corr_coef"][0] == pytest.approx(values[-1])
    card.slider.sliderReleased.emit()  # the release is the final, undoable edit
    assert m.criteria["corr_coef"][0] == pytest.approx(values[-1])


def test_a_feature_added_from_a_script_gets_its_card(window, qtbot):
    """``manager.add_feature`` from a script or napari's console: a card appears and works like the others."""
    _viewer, widget = window
    m = widget.manager
    values = np.arange(m.num_rois, dtype=float)
    m.add_feature("my_score", values)
    assert "my_score" in widget.cards and list(widget.cards)[-1] == "my_score"
    card = widget.cards["my_score"]
    assert widget.cards_layout.indexOf(card) == len(widget.cards)  # after the help and the other cards
    assert card.sel_stairs.get_data().values.sum() == 0  # gray until a cutoff, like the others
    card.slider.setValue((10.0, card.hi))  # its slider sets its criterion
    qtbot.waitUntil(lambda: m.criteria["my_score"][0] is not None, timeout=5000)
    assert m.criteria["my_score"][0] == pytest.approx(10.0, abs=0.5)
    assert "my_score" in widget.controls.color_combo.choices
    m.add_feature("my_score", values * 2)  # replaced: one card, refilled
    assert list(widget.cards).count("my_score") == 1 and widget.cards["my_score"].hi == pytest.approx(2 * card.hi)
    m.mark_saved()


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
