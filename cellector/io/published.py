"""The published cellector's store functions (``cellector.io.save_criteria``, ...), safely.

Existing analysis scripts call these by name (see the compatibility page of the docs).
They keep the published names, arguments and return values, and go through our store:
every write is atomic, taken under the store's lock, checksummed in ``cellector.json``
and preceded by a ``.previous/`` snapshot, so a script's ``save_criteria`` can never
leave a half-written or corrupt state. Bad input raises a ``ValueError`` that names the
argument or the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from cellector.io import store
from cellector.utils import deprecated

__all__ = [
    "CRITERIA_EXTENSION",
    "FEATURE_EXTENSION",
    "MissingFileError",
    "clear_cellector_files",
    "criteria_path",
    "feature_path",
    "get_save_directory",
    "identify_feature_files",
    "idx_selected_path",
    "is_criteria_saved",
    "is_feature_saved",
    "is_idx_selected_saved",
    "is_manual_selection_saved",
    "load_criteria",
    "load_feature",
    "load_idx_selected",
    "load_manual_selection",
    "load_saved_criteria",
    "load_saved_feature",
    "manual_selection_path",
    "propagate_criteria",
    "save_criteria",
    "save_feature",
    "save_idx_selected",
    "save_manual_selection",
    "update_feature_paths",
    "update_idx_selection_filenames",
    "update_manual_selection_shape",
]

FEATURE_EXTENSION = "_feature"
CRITERIA_EXTENSION = "_featurecriteria"


class MissingFileError(store.StoreError, FileNotFoundError):
    """A file a script asked for was never saved (both a ``ValueError`` and a ``FileNotFoundError``)."""


# --------------------------------------------------------------------------- paths


def _where(root_dir: str | Path, store_dir: str | Path | None) -> Path:
    """Return the argument for the store module: the root, or the store folder itself."""
    return Path(root_dir) if store_dir is None else store.StoreDir(store_dir)


def get_save_directory(root_dir: str | Path, store_dir: str | Path | None = None) -> Path:
    """Return the folder holding the saved state: ``root_dir/cellector``, or ``store_dir`` when given.

    Every function of this module takes ``store_dir`` too (``cellector --store DIR``).
    """
    return store.store_path(_where(root_dir, store_dir))


def _name(name: Any, what: str = "name") -> str:
    if not isinstance(name, str) or not name or os.sep in name or name.startswith("."):
        raise ValueError(f"{what} must be a plain feature name (no path separators), got {name!r}")
    return name


def feature_path(root_dir: str | Path, name: str, store_dir: str | Path | None = None) -> Path:
    """Return the path of feature ``name``: ``root_dir/cellector/{name}_feature.npy``."""
    return get_save_directory(root_dir, store_dir) / f"{_name(name)}{FEATURE_EXTENSION}.npy"


def criteria_path(root_dir: str | Path, name: str, store_dir: str | Path | None = None) -> Path:
    """Return the path of ``name``'s criterion: ``root_dir/cellector/{name}_featurecriteria.npy``."""
    return get_save_directory(root_dir, store_dir) / f"{_name(name)}{CRITERIA_EXTENSION}.npy"


def manual_selection_path(root_dir: str | Path, store_dir: str | Path | None = None) -> Path:
    """Return the path of the manual labels: ``root_dir/cellector/manual_selection.npy``."""
    return get_save_directory(root_dir, store_dir) / "manual_selection.npy"


def idx_selected_path(root_dir: str | Path, store_dir: str | Path | None = None) -> Path:
    """Return the path of the final selection: ``root_dir/cellector/idx_selected.npy``."""
    return get_save_directory(root_dir, store_dir) / "idx_selected.npy"


# --------------------------------------------------------------------------- saving


def _n_saved(root_dir: str | Path, store_dir: str | Path | None = None) -> int | None:
    """Return the ROI count the saved state is about (None when nothing says)."""
    meta = store.read_metadata(_where(root_dir, store_dir)) or {}
    if isinstance(meta.get("n_rois"), int):
        return int(meta["n_rois"])
    folder = get_save_directory(root_dir, store_dir)
    for f in sorted(folder.glob(f"*{FEATURE_EXTENSION}.npy")) if folder.is_dir() else []:
        try:
            return int(np.load(f, mmap_mode="r").shape[0])
        except (OSError, ValueError, IndexError):
            continue  # unreadable: the store's own load reports it
    return None


def _check_length(root_dir: str | Path, store_dir: str | Path | None, n: int, what: str) -> None:
    saved = _n_saved(root_dir, store_dir)
    if saved is not None and saved != n:
        raise ValueError(
            f"{what} has {n} entries but the state saved in {get_save_directory(root_dir, store_dir)} has {saved}"
        )


