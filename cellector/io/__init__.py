"""Reading suite2p/suite3d folders and reading/writing the ``cellector/`` store.

Every function of the published cellector's ``cellector.io`` is importable from here
(``from cellector.io import create_from_suite2p, load_idx_selected, ...``).
"""

from importlib import import_module
from typing import Any

from . import published as _published

# The names of base and operations resolve lazily (PEP 562): ``cellector.roi_processor``
# imports ``cellector.io.store`` while ``cellector.io.base`` imports
# ``cellector.roi_processor``, so importing base here eagerly would be circular.
_HOME = {
    **dict.fromkeys(
        ["create_from_mask_volume", "create_from_pixel_data", "create_from_suite2p", "create_from_suite3d"], "base"
    ),
    "identify_cellector_folders": "operations",
    **dict.fromkeys(_published.__all__, "published"),
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
