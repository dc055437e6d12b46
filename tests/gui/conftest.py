"""GUI fixtures: a window on a synthetic folder, driven through its real widgets."""

import pytest


@pytest.fixture
def window(make_napari_viewer, synthetic):
    """(viewer, widget) on a fresh synthetic 2-plane folder."""
    from cellector_gui import build_window

    viewer = make_napari_viewer()
    viewer, widget = build_window(synthetic.root, viewer=viewer, recover=False)
    yield viewer, widget
    widget.manager._set_dirty(False)  # no unsaved-changes prompt during teardown
    widget.unbind()


def press(viewer, key):
    """Press a key through napari's keymap handler, as the canvas does."""
    handler = viewer.window._qt_viewer._key_map_handler
    handler.press_key(key)
    handler.release_key(key)


def pixel_of(widget, idx):
    """A (z, y, x) pixel that shows ROI idx (not covered by a later ROI)."""
    import numpy as np

    z, y, x = np.argwhere(widget.overlay.label == idx + 1)[0]
    return int(z), int(y), int(x)


def first_visible_roi(widget, plane=0):
    import numpy as np

    ids = np.unique(widget.overlay.label[plane])
    return int(ids[ids > 0][0]) - 1


@pytest.fixture
def MouseEvent():  # noqa: N802 - mirrors napari's fixture of the same name
    """Mouse events as napari's viewer callbacks read them (with modifiers)."""
    from dataclasses import dataclass, field

    @dataclass
    class Event:
        type: str
        position: tuple
        button: int = 1
        is_dragging: bool = False
        modifiers: tuple = ()
        dims_displayed: tuple = (1, 2)
        dims_point: list = None
        view_direction: list = None
        pos: list = field(default_factory=lambda: [0, 0])
        handled: bool = False
        delta: tuple = (0, 0)

    return Event


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    """Modal dialogs never block a test: each is recorded and answered (No / Discard / Ok)."""
    from qtpy.QtWidgets import QMessageBox

    seen = []

    def record(kind, answer):
        def f(*args, **kwargs):
            texts = [a for a in args if isinstance(a, str)]
            seen.append((kind, " ".join(texts)))
            return answer
        return f

    monkeypatch.setattr(QMessageBox, "question", staticmethod(record("question", QMessageBox.StandardButton.No)))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(record("warning", QMessageBox.StandardButton.Ok)))
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(record("critical", QMessageBox.StandardButton.Ok)))
    monkeypatch.setattr(QMessageBox, "exec", lambda self: (seen.append(("exec", self.text())),
                                                           QMessageBox.StandardButton.Discard)[1])
    return seen
