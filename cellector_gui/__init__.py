"""cellector's napari front end: the curation window, the ``cellector-gui`` command and the npe2 plugin."""

from ._main import build_window
from ._widget import CellectorWidget

__all__ = ["CellectorWidget", "build_window"]
