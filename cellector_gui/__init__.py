"""cellector's napari front end: the curation window, the ``cellector-gui`` command and the npe2 plugin.

The window's names resolve on first use (PEP 562), so that ``cellector-gui`` and the
report can place napari's and matplotlib's caches (:mod:`cellector_gui._caches`) before
either is imported, and the report never imports napari at all.
"""

from importlib import import_module
from typing import Any

_HOME = {"build_window": "cellector_gui._main", "CellectorWidget": "cellector_gui._widget"}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(import_module(_HOME[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
