"""Reading suite2p/suite3d folders and reading/writing the ``cellector/`` store.

Every function of the published cellector's ``cellector.io`` is importable from here
(``from cellector.io import create_from_suite2p, load_idx_selected, ...``).
"""

from importlib import import_module
from typing import Any

from . import published as _published

# The factories live above this package (``cellector.create`` builds a RoiProcessor,
# which reads and writes through ``cellector.io``); their published names resolve here
# lazily (PEP 562), so importing ``cellector.io`` never imports what sits above it.
_HOME = {
    **dict.fromkeys(
        ["create_from_mask_volume", "create_from_pixel_data", "create_from_suite2p", "create_from_suite3d"],
        "cellector.create",
    ),
    "identify_cellector_folders": "cellector.io.operations",
    **dict.fromkeys(_published.__all__, "cellector.io.published"),
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(import_module(_HOME[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
