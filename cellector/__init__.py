"""cellector: find the suite2p ROIs that carry a second fluorophore.

The package is the headless core: it never imports Qt, napari or matplotlib.
The napari window lives in :mod:`cellector_gui`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cellector")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
