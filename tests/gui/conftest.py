"""GUI fixtures: a window on a synthetic folder, driven through its real widgets."""

from dataclasses import dataclass, field

import numpy as np
import pytest


@pytest.fixture
def window(make_napari_viewer, synthetic):
    """(viewer, widget) on a fresh synthetic 2-plane folder."""
    from cellector_gui import build_window

    viewer = make_napari_viewer()
    viewer, widget = build_window(synthetic.root, viewer=viewer, recover=False)
    yield viewer, widget
    if widget.manager is not None:
        widget.manager.mark_saved()  # no unsaved-changes prompt during teardown
    widget.unbind()


def press(widget, key):
    """Type ``key`` ("n", "Control-Shift-Z", ...) on napari's canvas, as a user does."""
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    from cellector_gui._viewer.qt_access import canvas_widget

    *mods, name = key.split("-")
    modifiers = Qt.KeyboardModifier.NoModifier
    for mod in mods:
        modifiers |= {"Control": Qt.KeyboardModifier.ControlModifier, "Shift": Qt.KeyboardModifier.ShiftModifier}[mod]
    canvas = canvas_widget(widget)
    assert canvas is not None, "the napari canvas was not found"
    QTest.keyClick(canvas, getattr(Qt.Key, f"Key_{name.upper()}"), modifiers)


def real_keys(widget, qtbot, keys, focus=None):
    """Type ``keys`` (xdotool's names: "ctrl+s") as X key events into the shown window.

    Unlike ``QTest.keyClick`` they go through everything a user's key press does: the X
    server, Qt's shortcut map (napari's menu shortcuts first), then the focused widget.
    ``focus`` (a QWidget of the window) gets the keyboard focus first.
    """
    import shutil
    import subprocess

    from cellector_gui._viewer.qt_access import main_window

    if shutil.which("xdotool") is None:
        pytest.fail("xdotool is needed to type real key events (apt-get install xdotool)")
    top = main_window(widget)
    top.show()
    qtbot.waitExposed(top)
    subprocess.run(["xdotool", "windowfocus", "--sync", str(int(top.winId()))], check=True, timeout=20)
    qtbot.waitUntil(top.isActiveWindow, timeout=5000)
    if focus is not None:
        focus.setFocus()
        qtbot.waitUntil(focus.hasFocus, timeout=5000)
    subprocess.run(["xdotool", "key", "--clearmodifiers", keys], check=True, timeout=20)


def pixel_of(widget, idx):
    """A (z, y, x) pixel that shows ROI idx (not covered by a later ROI)."""
    z, y, x = np.argwhere(widget.overlay.label == idx + 1)[0]
    return int(z), int(y), int(x)


def first_visible_roi(widget, plane=0):
    ids = np.unique(widget.overlay.label[plane])
    return int(ids[ids > 0][0]) - 1


@dataclass
class MouseEvent:
    """A mouse event as napari's viewer callbacks read it (with modifiers)."""

    type: str
    position: tuple
    button: int = 1
    is_dragging: bool = False
    modifiers: tuple = ()
    dims_displayed: tuple = (1, 2)
    dims_point: list | None = None
    view_direction: list | None = None
    pos: list = field(default_factory=lambda: [0, 0])
    handled: bool = False
    delta: tuple = (0, 0)


class EventProxy:
    """The read-only view of an event that napari's canvas passes to mouse callbacks."""

    def __init__(self, event):
        self.__wrapped__ = event

    def __getattr__(self, name):
        return getattr(self.__wrapped__, name)


@pytest.fixture
def mouse_event():
    """The MouseEvent class (napari's test support has one too, without modifiers)."""
    return MouseEvent