def save_feature(root_dir: str | Path, name: str, feature: Any, store_dir: str | Path | None = None) -> None:
    """Save ``feature`` (one number per ROI) as ``{name}_feature.npy``, atomically.

    A feature saved this way carries no provenance: cellector recomputes its own default
    features rather than trust one written by a script.
    """
    store.check_feature_name(name)
    values = np.asarray(feature)
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.number):
        raise ValueError(f"feature {name!r} must be a 1-D numeric array, got {values.dtype} {values.shape}")
    _check_length(root_dir, store_dir, values.size, f"feature {name!r}")
    meta = store.read_metadata(_where(root_dir, store_dir)) or {}
    prov = {**meta.get("features", {}), _name(name): {"source": "external", "n": int(values.size)}}
    store.save_state(_where(root_dir, store_dir), {"features": prov}, features={name: values})


def save_criteria(root_dir: str | Path, name: str, criteria: Any, store_dir: str | Path | None = None) -> None:
    """Save ``[min, max]`` (None: no bound) as ``{name}_featurecriteria.npy``, atomically."""
    try:
        bounds = store.decode_criterion(np.asarray(list(criteria), dtype=object), f"criteria for {name!r}")
    except TypeError:
        raise ValueError(f"criteria for {name!r} must be [min, max], got {criteria!r}") from None
    store.save_state(_where(root_dir, store_dir), {}, criteria={store.check_feature_name(name): bounds})


def save_manual_selection(
    root_dir: str | Path, manual_labels: Any, manual_labels_active: Any, store_dir: str | Path | None = None
) -> None:
    """Save the manual labels and whether each is active as ``manual_selection.npy`` (bool (2, N))."""
    labels = np.asarray(manual_labels)
    active = np.asarray(manual_labels_active)
    if labels.ndim != 1 or labels.shape != active.shape:
        raise ValueError(
            f"manual_labels and manual_labels_active must be 1-D of the same length, got {labels.shape} "
            f"and {active.shape}"
        )
    _check_length(root_dir, store_dir, labels.size, "manual_labels")
    labels = store.as_boolean(labels, "manual_labels")
    active = store.as_boolean(active, "manual_labels_active")
    store.save_state(_where(root_dir, store_dir), {}, manual_selection=np.stack([labels, active]))


def save_idx_selected(root_dir: str | Path, idx_selected: Any, store_dir: str | Path | None = None) -> None:
    """Save the final selection (bool (N,)) as ``idx_selected.npy``."""
    sel = np.asarray(idx_selected)
    if sel.ndim != 1:
        raise ValueError(f"idx_selected must be 1-D (one bool per ROI), got shape {sel.shape}")
    _check_length(root_dir, store_dir, sel.size, "idx_selected")
    store.save_state(_where(root_dir, store_dir), {}, idx_selected=store.as_boolean(sel, "idx_selected"))


# --------------------------------------------------------------------------- loading


def _state(root_dir: str | Path, store_dir: str | Path | None) -> dict[str, Any]:
    return store.load_state(_where(root_dir, store_dir))


def _missing(path: Path, what: str) -> MissingFileError:
    return MissingFileError(f"{path}: no saved {what}")


def load_feature(root_dir: str | Path, name: str, store_dir: str | Path | None = None) -> np.ndarray:
    """Load the saved feature ``name`` (raises :class:`MissingFileError` when it was never saved)."""
    features = _state(root_dir, store_dir)["features"]
    if _name(name) not in features:
        raise _missing(feature_path(root_dir, name, store_dir), f"feature {name!r}")
    return features[name]


def load_criteria(root_dir: str | Path, name: str, store_dir: str | Path | None = None) -> np.ndarray:
    """Load ``name``'s criterion as a length-2 object array ``[min, max]`` (None: no bound)."""
    criteria = _state(root_dir, store_dir)["criteria"]
    if _name(name) not in criteria:
        raise _missing(criteria_path(root_dir, name, store_dir), f"criteria for {name!r}")
    return np.array(list(criteria[name]), dtype=object)


