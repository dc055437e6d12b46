"""cellector's napari front end: the curation window, the ``cellector-gui`` command and the npe2 plugin.

The window's names resolve on first use (PEP 562), so that ``cellector-gui`` and the
report can place napari's and matplotlib's caches (:mod:`cellector_gui._viewer.caches`) before
either is imported, and the report never imports napari at all.
"""

from cellector._shared.lazy import lazy_names

_HOME = {"build_window": "cellector_gui._main", "CellectorWidget": "cellector_gui._dock.widget"}

__all__ = sorted(_HOME)
__getattr__, __dir__ = lazy_names(globals(), _HOME)
