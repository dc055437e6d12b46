"""Migrating a store's legacy file names, and clearing a saved state (each snapshotted into ``.previous/`` first)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from cellector._shared.atomic import atomic_save_npy, atomic_write_text, fsync_dir
from cellector.io.ownership import ForeignStateError, RoiIdentity, file_lengths, mismatch
from cellector.io.store.files import METADATA, StoreError, legacy_files, load_npy, read_metadata, sha1, store_path
from cellector.io.store.state import locked, snapshot

__all__ = ["clear_state", "migrate"]


def _legacy_kind(old: str) -> str:
    return {"targetcell.npy": "selection", "manual_selection.npy": "manual"}.get(old, "features")


def migrate(
    root: str | Path,
    parts: Iterable[str] = ("features", "manual", "selection"),
    remove_old: bool = True,
    here: RoiIdentity | None = None,
) -> list[str]:
    """Rename legacy files to their current names (and transpose an (N, 2) manual selection).

    Parameters
    ----------
    root : str or Path
        The folder holding ``cellector/``.
    parts : iterable of str
        Which legacy names to migrate: ``"features"`` (``{name}.npy``,
        ``{name}_criteria.npy``), ``"manual"`` (the (N, 2) shape), ``"selection"``
        (``targetcell.npy``).
    remove_old : bool
        Remove each legacy file once its new file is written (else keep both).
    here : RoiIdentity, optional
        The folder's ROIs: every legacy file's length is checked against them first, and
        a state that is not this folder's is refused; nothing is moved then.

    Raises
    ------
    StoreError
        When a legacy file holds another number of ROIs than the folder (the message
        names each such file), or the state is not this folder's (:class:`ForeignStateError`).

    Returns
    -------
    list of str
        One line per file, saying whether it was moved, copied or rewritten. The
        folder as it was is kept in ``cellector/.previous/``.
    """
    wanted = set(parts)
    done: list[str] = []
    folder = store_path(root)
    pending = [o for o in legacy_files(folder) if _legacy_kind(o) in wanted] if folder.is_dir() else []
    if not pending:
        return done  # nothing to migrate: no lock file, no snapshot
    for old in pending:
        load_npy(folder / old, old)  # a file we would refuse is refused before anything is written
    if here is not None:
        _check_legacy_lengths(folder, pending, here)
    with locked(root) as folder:
        moves = {o: n for o, n in legacy_files(folder).items() if _legacy_kind(o) in wanted}
        if not moves:
            return done
        meta = read_metadata(root)
        snapshot(folder, meta or {})
        for old, new in moves.items():
            arr = load_npy(folder / old, old)
            if old == new:  # manual_selection.npy (N, 2) -> (2, N), in place
                atomic_save_npy(folder / new, np.asarray(arr).T.astype(bool))
                done.append(f"{old}: rewrote (N, 2) as (2, N)")
                continue
            atomic_save_npy(folder / new, arr)
            if remove_old:
                (folder / old).unlink()
                done.append(f"moved {old} -> {new}")
            else:
                done.append(f"copied {old} -> {new} (kept {old})")
        if meta is not None:
            sums = {k: v for k, v in meta.get("checksums", {}).items() if (folder / k).is_file()}
            sums.update({n: sha1(folder / n) for n in moves.values()})
            atomic_write_text(folder / METADATA, json.dumps({**meta, "checksums": sums}, indent=1, sort_keys=True))
    return done


def _check_legacy_lengths(folder: Path, pending: list[str], here: RoiIdentity) -> None:
    """Refuse to migrate a state that is not this folder's, or legacy files of another ROI count."""
    wrong = []
    for name in pending:
        arr = np.asarray(load_npy(folder / name, name))
        per_roi = not name.endswith("_criteria.npy") and arr.ndim >= 1
        if per_roi and arr.shape[0] != here.n_rois:
            wrong.append(f"{name} holds {arr.shape[0]} ROIs")
    if wrong:
        raise StoreError(
            f"{folder}: {', '.join(wrong)}, but this folder has {here.n_rois}; nothing was migrated "
            "(a file of another session? move it aside, then migrate again)"
        )
    reason = mismatch(read_metadata(folder, folder), file_lengths(folder), here)
    if reason is not None:
        raise ForeignStateError(folder, reason)


#: Files of a state (besides the .npy files) that a clear removes.
_STATE_FILES = (METADATA, ".journal.jsonl")


def clear_state(root: str | Path) -> list[str]:
    """Delete the saved state in ``<root>/cellector`` after snapshotting it into ``.previous/``.

    Returns the names of the files removed (the lock file and the snapshot stay).
    """
    if not store_path(root).is_dir():
        return []
    with locked(root) as folder:
        snapshot(folder, read_metadata(root) or {})
        gone = sorted(
            f.name for f in folder.iterdir() if f.is_file() and (f.suffix == ".npy" or f.name in _STATE_FILES)
        )
        for name in gone:
            (folder / name).unlink()
        fsync_dir(folder)
    return gone
