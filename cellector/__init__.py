"""cellector: find the suite2p ROIs that carry a second fluorophore.

The package is the headless core: it never imports Qt, napari or matplotlib.
The napari window (and the report figure, drawn with matplotlib) live in
:mod:`cellector_gui`.
"""

from cellector._shared.version import __version__

__all__ = ["CellectorManager", "RoiProcessor", "__version__"]


def __getattr__(name: str) -> object:
    # ``from cellector import RoiProcessor, CellectorManager`` (the published quickstart)
    # without importing numba and the store for ``cellector.__version__``.
    if name == "RoiProcessor":
        from cellector.roi_processor.processor import RoiProcessor

        return RoiProcessor
    if name == "CellectorManager":
        from cellector.manager import CellectorManager

        return CellectorManager
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
