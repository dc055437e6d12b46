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
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_replace_with, atomic_save_npy, atomic_write_text, fsync_dir
from .safe_load import safe_load_npy

__all__ = [
    "METADATA",
    "STORE_DIR",
    "StoreDir",
    "StoreError",
    "append_line",
    "as_boolean",
    "atomic_replace_with",
    "atomic_save_npy",
    "atomic_write_text",
    "check_feature_name",
    "clear_state",
    "decode_criterion",
    "encode_criterion",
    "fallback_store",
    "legacy_files",
    "load_criteria",
    "load_features",
    "load_manual_selection",
    "load_selected",
    "load_state",
    "locked",
    "migrate",
    "read_metadata",
    "resolve_store",
    "save_state",
    "store_path",
]

STORE_DIR = "cellector"
METADATA = "cellector.json"
FORMAT_VERSION = 1
_INCOMPLETE = ".incomplete"  # checksum entry of a first save that has not finished
_SAVING = "save_in_progress"  # metadata flag while a save writes its files
_CRITERIA = re.compile(r"^(.+)_featurecriteria\.npy$")


class StoreError(ValueError):
    """The ``cellector/`` folder holds something we cannot use; the message says what."""


class StoreDir(type(Path())):  # type: ignore[misc]  # the concrete Path class of this platform
    """A path that is itself a store folder, not a root holding ``cellector/``.

    Every function of this module takes either a root (its store is ``<root>/cellector``)
    or a ``StoreDir`` (the store is that folder): ``--store DIR`` and read-only folders
    whose state lives elsewhere use the same code.
    """


def store_path(root: str | Path) -> Path:
    """Return the store folder of ``root``: ``<root>/cellector``, or ``root`` itself for a :class:`StoreDir`."""
    return root if isinstance(root, StoreDir) else Path(root) / STORE_DIR


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


def resolve_store(root: str | Path, store_dir: str | Path | None = None) -> tuple[StoreDir, str | None]:
    """Return where the state of ``root`` is kept, and a note for the user when it is not the default.

    ``store_dir`` (``--store DIR``) wins. Otherwise ``<root>/cellector``, unless that
    cannot be written (an archive, a colleague's folder): then :func:`fallback_store`,
    first seeded with a copy of whatever state the read-only folder holds.
    """
    if store_dir is not None:
        return StoreDir(Path(store_dir).expanduser()), None
    default = StoreDir(store_path(root))
    if _writable(default):
        return default, None
    other = fallback_store(root)
    _seed(default, other)
    return other, f"{Path(root)} cannot be written: the cellector state is kept in {other}"


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
    folder.mkdir(parents=True, exist_ok=True)
    with os.fdopen(_open_own(folder / ".lock", os.O_RDWR | os.O_CREAT), "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# --------------------------------------------------------------------------- criteria encoding


def encode_criterion(bounds: tuple[float | None, float | None]) -> np.ndarray:
    """``[min, max]`` as the published file: float64 (2,), or an object array holding None."""
    lo, hi = bounds
    if lo is not None and hi is not None:
        return np.array([lo, hi], dtype=np.float64)
    return np.array([None if lo is None else float(lo), None if hi is None else float(hi)], dtype=object)


def decode_criterion(arr: Any, name: str = "criterion") -> tuple[float | None, float | None]:
    """Validate a loaded criteria array: two entries, each None or a finite number."""
    a = np.asarray(arr, dtype=object) if not isinstance(arr, np.ndarray) else arr
    if a.shape != (2,):
        raise StoreError(f"{name}: a criterion must hold 2 values [min, max], got shape {a.shape}")
    out: list[float | None] = []
    for v in a.tolist():
        if v is None:
            out.append(None)
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v):
            out.append(float(v))
        elif isinstance(v, float) and np.isnan(v):
            out.append(None)  # some writers store an unused side as NaN
        else:
            raise StoreError(f"{name}: criterion values must be numbers or None, got {v!r}")
    if out[0] is not None and out[1] is not None and out[0] > out[1]:
        raise StoreError(f"{name}: criterion min {out[0]} exceeds max {out[1]}")
    return out[0], out[1]


# --------------------------------------------------------------------------- metadata and checksums


def _sha1(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_metadata(root: str | Path, folder: Path | None = None) -> dict | None:
    """Our ``cellector.json``, or None when the folder was written by the published package."""
    path = (folder or store_path(root)) / METADATA
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path}: unreadable metadata ({exc})") from None
    if not isinstance(meta, dict):
        raise StoreError(f"{path}: metadata is not a JSON object")
    problem = _metadata_problem(meta)
    if problem is not None:
        raise StoreError(f"{path}: {problem} (edited by hand? remove the file to start again from the .npy files)")
    return meta


