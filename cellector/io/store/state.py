"""The only module that writes ``<root>/cellector/`` (see spec/store.md).

Compatible files (``{name}_feature.npy``, ``{name}_featurecriteria.npy``,
``manual_selection.npy``, ``idx_selected.npy``) sit beside our ``cellector.json``.
Every file is written atomically (temporary file in the same folder, fsync,
rename). A whole save runs under an exclusive lock, first hard-links the previous
files into ``.previous/``, and writes ``cellector.json`` last with a checksum of
every file; a load that finds checksums that do not match (a save killed half
way) falls back to ``.previous/``. Two processes saving at once serialise on the
lock: the last writer wins, and each saved state is whole.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from cellector._shared.atomic import atomic_save_npy, atomic_write_text
from cellector.io.ownership import ForeignStateError, RoiIdentity, file_lengths, mismatch
from cellector.io.store.files import (
    METADATA,
    SAVING_FLAG,
    StoreError,
    as_boolean,
    check_file_component,
    encode_criterion,
    legacy_files,
    load_criteria,
    load_features,
    load_manual_selection,
    load_selected,
    read_metadata,
    sha1,
    store_path,
)

__all__ = ["FORMAT_VERSION", "append_line", "load_state", "locked", "save_state", "snapshot"]

FORMAT_VERSION = 1
_INCOMPLETE = ".incomplete"  # checksum entry of a first save that has not finished


def _open_own(path: Path, flags: int) -> int:
    """``os.open`` that never follows a symbolic link at ``path`` (a link there is refused)."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreError(f"{path} is a symbolic link; cellector never writes through one (remove it)") from None
        raise


