"""Keys as a user types them: review, labels, undo, Ctrl+S, Ctrl+W, the help."""

import numpy as np
import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QApplication, QMessageBox

from cellector_gui._viewer.qt_access import camera

from .conftest import journal_of, press, real_keys


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
    assert cands.size > 2 and np.all(np.abs(v[cands] - cut) <= 0.05 * span)
    assert np.all(np.diff(np.abs(v[cands] - cut)) >= 0)  # the least certain first, not in index order
    press(widget, "n")  # n and b walk that order, as a user types them
    assert m.focus == cands[0]
    press(widget, "n")
    assert m.focus == cands[1]
    press(widget, "b")
    assert m.focus == cands[0]


def _ctrl_w(widget):
    """Send Qt's first step of the Ctrl+W shortcut to the canvas; True when it was taken over."""
    from qtpy.QtCore import QEvent
    from qtpy.QtGui import QKeyEvent

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
    journal = journal_of(m)
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
