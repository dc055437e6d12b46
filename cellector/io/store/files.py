"""The files of a ``cellector/`` store: their names, how criteria are encoded, reading one file.

Nothing here writes (:mod:`cellector.io.store` does, atomically and under its lock).
Every reader validates what it reads and raises :class:`StoreError` with the file's
name; pickled criteria files go through the restricted loader.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from cellector.io.safe_load import safe_load_npy

__all__ = [
    "METADATA",
    "SAVING_FLAG",
    "STORE_DIR",
    "StoreDir",
    "StoreError",
    "as_boolean",
    "check_feature_name",
    "check_file_component",
    "decode_criterion",
    "encode_criterion",
    "legacy_files",
    "load_criteria",
    "load_features",
    "load_manual_selection",
    "load_npy",
    "load_selected",
    "read_metadata",
    "sha1",
    "store_path",
]

STORE_DIR = "cellector"
METADATA = "cellector.json"
SAVING_FLAG = "save_in_progress"  # metadata flag while a save writes its files
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


def check_file_component(name: Any) -> None:
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


# --------------------------------------------------------------------------- reading one file


def sha1(path: Path) -> str:
    """Return the SHA-1 of a file's bytes (read in 1 MB blocks), as the checksums in ``cellector.json``."""
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
    "criteria_origin": (str, type(None)),
    "estimate": (dict, type(None)),
    SAVING_FLAG: (bool,),
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


def load_npy(path: Path, what: str) -> Any:
    """Load a store file with the restricted loader; a refused file raises :class:`StoreError` naming ``what``."""
    try:
        return safe_load_npy(path)
    except ValueError as exc:
        raise StoreError(f"{what}: {exc}") from None


def load_features(folder: Path) -> dict[str, np.ndarray]:
    """``{name}_feature.npy`` (and legacy ``{name}.npy`` for known features)."""
    out = {}
    for f in sorted(folder.glob("*_feature.npy")):
        arr = np.asarray(load_npy(f, f.name))
        numeric = np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
        if arr.ndim != 1 or not numeric:
            raise StoreError(f"{f.name}: a feature must be a 1-D array of numbers, got {arr.dtype} {arr.shape}")
        out[f.name[: -len("_feature.npy")]] = arr
    for name in _LEGACY_FEATURES:
        if name not in out and (folder / f"{name}.npy").is_file():
            out[name] = np.asarray(load_npy(folder / f"{name}.npy", f"{name}.npy"))
    return out


def load_criteria(folder: Path) -> dict[str, tuple[float | None, float | None]]:
    """``{name}_featurecriteria.npy`` (legacy ``{name}_criteria.npy``), validated."""
    out = {}
    legacy = {}
    for f in sorted(folder.glob("*criteria.npy")):
        m = _CRITERIA.match(f.name)
        if m:
            out[m.group(1)] = decode_criterion(load_npy(f, f.name), f.name)
        elif f.name.endswith("_criteria.npy"):
            legacy[f.name[: -len("_criteria.npy")]] = f
    for name, f in legacy.items():
        if name not in out:
            out[name] = decode_criterion(load_npy(f, f.name), f.name)
    return out


def load_manual_selection(folder: Path) -> np.ndarray | None:
    """``manual_selection.npy`` as bool (2, N); legacy (N, 2) is transposed."""
    f = folder / "manual_selection.npy"
    if not f.is_file():
        return None
    arr = np.asarray(load_npy(f, f.name))
    if arr.ndim == 2 and arr.shape[0] != 2 and arr.shape[1] == 2:
        arr = arr.T
    if arr.ndim != 2 or arr.shape[0] != 2 or arr.dtype == object:
        raise StoreError(f"manual_selection.npy has shape {arr.shape}; expected (2, N)")
    return arr.astype(bool)


def load_selected(folder: Path) -> np.ndarray | None:
    """``idx_selected.npy`` (or ``idx_selection.npy``, legacy ``targetcell.npy``)."""
    for name in ("idx_selected.npy", "idx_selection.npy", "targetcell.npy"):
        if (folder / name).is_file():
            arr = np.asarray(load_npy(folder / name, name))
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
        arr = np.asarray(load_npy(ms, ms.name))
        if arr.ndim == 2 and arr.shape[0] != 2 and arr.shape[1] == 2:
            moves["manual_selection.npy"] = "manual_selection.npy"
    return moves