def append_line(path: str | Path, line: str) -> None:
    """Append one line to ``path`` and fsync it (the crash journal); a symbolic link is refused."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_own(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(line.rstrip("\n") + "\n")
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def locked(root: str | Path) -> Iterator[Path]:
    """Hold the store's exclusive lock (blocks while another process saves)."""
    folder = store_path(root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = _open_own(folder / ".lock", os.O_RDWR | os.O_CREAT)
    except PermissionError as exc:  # nowhere to write: say where it tried, and what fixes it
        where = exc.filename or folder
        raise StoreError(
            f"cannot save the cellector state: {where} cannot be written ({exc.strerror}); "
            "give a writable folder with --store DIR"
        ) from None
    with os.fdopen(fd, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# --------------------------------------------------------------------------- metadata and checksums


def _consistent(folder: Path, meta: dict) -> bool:
    for name, digest in meta.get("checksums", {}).items():
        f = folder / name
        if not f.is_file() or sha1(f) != digest:
            return False
    return True


# --------------------------------------------------------------------------- whole-state save/load


def save_state(
    root: str | Path,
    metadata: dict,
    features: dict[str, np.ndarray] | None = None,
    criteria: dict[str, tuple[float | None, float | None]] | None = None,
    manual_selection: np.ndarray | None = None,
    idx_selected: np.ndarray | None = None,
) -> Path:
    """Write the given parts of the state, then ``cellector.json`` with checksums.

    Parts passed as None are left as they are on disk (and keep their checksum).
    Returns the store folder.
    """
    for name in [*(features or {}), *(criteria or {})]:
        check_file_component(name)
    files: dict[str, np.ndarray] = {}
    for name, values in (features or {}).items():
        files[f"{name}_feature.npy"] = np.asarray(values)
    for name, bounds in (criteria or {}).items():
        files[f"{name}_featurecriteria.npy"] = encode_criterion(bounds)
    if manual_selection is not None:
        ms = as_boolean(manual_selection, "the manual selection")
        if ms.ndim != 2 or ms.shape[0] != 2:
            raise StoreError(f"manual selection must have shape (2, N), got {ms.shape}")
        files["manual_selection.npy"] = ms
    if idx_selected is not None:
        files["idx_selected.npy"] = as_boolean(idx_selected, "idx_selected")
    with locked(root) as folder:
        old = read_metadata(root) or {}
        _refuse_foreign(folder, old, metadata)
        snapshot(folder, old)
        # Mark the save in progress until the final metadata lands: a kill half way is
        # then never mistaken for a saved state (nor for files rewritten by someone else).
        marker = {_INCOMPLETE: ""} if not old else old.get("checksums", {})
        atomic_write_text(
            folder / METADATA,
            json.dumps(
                {**old, "format_version": FORMAT_VERSION, "checksums": marker, SAVING_FLAG: True}, default=_json
            ),
        )
        checksums = {k: v for k, v in old.get("checksums", {}).items() if k != _INCOMPLETE}
        for name, arr in files.items():
            atomic_save_npy(folder / name, arr)
            checksums[name] = sha1(folder / name)
        meta = {**old, **metadata, "format_version": FORMAT_VERSION, "checksums": checksums}
        meta.pop(SAVING_FLAG, None)
        atomic_write_text(folder / METADATA, json.dumps(meta, indent=1, sort_keys=True, default=_json))
    return folder


def _refuse_foreign(folder: Path, old: dict, metadata: dict) -> None:
    """Refuse to snapshot or overwrite a state saved for other ROIs than those ``metadata`` describes.

    Callers check the loaded state first (:func:`cellector.io.ownership.check_own`); this
    is the last line: whatever path a save takes, ``.previous/`` never receives, and no
    file replaces, a state that is not this folder's.
    """
    here = RoiIdentity.from_metadata(metadata)
    if here is None:
        return  # a save of the published API (no ROI identity): lengths are checked by its caller
    reason = mismatch(old or None, file_lengths(folder), here)
    if reason is not None:
        raise ForeignStateError(folder, reason)


def _json(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in metadata")


def snapshot(folder: Path, meta: dict) -> None:
    """Hard-link the current consistent state into ``.previous/`` (cheap, no copy).

    A folder written by the published package (no ``cellector.json``) is snapshotted
    too, with a metadata file made up of checksums of its ``.npy`` files.
    """
    if not meta:
        names = sorted(f.name for f in folder.glob("*.npy"))
        if not names:
            return
        meta = {
            "format_version": FORMAT_VERSION,
            "published_layout": True,
            "checksums": {n: sha1(folder / n) for n in names},
        }
    elif not _consistent(folder, meta):
        return
    prev = folder / ".previous"
    tmp = folder / ".previous.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _fill_snapshot(folder, tmp, meta)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a full disk leaves no half snapshot behind
        raise
    shutil.rmtree(prev, ignore_errors=True)
    os.replace(tmp, prev)


def _fill_snapshot(folder: Path, tmp: Path, meta: dict) -> None:
    tmp.mkdir()
    for name in meta.get("checksums", {}):
        src = folder / name
        if src.is_file() and not src.is_symlink():
            try:
                os.link(src, tmp / name, follow_symlinks=False)
            except OSError:
                shutil.copy2(src, tmp / name, follow_symlinks=False)
    (tmp / METADATA).write_text(json.dumps(meta, indent=1, sort_keys=True, default=_json), "utf-8")


def _changed_files(folder: Path, meta: dict) -> list[str]:
    """Files whose content differs from the checksum of the last save (or that are gone)."""
    out = []
    for name, digest in meta.get("checksums", {}).items():
        f = folder / name
        if name != _INCOMPLETE and (not f.is_file() or sha1(f) != digest):
            out.append(name)
    return out


def _state_folder(root: str | Path) -> tuple[Path | None, dict | None, list[str], list[str]]:
    """Find the folder holding the last whole state (None: nothing was ever saved).

    Returns the folder, its metadata, notes for the user, and the files that were
    rewritten by another program since our last save (their content is used as it is
    on disk, and the notes name each one).
    """
    folder = store_path(root)
    notes: list[str] = []
    meta = read_metadata(root)
    if meta is None:
        return folder, meta, notes, []
    changed = _changed_files(folder, meta)  # each file hashed once
    incomplete = _INCOMPLETE in meta.get("checksums", {})
    if not changed and not incomplete:
        return folder, meta, notes, []
    if meta.get(SAVING_FLAG) or incomplete:
        prev = folder / ".previous"
        prev_meta = read_metadata(root, prev) if prev.is_dir() else None
        if prev_meta is not None and _consistent(prev, prev_meta):
            notes.append("the last save was interrupted; loaded the state saved before it")
            if prev_meta.get("published_layout"):
                prev_meta = None  # files of the published package: no fingerprint to check
            return prev, prev_meta, notes, []
        if incomplete:
            notes.append("the first save into this folder was interrupted; nothing was saved")
            return None, None, notes, []
        notes.append("the last save was interrupted and no earlier whole state was kept: files used as they are")
        return folder, meta, notes, changed
    # Our saves are atomic and flagged: a file that differs now was written by another
    # program (the published cellector, a user's np.save). Use it as it is, and say so.
    notes.append(
        f"changed outside cellector since the last save: {', '.join(changed)} (used as on disk; save to record it)"
    )
    return folder, meta, notes, changed


@contextlib.contextmanager
def _shared_lock(root: str | Path) -> Iterator[None]:
    """Hold the store's lock shared while reading, so a load never sees half a save."""
    lock = store_path(root) / ".lock"
    try:
        fh = os.fdopen(_open_own(lock, os.O_RDONLY), "rb")
    except FileNotFoundError:  # never saved by us: read without the lock
        yield
        return
    except PermissionError:  # unreadable: read without the lock
        yield
        return
    with fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def load_state(root: str | Path) -> dict[str, Any]:
    """Load everything saved in ``<root>/cellector``.

    Returns
    -------
    dict
        ``metadata``, ``features``, ``criteria``, ``manual_selection``,
        ``idx_selected`` (None when absent), ``notes`` for the user, ``changed_outside``
        (the files another program rewrote since our last save) and ``consistent``
        (False when files do not match the checksums of the last save).
    """
    with _shared_lock(root):
        return _load_state(root)


def _load_state(root: str | Path) -> dict[str, Any]:
    folder, meta, notes, changed = _state_folder(root)
    if folder is None or not folder.is_dir():
        return {
            "metadata": None,
            "features": {},
            "criteria": {},
            "manual_selection": None,
            "idx_selected": None,
            "notes": notes,
            "consistent": True,
            "changed_outside": [],
        }
    if meta is None and legacy_files(folder):
        notes.append("this cellector folder uses legacy file names; run `cellector migrate` to rename them")
    features = load_features(folder)
    for name in [f for f in changed if f.endswith("_feature.npy")]:
        # cached values of unknown origin are never used: they are computed again
        features.pop(name[: -len("_feature.npy")], None)
    return {
        "metadata": meta,
        "features": features,
        "criteria": load_criteria(folder),
        "manual_selection": load_manual_selection(folder),
        "idx_selected": load_selected(folder),
        "notes": notes,
        "consistent": not changed,
        "changed_outside": changed,
    }
