"""Finding the cellector folders of a study (reading only).

Applying one session's criteria to others opens sessions, a floor above
``cellector.io``: see :mod:`cellector.study.propagate`.
"""

from __future__ import annotations

from pathlib import Path

from cellector.io.store import STORE_DIR, store_path

__all__ = ["identify_cellector_folders"]


def identify_cellector_folders(top_level_dir: str | Path) -> list[Path]:
    """Return every folder below ``top_level_dir`` (inclusive) holding a ``cellector/`` results folder, sorted."""
    top = Path(top_level_dir)
    found = {p.parent for p in top.rglob(STORE_DIR) if p.is_dir()}
    if store_path(top).is_dir():
        found.add(top)
    return sorted(found)
