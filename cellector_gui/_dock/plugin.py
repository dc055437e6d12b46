"""npe2 contributions: a suite2p folder reader, the Cellector dock and sample data.

``napari path/to/suite2p --plugin cellector`` opens the reference images through
the reader; the layers carry the folder in their metadata, and the Cellector dock
(added by the reader's layers, or from the Plugins menu) attaches to them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QVBoxLayout, QWidget

from cellector_gui._viewer.meta import NOTE_KEY, REFERENCE_KEY, ROOT_KEY, STUDY_KEY

__all__ = ["CellectorDock", "get_reader", "sample_session"]


def get_reader(path: Any) -> Callable | None:
    """Return a reader for a suite2p folder or a folder of sessions (a study), None for anything else (never raises)."""
    if isinstance(path, (list, tuple)):
        if len(path) != 1:
            return None
        path = path[0]
    try:
        from cellector.io.suite2p import find_planes

        _root, _ = find_planes(path)
        return _read
    except (ValueError, OSError, TypeError):
        pass
    try:
        from cellector.study.status import find_sessions

        return _read_study if find_sessions(path) else None
    except (ValueError, OSError, TypeError):
        return None


def _read_study(path: Any) -> list[tuple]:
    """Show the first session of a study not yet saved; the dock then opens the study with its sessions panel."""
    from cellector.study.sessions import Study

    if isinstance(path, (list, tuple)):
        path = path[0]
    study = Study([path])
    layers = _read(study.sessions[study.first_to_open()])
    return [
        (image, {**kwargs, "metadata": {**kwargs["metadata"], STUDY_KEY: str(path)}}, kind)
        for image, kwargs, kind in layers
    ]


def _read(path: Any) -> list[tuple]:
    from cellector.io.suite2p import load_suite2p
    from cellector_gui._viewer.layers import evidence_layers

    if isinstance(path, (list, tuple)):
        path = path[0]
    session = load_suite2p(path, fallback_reference=True)  # a single-channel folder opens too, and says so
    _open_dock_soon()
    about = {REFERENCE_KEY: session.reference_key, NOTE_KEY: session.reference_note}
    return [
        (image, {**kwargs, "metadata": {**kwargs["metadata"], **about}}, "image")
        for image, kwargs in evidence_layers(session)
    ]


def _open_dock_soon() -> None:
    """Open the Cellector dock once the reader's layers are in the viewer (as ``cellector-gui`` does)."""
    try:
        import napari

        viewer = napari.current_viewer()
    except ImportError:
        return
    if viewer is not None:
        # add_plugin_dock_widget shows the existing dock instead of adding a second one
        QTimer.singleShot(0, lambda: viewer.window.add_plugin_dock_widget("cellector", "Cellector"))


def sample_session() -> list[tuple]:
    """Write a small synthetic session to a temporary folder and read it."""
    from cellector.io.datasets import make_suite2p_folder

    s = make_suite2p_folder(Path(tempfile.mkdtemp(prefix="cellector-sample-")), n_planes=2, n_rois=150)
    return _read(s.root)


class CellectorDock(QWidget):
    """The plugin dock: finds the folder the reader opened and attaches the curation widget."""

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from cellector_gui._dock.widget import CellectorWidget

        self.viewer = napari_viewer
        self.inner = CellectorWidget(napari_viewer, parent=self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.inner)
        meta = next((layer.metadata for layer in napari_viewer.layers if ROOT_KEY in layer.metadata), None)
        if meta is None:
            self.inner.show_message("open a suite2p folder with: napari FOLDER --plugin cellector")
            return
        # the same worker-thread loading (progress bar, error dialog, journal offer) as cellector-gui
        options = {"reference_key": meta.get(REFERENCE_KEY, "meanImg_chan2")}
        study = _study_of(meta.get(STUDY_KEY))
        if study is not None:
            self.inner.study.start(study, {})
        else:
            self.inner.open(meta[ROOT_KEY], options, note=meta.get(NOTE_KEY))
        # A folder opened for curation gets cellector-gui's layout: the window fills the
        # screen and the canvas takes most of it (napari's Window menu brings its docks back).
        QTimer.singleShot(0, self._fill_screen)

    def _fill_screen(self) -> None:
        from cellector_gui._viewer.qt_access import fit_to_screen, main_window

        top = main_window(self)
        if top is not None and top.isVisible():  # not for a hidden viewer (scripts, tests)
            fit_to_screen(self)


def _study_of(folder: str | None) -> Any:
    """Return the study of ``folder`` when it holds more than one session (None otherwise)."""
    if folder is None:
        return None
    from cellector.study.sessions import Study

    study = Study([folder])
    return study if len(study) > 1 else None
