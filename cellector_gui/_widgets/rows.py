"""Layout helper for the dock's magicgui widgets."""

from __future__ import annotations

from magicgui.widgets import Container, Widget

__all__ = ["row"]


def row(*widgets: Widget, stretch_at: int | None = None) -> Container:
    """Return a horizontal magicgui row without margins or labels.

    Parameters
    ----------
    *widgets : magicgui Widget
        The row's widgets, left to right.
    stretch_at : int, optional
        Put a stretch before ``widgets[stretch_at]`` (the rest keep their natural width).
    """
    line = Container(widgets=list(widgets), layout="horizontal", labels=False)
    line.margins = (0, 0, 0, 0)
    if stretch_at is not None:
        line.native.layout().insertStretch(stretch_at, 1)
    return line
