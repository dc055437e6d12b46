"""Finding the cellector folders of a study (reading only).

:func:`propagate_criteria` and :class:`PropagationResult` moved to
:mod:`cellector.propagate` (they open sessions, a floor above ``cellector.io``); the
names still resolve here lazily.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from .store import STORE_DIR, store_path

__all__ = ["identify_cellector_folders"]


def identify_cellector_folders(top_level_dir: str | Path) -> list[Path]:
    """Return every folder below ``top_level_dir`` (inclusive) holding a ``cellector/`` results folder, sorted."""
    top = Path(top_level_dir)
    found = {p.parent for p in top.rglob(STORE_DIR) if p.is_dir()}
    if store_path(top).is_dir():
        found.add(top)
    return sorted(found)


def __getattr__(name: str) -> Any:
    if name in ("propagate_criteria", "PropagationResult"):
        return getattr(import_module("cellector.propagate"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