def load_manual_selection(root_dir: str | Path, store_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load the manual labels: ``(labels, active)``, bool (N,) each."""
    ms = _state(root_dir, store_dir)["manual_selection"]
    if ms is None:
        raise _missing(manual_selection_path(root_dir, store_dir), "manual selection")
    return ms[0].copy(), ms[1].copy()


def load_idx_selected(root_dir: str | Path, store_dir: str | Path | None = None) -> np.ndarray:
    """Load the final selection, bool (N,) (``idx_selection.npy`` and ``targetcell.npy`` too)."""
    sel = _state(root_dir, store_dir)["idx_selected"]
    if sel is None:
        raise _missing(idx_selected_path(root_dir, store_dir), "selection (idx_selected.npy)")
    return sel


def is_feature_saved(root_dir: str | Path, name: str, store_dir: str | Path | None = None) -> bool:
    """Return whether feature ``name`` is saved."""
    return feature_path(root_dir, name, store_dir).is_file()


def is_criteria_saved(root_dir: str | Path, name: str, store_dir: str | Path | None = None) -> bool:
    """Return whether ``name``'s criterion is saved."""
    return criteria_path(root_dir, name, store_dir).is_file()


def is_manual_selection_saved(root_dir: str | Path, store_dir: str | Path | None = None) -> bool:
    """Return whether manual labels are saved."""
    return manual_selection_path(root_dir, store_dir).is_file()


def is_idx_selected_saved(root_dir: str | Path, store_dir: str | Path | None = None) -> bool:
    """Return whether a final selection is saved (under any of its names)."""
    folder = get_save_directory(root_dir, store_dir)
    return any((folder / n).is_file() for n in ("idx_selected.npy", "idx_selection.npy", "targetcell.npy"))


@deprecated("use load_feature")
def load_saved_feature(root_dir: str | Path, name: str, store_dir: str | Path | None = None) -> np.ndarray:
    """Load a saved feature (deprecated alias of :func:`load_feature`)."""
    return load_feature(root_dir, name, store_dir)


@deprecated("use load_criteria")
def load_saved_criteria(root_dir: str | Path, name: str, store_dir: str | Path | None = None) -> np.ndarray:
    """Load a saved criterion (deprecated alias of :func:`load_criteria`)."""
    return load_criteria(root_dir, name, store_dir)


# --------------------------------------------------------------------------- operations


def clear_cellector_files(root_dir: str | Path, store_dir: str | Path | None = None) -> None:
    """Delete the saved state (features, criteria, labels, selection, metadata).

    The files are first kept in ``cellector/.previous/`` (the store's snapshot), so a
    mistaken clear can be undone by hand.
    """
    store.clear_state(_where(root_dir, store_dir))


def identify_feature_files(
    root_dir: str | Path, criteria: bool = True, store_dir: str | Path | None = None
) -> list[str]:
    """Return the names of the saved criteria (``criteria=True``) or of the saved features."""
    folder = get_save_directory(root_dir, store_dir)
    ext = CRITERIA_EXTENSION if criteria else FEATURE_EXTENSION
    suffix = f"{ext}.npy"
    return sorted(f.name[: -len(suffix)] for f in folder.glob(f"*{suffix}")) if folder.is_dir() else []


def propagate_criteria(
    root_dir: str | Path, *target_dirs: str | Path, store_dir: str | Path | None = None
) -> tuple[dict[str, list[str]], dict[str, Exception]]:
    """Copy every criterion saved in ``root_dir`` to each target folder.

    ``store_dir`` is where ``root_dir``'s state is kept, when not ``root_dir/cellector``;
    each target's criteria go to ``target/cellector``.

    Returns
    -------
    successful : dict
        Target (as given, ``str``) -> names of the criteria copied there.
    unsuccessful : dict
        Target -> the exception that stopped it (the other targets go on).

    Notes
    -----
    Only the criteria files are copied, as in the published package (whose version
    crashed on criteria holding None). To also recompute and save each target's
    selection, use :func:`cellector.study.propagate.propagate_criteria` or
    ``cellector apply``.
    """
    criteria = _state(root_dir, store_dir)["criteria"]
    if not criteria:
        raise ValueError(f"{get_save_directory(root_dir, store_dir)} has no saved criteria to propagate")
    successful: dict[str, list[str]] = {}
    unsuccessful: dict[str, Exception] = {}
    for target in target_dirs:
        try:
            store.save_state(target, {}, criteria=criteria)
            successful[str(target)] = sorted(criteria)
        except (ValueError, OSError) as exc:
            unsuccessful[str(target)] = exc
    return successful, unsuccessful


def _each(root_dirs: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(root_dirs, (str, Path)):
        return [Path(root_dirs)]
    return [Path(r) for r in root_dirs]


def update_feature_paths(root_dirs: str | Path | Iterable[str | Path], remove_old: bool = True) -> list[str]:
    """Rename legacy ``{name}.npy`` / ``{name}_criteria.npy`` files to the current names.

    Returns what was done, one line per file.
    """
    return [line for r in _each(root_dirs) for line in store.migrate(r, ("features",), remove_old)]


def update_manual_selection_shape(root_dirs: str | Path | Iterable[str | Path]) -> list[str]:
    """Rewrite a legacy ``(N, 2)`` ``manual_selection.npy`` as ``(2, N)``; returns what was done."""
    return [line for r in _each(root_dirs) for line in store.migrate(r, ("manual",), True)]


def update_idx_selection_filenames(root_dirs: str | Path | Iterable[str | Path]) -> list[str]:
    """Rename the legacy ``targetcell.npy`` to ``idx_selected.npy``; returns what was done."""
    return [line for r in _each(root_dirs) for line in store.migrate(r, ("selection",), True)]