# The fields a load relies on, with the JSON types they must have (a "str" map is str -> str).
_META_TYPES: dict[str, tuple[type, ...]] = {
    "format_version": (int,),
    "checksums": (dict,),
    "features": (dict,),
    "parameters": (dict,),
    "n_rois": (int,),
    "n_selected": (int,),
    "labels_roi_fingerprint": (str, type(None)),
    "roi_fingerprint": (str, type(None)),
    "plane_counts": (list,),
    "planes": (list,),
    "reference_key": (str,),
    "functional_key": (str, type(None)),
    _SAVING: (bool,),
}


def _metadata_problem(meta: dict) -> str | None:
    """Say which field of ``cellector.json`` has the wrong type, or return None."""
    for key, types in _META_TYPES.items():
        value = meta.get(key, types[0]())
        if not isinstance(value, types) or (types == (int,) and isinstance(value, bool)):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            return f"field {key!r} is {type(value).__name__}, expected {expected}"
    bad = [k for k, v in meta.get("checksums", {}).items() if not isinstance(v, str)]
    if bad:
        return f"checksum of {bad[0]!r} is not a string"
    bad = [k for k, v in meta.get("features", {}).items() if not isinstance(v, dict)]
    if bad:
        return f"provenance of feature {bad[0]!r} is not an object"
    return None


def _consistent(folder: Path, meta: dict) -> bool:
    for name, digest in meta.get("checksums", {}).items():
        f = folder / name
        if not f.is_file() or _sha1(f) != digest:
            return False
    return True


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_feature_name(name: Any) -> str:
    """Return ``name`` if it can name a feature (and so a file in the store), else raise.

    Letters, digits and underscores, not starting with a digit: a name can never
    reach outside the store (``../plane0/x``, ``/etc/x``) nor hide a file (``.x``).
    """
    if not isinstance(name, str) or _NAME.match(name) is None:
        raise _bad_name(name)
    return name


def _bad_name(name: Any) -> StoreError:
    return StoreError(
        f"invalid feature name {name!r}: a plain feature name has letters, digits, underscores (e.g. 'my_feature')"
    )


def _check_file_component(name: Any) -> None:
    """Refuse a name that would make a path (the last line of defence; names read from files may be odd)."""
    if not isinstance(name, str) or not name or name.startswith(".") or any(c in name for c in "/\\\0"):
        raise _bad_name(name)


def as_boolean(arr: Any, what: str) -> np.ndarray:
    """Return ``arr`` as a bool array if it holds only booleans or 0/1, else raise.

    A selection of probabilities or scores must never be cast (every non-zero value
    would become True: everything selected).
    """
    a = np.asarray(arr)
    if a.dtype == bool:
        return a
    if a.dtype == object or not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise StoreError(f"{what} must be boolean (True/False or 0/1), got dtype {a.dtype}")
    other = a[(a != 0) & (a != 1)]
    if other.size:
        raise StoreError(
            f"{what} must be boolean (True/False or 0/1), but holds {other.size} other values "
            f"(e.g. {other.flat[0]!r}); threshold it first, e.g. probabilities > 0.5"
        )
    return a.astype(bool)


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
        _check_file_component(name)
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
        _snapshot(folder, old)
        # Mark the save in progress until the final metadata lands: a kill half way is
        # then never mistaken for a saved state (nor for files rewritten by someone else).
        marker = {_INCOMPLETE: ""} if not old else old.get("checksums", {})
        atomic_write_text(
            folder / METADATA,
            json.dumps({**old, "format_version": FORMAT_VERSION, "checksums": marker, _SAVING: True}, default=_json),
        )
        checksums = {k: v for k, v in old.get("checksums", {}).items() if k != _INCOMPLETE}
        for name, arr in files.items():
            atomic_save_npy(folder / name, arr)
            checksums[name] = _sha1(folder / name)
        meta = {**old, **metadata, "format_version": FORMAT_VERSION, "checksums": checksums}
        meta.pop(_SAVING, None)
        atomic_write_text(folder / METADATA, json.dumps(meta, indent=1, sort_keys=True, default=_json))
    return folder