class Dialogs:
    """Modal dialogs of a test: each must be announced with :meth:`expect`.

    A dialog nobody expected is answered harmlessly (No / Ok / Cancel) and fails the
    test at teardown, so an error dialog can never pass silently; an expected dialog
    that never appeared fails it too.
    """

    def __init__(self):
        self.seen: list[tuple[str, str]] = []
        self.expected: list[tuple[str, str, object]] = []
        self.unexpected: list[tuple[str, str]] = []

    def expect(self, kind, answer, text=""):
        """Announce a dialog of ``kind`` whose text holds ``text``.

        Kinds: "question", "warning", "critical", "information", "exec" (a QMessageBox
        built by hand), "directory" (a folder chooser; the answer is the path), "save file"
        and "open file" (file choosers; the answer is ``(path, filter)``) and
        "dialog" (any other QDialog, by its window title).
        """
        self.expected.append((kind, text, answer))

    def answer(self, kind, text, default):
        self.seen.append((kind, text))
        for i, (k, want, answer) in enumerate(self.expected):
            if k == kind and want in text:
                del self.expected[i]
                return answer
        self.unexpected.append((kind, text))
        return default


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    """Modal dialogs never block a test, and an unexpected one fails it."""
    from qtpy.QtWidgets import QDialog, QFileDialog, QMessageBox

    box = Dialogs()
    buttons = QMessageBox.StandardButton

    def static(kind, default):
        def show(*args, **kwargs):
            return box.answer(kind, " ".join(a for a in args if isinstance(a, str)), default)

        return staticmethod(show)

    monkeypatch.setattr(QMessageBox, "question", static("question", buttons.No))
    monkeypatch.setattr(QMessageBox, "warning", static("warning", buttons.Ok))
    monkeypatch.setattr(QMessageBox, "critical", static("critical", buttons.Ok))
    monkeypatch.setattr(QMessageBox, "information", static("information", buttons.Ok))
    monkeypatch.setattr(QMessageBox, "exec", lambda self: box.answer("exec", self.text(), buttons.Cancel))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", static("directory", ""))  # "": cancelled
    monkeypatch.setattr(QFileDialog, "getSaveFileName", static("save file", ("", "")))  # napari's save dialogs
    monkeypatch.setattr(QFileDialog, "getOpenFileName", static("open file", ("", "")))
    # any other modal dialog (napari's own "close window?" is one): qtpy aliases exec_ to exec
    for name in ("exec", "exec_"):
        monkeypatch.setattr(
            QDialog, name, lambda self: box.answer("dialog", self.windowTitle(), QDialog.DialogCode.Rejected)
        )
    yield box
    problems = [f"unexpected {k} dialog: {t!r}" for k, t in box.unexpected]
    problems += [f"expected {k} dialog never appeared ({t!r})" for k, t, _ in box.expected]
    if problems:
        pytest.fail("; ".join(problems))


def rgba_at(widget, idx):
    """The overlay's RGBA at one pixel of ROI ``idx`` (its plane rendered first)."""
    z, y, x = pixel_of(widget, idx)
    widget.overlay.render(z)
    return tuple(int(c) for c in widget.roi_layer.data[z, y, x])


def click(viewer, mouse_event, zyx, moved=False, modifiers=()):
    """Press (, move) and release through napari's public callback dispatchers.

    napari's canvas hands callbacks a proxy whose ``__wrapped__`` event is swapped for
    each later move/release event, so a drag generator sees ``event.type`` change.
    """
    from napari.utils.interactions import mouse_move_callbacks, mouse_press_callbacks, mouse_release_callbacks

    pos = tuple(float(c) for c in zyx)
    press = mouse_event(type="mouse_press", position=pos, button=1, modifiers=modifiers)
    mouse_press_callbacks(viewer, EventProxy(press))
    if moved:
        move = mouse_event(type="mouse_move", position=(pos[0], pos[1] + 5, pos[2] + 5), button=1, is_dragging=True)
        mouse_move_callbacks(viewer, move)
    mouse_release_callbacks(viewer, mouse_event(type="mouse_release", position=pos, button=1))


def journal_of(manager):
    """The crash journal of a session saved in its own folder."""
    return manager.root_dir / "cellector" / ".journal.jsonl"
