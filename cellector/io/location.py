"""Where a session's ``cellector/`` store lives: its own folder, ``--store DIR``, or the user cache.

A folder the user cannot write (an archive, a colleague's data) keeps its state in the
user's cache folder instead, seeded with a copy of what the read-only store holds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from cellector.io.store.files import METADATA, StoreDir, store_path

__all__ = ["fallback_store", "resolve_store"]


def _writable(folder: Path) -> bool:
    """Whether files can be created in ``folder`` (or in the nearest folder that exists above it)."""
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def fallback_store(root: str | Path) -> StoreDir:
    """Return the store used for ``root`` when its own folder cannot be written.

    It lies in the user's cache directory (the platform's standard place, from
    platformdirs), named after the folder and a hash of its absolute path.
    """
    from platformdirs import user_cache_dir

    path = Path(root).resolve()
    key = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    return StoreDir(Path(user_cache_dir("cellector")) / "stores" / f"{path.parent.name}-{path.name}-{key}")


def resolve_store(
    root: str | Path, store_dir: str | Path | None = None, create: bool = True
) -> tuple[StoreDir, str | None]:
    """Return where the state of ``root`` is kept, and a note for the user when it is not the default.

    ``store_dir`` (``--store DIR``) wins. Otherwise ``<root>/cellector``, unless that
    cannot be written (an archive, a colleague's folder): then :func:`fallback_store`,
    first seeded with a copy of whatever state the read-only folder holds. A command that
    only reads (``create=False``) seeds nothing: it reads the user's earlier fallback
    store if there is one, else the read-only folder itself. Where the user's cache
    cannot be written either (no writable HOME), the read-only folder is used as it is:
    it can be read, and the note says that saving needs ``--store DIR``.
    """
    if store_dir is not None:
        return StoreDir(Path(store_dir).expanduser()), None
    default = StoreDir(store_path(root))
    if _writable(default):
        return default, None
    other = fallback_store(root)
    kept = f"{Path(root)} cannot be written: the cellector state is kept in {other}"
    if other.is_dir() and any(other.iterdir()):
        return other, kept  # this user's own state from an earlier run
    if not create:
        return default, f"{Path(root)} cannot be written: read where it is (saving needs --store DIR)"
    if not _writable(other):
        return default, (
            f"{Path(root)} cannot be written, nor can the user cache {other.parent}: "
            "nothing can be saved here; give a writable folder with --store DIR"
        )
    _seed(default, other)
    return other, kept


def _seed(src: Path, dst: Path) -> None:
    """Copy the state files of a read-only store into an empty fallback store."""
    if not src.is_dir() or (dst.is_dir() and any(dst.iterdir())):
        return
    names = [f.name for f in src.iterdir() if f.is_file() and (f.suffix == ".npy" or f.name == METADATA)]
    if not names:
        return
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(src / name, dst / name)  # our permissions, not the archive's