def _json(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in metadata")


def _snapshot(folder: Path, meta: dict) -> None:
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
            "checksums": {n: _sha1(folder / n) for n in names},
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
        if name != _INCOMPLETE and (not f.is_file() or _sha1(f) != digest):
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
    if meta.get(_SAVING) or incomplete:
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


def _npy(path: Path, what: str) -> Any:
    try:
        return safe_load_npy(path)
    except ValueError as exc:
        raise StoreError(f"{what}: {exc}") from None


def load_features(folder: Path) -> dict[str, np.ndarray]:
    """``{name}_feature.npy`` (and legacy ``{name}.npy`` for known features)."""
    out = {}
    for f in sorted(folder.glob("*_feature.npy")):
        arr = np.asarray(_npy(f, f.name))
        numeric = np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
        if arr.ndim != 1 or not numeric:
            raise StoreError(f"{f.name}: a feature must be a 1-D array of numbers, got {arr.dtype} {arr.shape}")
        out[f.name[: -len("_feature.npy")]] = arr
    for name in _LEGACY_FEATURES:
        if name not in out and (folder / f"{name}.npy").is_file():
            out[name] = np.asarray(_npy(folder / f"{name}.npy", f"{name}.npy"))
    return out


def load_criteria(folder: Path) -> dict[str, tuple[float | None, float | None]]:
    """``{name}_featurecriteria.npy`` (legacy ``{name}_criteria.npy``), validated."""
    out = {}
    legacy = {}
    for f in sorted(folder.glob("*criteria.npy")):
        m = _CRITERIA.match(f.name)
        if m:
            out[m.group(1)] = decode_criterion(_npy(f, f.name), f.name)
        elif f.name.endswith("_criteria.npy"):
            legacy[f.name[: -len("_criteria.npy")]] = f
    for name, f in legacy.items():
        if name not in out:
            out[name] = decode_criterion(_npy(f, f.name), f.name)
    return out


def load_manual_selection(folder: Path) -> np.ndarray | None:
    """``manual_selection.npy`` as bool (2, N); legacy (N, 2) is transposed."""
    f = folder / "manual_selection.npy"
    if not f.is_file():
        return None
    arr = np.asarray(_npy(f, f.name))
    if arr.ndim == 2 and arr.shape[0] != 2 and arr.shape[1] == 2:
        arr = arr.T
    if arr.ndim != 2 or arr.shape[0] != 2 or arr.dtype == object:
        raise StoreError(f"manual_selection.npy has shape {arr.shape}; expected (2, N)")
    return arr.astype(bool)


def load_selected(folder: Path) -> np.ndarray | None:
    """``idx_selected.npy`` (or ``idx_selection.npy``, legacy ``targetcell.npy``)."""
    for name in ("idx_selected.npy", "idx_selection.npy", "targetcell.npy"):
        if (folder / name).is_file():
            arr = np.asarray(_npy(folder / name, name))
            if arr.ndim != 1:
                raise StoreError(f"{name} has shape {arr.shape}; expected (N,)")
            return as_boolean(arr, f"{folder / name}")
    return None


# --------------------------------------------------------------------------- legacy names

_LEGACY_FEATURES = ("phase_corr", "dot_product", "corr_coef", "in_vs_out", "red_s2p", "functional_dot_product")


def legacy_files(folder: Path) -> dict[str, str]:
    """Legacy file name -> current name, for the files present in ``folder``."""
    moves = {}
    if (folder / "targetcell.npy").is_file() and not (folder / "idx_selected.npy").is_file():
        moves["targetcell.npy"] = "idx_selected.npy"
    for name in _LEGACY_FEATURES:
        if (folder / f"{name}.npy").is_file() and not (folder / f"{name}_feature.npy").is_file():
            moves[f"{name}.npy"] = f"{name}_feature.npy"
    for f in folder.glob("*_criteria.npy"):
        if not f.name.endswith("_featurecriteria.npy"):
            new = f.name[: -len("_criteria.npy")] + "_featurecriteria.npy"
            if not (folder / new).is_file():
                moves[f.name] = new
    ms = folder / "manual_selection.npy"
    if ms.is_file():
        arr = np.asarray(_npy(ms, ms.name))
        if arr.ndim == 2 and arr.shape[0] != 2 and arr.shape[1] == 2:
            moves["manual_selection.npy"] = "manual_selection.npy"
    return moves


def _legacy_kind(old: str) -> str:
    return {"targetcell.npy": "selection", "manual_selection.npy": "manual"}.get(old, "features")


def migrate(
    root: str | Path, parts: Iterable[str] = ("features", "manual", "selection"), remove_old: bool = True
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
        _npy(folder / old, old)  # a file we would refuse is refused before anything is written
    with locked(root) as folder:
        moves = {o: n for o, n in legacy_files(folder).items() if _legacy_kind(o) in wanted}
        if not moves:
            return done
        meta = read_metadata(root)
        _snapshot(folder, meta or {})
        for old, new in moves.items():
            arr = _npy(folder / old, old)
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
            sums.update({n: _sha1(folder / n) for n in moves.values()})
            atomic_write_text(folder / METADATA, json.dumps({**meta, "checksums": sums}, indent=1, sort_keys=True))
    return done


#: Files of a state (besides the .npy files) that a clear removes.
_STATE_FILES = (METADATA, ".journal.jsonl")


def clear_state(root: str | Path) -> list[str]:
    """Delete the saved state in ``<root>/cellector`` after snapshotting it into ``.previous/``.

    Returns the names of the files removed (the lock file and the snapshot stay).
    """
    if not store_path(root).is_dir():
        return []
    with locked(root) as folder:
        _snapshot(folder, read_metadata(root) or {})
        gone = sorted(
            f.name for f in folder.iterdir() if f.is_file() and (f.suffix == ".npy" or f.name in _STATE_FILES)
        )
        for name in gone:
            (folder / name).unlink()
        fsync_dir(folder)
    return gone
