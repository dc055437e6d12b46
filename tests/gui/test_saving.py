"""Saving from the window: the buttons, undo, closing with changes, crash recovery, read-only folders."""

import numpy as np
import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QMessageBox

from .conftest import click, first_visible_roi, journal_of, pixel_of, press


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
    left = Qt.MouseButton.LeftButton
    assert not c.undo_button.enabled and not c.redo_button.enabled
    idx = first_visible_roi(widget)
    click(viewer, mouse_event, pixel_of(widget, idx))  # the first flip, by a click on the canvas
    assert c.undo_button.enabled and not c.redo_button.enabled
    assert c.undo_button.tooltip == f"undo label of ROI {idx} (Ctrl+Z)" and viewer.title.endswith("*")
    qtbot.mouseClick(c.undo_button.native, left)
    assert not m.manual_selection[1, idx]
    assert not c.undo_button.enabled and c.redo_button.enabled
    assert widget.status.text() == f"undone: label of ROI {idx} (Ctrl+Shift+Z redoes)"  # not the stale flip message
    assert not m.dirty and not viewer.title.endswith("*")  # back at the opened state: nothing to save
    assert widget.confirm_close() and dialogs.seen == []  # closing asks nothing
    qtbot.mouseClick(c.redo_button.native, left)
    assert m.manual_selection[1, idx] and m.dirty and widget.status.text() == f"redone: label of ROI {idx}"
    assert c.undo_button.enabled and not c.redo_button.enabled
    qtbot.mouseClick(c.save_button.native, left)
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


def test_close_guard_on_the_real_window_close(window, dialogs):
    from cellector_gui._viewer.qt_access import main_window

    _viewer, widget = window
    m = widget.manager
    m.flip(4)
    journal = journal_of(m)
    assert journal.is_file()  # the edit was journalled as it happened
    top = main_window(widget)
    dialogs.expect("exec", QMessageBox.StandardButton.Cancel, "Save changes before closing?")
    assert not top.close()  # Cancel keeps the window and the edit
    assert m.dirty and m.manual_selection[1, 4]
    dialogs.expect("exec", QMessageBox.StandardButton.Discard, "Save changes before closing?")
    assert top.close()
    assert not journal.exists()  # discarded edits are not offered again on the next open
    assert not (m.root_dir / "cellector" / "manual_selection.npy").exists()


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
