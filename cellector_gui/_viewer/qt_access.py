"""The few Qt objects of a napari window that napari's public API does not hand out.

napari (0.9) has no public accessor for the main ``QMainWindow`` or for the canvas's
native Qt widget; the window's private attributes warn when plugins use them. This is
the one place where cellector finds those objects, and it does so through Qt's own
public API, starting from a widget docked in the window.
"""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import QApplication, QMainWindow, QWidget

__all__ = ["camera", "canvas_widget", "fit_to_screen", "main_window"]

#: napari's own docks, hidden so the canvas keeps most of the width (the cellector dock has
#: keys and buttons for what they would be used for here; napari's Window menu brings them back).
_NAPARI_DOCKS = ("layer controls", "layer list")

#: vispy's Qt backend class: the native widget of napari's canvas.
_CANVAS_CLASS = "CanvasBackendDesktop"


def main_window(docked: QWidget) -> QMainWindow | None:
    """Return the napari main window holding ``docked`` (None while it is not docked)."""
    top = docked.window()
    return top if isinstance(top, QMainWindow) else None


def canvas_widget(docked: QWidget) -> QWidget | None:
    """Return the native Qt widget of the canvas in the window holding ``docked``."""
    top = main_window(docked)
    if top is None:
        return None
    return next((w for w in top.findChildren(QWidget) if type(w).__name__ == _CANVAS_CLASS), None)


def camera(viewer: Any) -> Any:
    """Return the viewer's camera (``viewer.scene.camera`` from napari 0.9, ``viewer.camera`` before)."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None and hasattr(scene, "camera") else viewer.camera


def fit_to_screen(docked: QWidget, size: tuple[int, int] | None = None) -> None:
    """Fill the screen's available area (or ``size``), the canvas taking most of the width.

    napari's layer list and layer controls are hidden: the cellector dock has keys and
    buttons for what they would be used for here.
    """
    from qtpy.QtWidgets import QDockWidget

    top = main_window(docked)
    if top is None:
        return
    if size is None:
        screen = top.screen() or QApplication.primaryScreen()
        if screen is not None:
            top.setGeometry(screen.availableGeometry())
        top.showMaximized()
    else:
        top.resize(*size)
    for dock in top.findChildren(QDockWidget):
        if dock.objectName() in _NAPARI_DOCKS:
            dock.hide()
