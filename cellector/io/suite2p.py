"""The only module that reads suite2p's files (see spec/suite2p.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cellector._shared.memory import small_pages
from cellector.features.rois import RoiSet, pixel_fingerprint
from cellector.io.images import PlaneImages, image_keys, image_problem
from cellector.io.ownership import RoiIdentity
from cellector.io.safe_load import safe_load_npy

__all__ = [
    "FALLBACK_REFERENCES",
    "SUITE2P_FILES",
    "Session",
    "Suite2pError",
    "find_planes",
    "is_plane_folder",
    "is_suite2p_file",
    "load_suite2p",
    "read_identity",
]

_META_FILES = ("db.npy", "settings.npy", "reg_outputs.npy", "detect_outputs.npy")
_PLANE = re.compile(r"^plane(\d+)$")

#: The files suite2p writes into a plane folder (0.14 and 1.x); cellector never writes one.
SUITE2P_FILES = frozenset(
    {
        "stat.npy",
        "ops.npy",
        "ops1.npy",
        "iscell.npy",
        "redcell.npy",
        "F.npy",
        "Fneu.npy",
        "F_chan2.npy",
        "Fneu_chan2.npy",
        "spks.npy",
        "Fall.mat",
        "stat_orig.npy",
        "iscell_manual.npy",
        "redcell_manual.npy",
        *_META_FILES,
    }
)
_SUITE2P_BINARY = re.compile(r"^data(_raw)?(_chan2)?(_raw)?\.bin$")
_PLANE_MARKERS = ("stat.npy", "ops.npy", "F.npy", "iscell.npy", "data.bin", *_META_FILES)


def is_suite2p_file(name: str) -> bool:
    """Whether ``name`` is the name of a file suite2p writes (``stat.npy``, ``data.bin``, ...)."""
    return name in SUITE2P_FILES or _SUITE2P_BINARY.match(name) is not None


def is_plane_folder(folder: Path) -> bool:
    """Whether ``folder`` is a suite2p plane folder: ``planeN``/``combined`` or one that holds suite2p's files."""
    if _PLANE.match(folder.name) or (folder.name == "combined" and (folder.parent / "plane0").is_dir()):
        return True
    return any((folder / name).exists() for name in _PLANE_MARKERS)


class Suite2pError(ValueError):
    """A folder is not a readable suite2p output folder; the message says why."""


@dataclass
class Session:
    """Everything cellector needs from a suite2p folder, in ROI order.

    Attributes
    ----------
    root : Path
        The suite2p folder (``<root>/cellector/`` holds our results).
    planes : list of str
        Plane folder names in ROI order (natural sort).
    rois : RoiSet
        The ROIs processed (all, or the iscell subset).
    images : PlaneImages
        ``(lz, ly, lx)`` float32 stacks of every 2-D image key present in every plane
        (a mapping; each stack is built when first asked for).
    reference_key, functional_key : str or None
        Keys used as reference and functional reference.
    plane_counts : list of int
        ROIs per plane in ``stat.npy`` (before any iscell restriction).
    suite2p_index : ndarray of int64
        Index of each processed ROI inside its plane's ``stat.npy``.
    roi_plane : ndarray of int64
        Plane (position in ``planes``) of each processed ROI.
    iscell : ndarray or None
        ``(N, 2)`` iscell rows of the processed ROIs.
    red_s2p : ndarray or None
        suite2p's red probability (``redcell[:, 1]``) when every plane has it.
    covered : str
        ``"all"`` or ``"iscell"``: which ROIs the arrays cover.
    messages : list of str
        Notes for the user (e.g. a missing functional image).
    reference_note : str or None
        Why the reference is not the key asked for (``fallback_reference``), else None.
    """

    root: Path
    planes: list[str]
    rois: RoiSet
    images: Mapping[str, np.ndarray]
    reference_key: str
    functional_key: str | None
    plane_counts: list[int]
    suite2p_index: np.ndarray
    roi_plane: np.ndarray
    iscell: np.ndarray | None
    red_s2p: np.ndarray | None
    covered: str = "all"
    messages: list[str] = field(default_factory=list)
    reference_note: str | None = None

    @property
    def reference(self) -> np.ndarray:
        """The reference stack ``(lz, ly, lx)``."""
        return self.images[self.reference_key]

    @property
    def functional_reference(self) -> np.ndarray | None:
        """The functional reference stack, or None."""
        return None if self.functional_key is None else self.images[self.functional_key]

    def identity(self) -> RoiIdentity:
        """Return the identity of the processed ROIs (what a saved state must match to be this folder's)."""
        return RoiIdentity(
            self.rois.n_rois, self.rois.fingerprint(), tuple(self.planes), tuple(self.plane_counts), self.covered
        )


def read_identity(path: str | Path, covered: str = "all") -> RoiIdentity:
    """Return the identity of a folder's ROIs from ``stat.npy`` (and ``iscell.npy``) alone, reading no image.

    ``covered`` is ``"all"`` or ``"iscell"`` (suite2p's cells only). The fingerprint
    equals :meth:`Session.identity`'s for the same folder and coverage.
    """
    _, planes = find_planes(path)
    npix, ys, xs, counts = [], [], [], []
    for plane in planes:
        py, px, _ = _stat_lists(_load(plane / "stat.npy", "ROI file"), plane)
        counts.append(len(py))
        keep: Any = range(len(py))
        if covered == "iscell":
            rows = _rows(plane, "iscell.npy", len(py))
            if rows is None:
                raise Suite2pError(f"{plane.name}: iscell.npy is missing, cannot restrict to suite2p cells")
            keep = np.flatnonzero(rows[:, 0] == 1)
        for i in keep:
            ys.append(np.ravel(py[i]))
            xs.append(np.ravel(px[i]))
            npix.append(ys[-1].size)
    cat = [np.concatenate(a) if a else np.zeros(0, np.int32) for a in (ys, xs)]
    fingerprint = pixel_fingerprint(np.asarray(npix, np.int64), cat[0], cat[1])
    return RoiIdentity(len(npix), fingerprint, tuple(p.name for p in planes), tuple(counts), covered)


def _natural_planes(folder: Path) -> list[Path]:
    found = [(int(m.group(1)), p) for p in folder.iterdir() if p.is_dir() and (m := _PLANE.match(p.name))]
    return [p for _, p in sorted(found)]


def find_planes(path: str | Path) -> tuple[Path, list[Path]]:
    """Locate the suite2p root and its plane folders (natural order, ``combined`` skipped).

    ``path`` may be the suite2p folder, a single plane folder (``stat.npy`` inside) or
    the parent of ``suite2p/``.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise Suite2pError(f"{path} does not exist")
    if not path.is_dir():
        raise Suite2pError(f"{path} is not a folder")
    if (path / "stat.npy").is_file():
        return path, [path]
    planes = _natural_planes(path)
    if not planes and (path / "suite2p").is_dir():
        return find_planes(path / "suite2p")
    if not planes:
        raise Suite2pError(f"{path} is not a suite2p folder (no plane0, plane1, ... folders and no stat.npy)")
    return path, planes


def _load(path: Path, what: str) -> Any:
    if not path.is_file():
        raise Suite2pError(f"{path.parent.name}: {what} {path.name} is missing")
    try:
        return safe_load_npy(path)
    except ValueError as exc:
        raise Suite2pError(str(exc)) from None


def _ops(plane: Path) -> tuple[dict, dict[str, str]]:
    """ops.npy, else the 1.x files merged (later ones win); never images from db.

    Returns the metadata and, for each key, the file it came from (for messages).
    """
    if (plane / "ops.npy").is_file():
        ops = _as_dict(_load(plane / "ops.npy", "metadata file"), plane / "ops.npy")
        return ops, dict.fromkeys(ops, "ops.npy")
    merged: dict = {}
    origin: dict[str, str] = {}
    present = [f for f in _META_FILES if (plane / f).is_file()]
    if not present:
        raise Suite2pError(f"{plane.name}: neither ops.npy nor the suite2p 1.x files ({', '.join(_META_FILES)}) exist")
    for name in present:
        d = _as_dict(_load(plane / name, "metadata file"), plane / name)
        if name == "db.npy":  # db images are pre-registration: never use them
            d = {k: v for k, v in d.items() if not (isinstance(v, np.ndarray) and v.ndim == 2)}
        merged.update(d)
        origin.update(dict.fromkeys(d, name))
    return merged, origin


def _as_dict(obj: Any, path: Path) -> dict:
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        obj = obj.item()
    if not isinstance(obj, dict):
        raise Suite2pError(f"{path}: expected a pickled dict, got {type(obj).__name__}")
    return obj


#: What a single-channel folder is shown with when it has no ``meanImg_chan2``, in order.
FALLBACK_REFERENCES = ("meanImg_chan2_corrected", "meanImg", "meanImgE", "max_proj")


def _fallback(wanted: str, keys: set[str]) -> tuple[str, str]:
    """Return the key to show instead of a missing ``wanted`` one, and the note that says so."""
    if not keys:
        raise Suite2pError(f"no full-frame image in every plane to use as a reference (no '{wanted}')")
    ordered = sorted(keys)
    key = next((k for k in FALLBACK_REFERENCES if k in keys), ordered[0])
    note = (
        f"no '{wanted}' image (a single-channel recording?): showing '{key}' instead; "
        f"choose the reference image in the dock ({', '.join(ordered)})"
    )
    return key, note


def _frame(ops: dict, plane: Path) -> tuple[int, int]:
    if "Ly" in ops and "Lx" in ops:
        return int(ops["Ly"]), int(ops["Lx"])
    for key in ("meanImg", "refImg"):
        if isinstance(ops.get(key), np.ndarray) and ops[key].ndim == 2:
            return ops[key].shape
    raise Suite2pError(f"{plane.name}: the metadata gives no frame size (Ly/Lx)")


def _stat_lists(stat: Any, plane: Path):
    if not (isinstance(stat, np.ndarray) and stat.ndim == 1):
        raise Suite2pError(f"{plane.name}/stat.npy: expected a 1-D array of ROI dicts")
    ys, xs, ls = [], [], []
    for i, roi in enumerate(stat):
        if not (isinstance(roi, dict) and "ypix" in roi and "xpix" in roi and "lam" in roi):
            raise _bad_roi(plane, i, roi)
        ys.append(roi["ypix"])
        xs.append(roi["xpix"])
        ls.append(roi["lam"])
    return ys, xs, ls


def _bad_roi(plane: Path, i: int, roi: Any) -> Suite2pError:
    if not isinstance(roi, dict):
        return Suite2pError(f"{plane.name}/stat.npy: ROI {i} is not a dict")
    missing = [k for k in ("ypix", "xpix", "lam") if k not in roi]
    return Suite2pError(f"{plane.name}/stat.npy: ROI {i} has no {', '.join(missing)}")


def _rows(plane: Path, name: str, n: int) -> np.ndarray | None:
    if not (plane / name).is_file():
        return None
    arr = np.asarray(_load(plane / name, name))
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] < 2 or arr.dtype == object:
        raise Suite2pError(f"{plane.name}/{name} has shape {arr.shape}, expected ({n}, 2) to match stat.npy")
    return arr.astype(np.float64)


def _read_plane(plane: Path):
    """``(ops, ypix, xpix, lam, iscell, redcell, frame shape)`` of one plane folder."""
    ops, origin = _ops(plane)
    frame = _frame(ops, plane)
    ys, xs, ls = _stat_lists(_load(plane / "stat.npy", "ROI file"), plane)
    n = len(ys)
    return ops, ys, xs, ls, _rows(plane, "iscell.npy", n), _rows(plane, "redcell.npy", n), origin, frame


def _malformed(per_plane: list, origins: list[dict[str, str]], key: str, shape: tuple[int, int]) -> str | None:
    """``'plane0/ops.npy: 'key' is ...'`` for the first plane whose ``key`` is there but unusable."""
    for (plane, ops, *_), origin in zip(per_plane, origins, strict=True):
        if key in ops and (problem := image_problem(ops[key], shape)) is not None:
            return f"{plane.name}/{origin[key]}: '{key}' is {problem}"
    return None


@small_pages()
def load_suite2p(
    path: str | Path,
    reference_key: str = "meanImg_chan2",
    functional_key: str | None = "meanImg",
    iscell_only: bool = False,
    fallback_reference: bool = False,
    functional_required: bool = False,
) -> Session:
    """Read a suite2p folder (0.14 or 1.x layout, one or many planes).

    Parameters
    ----------
    path : str or Path
        suite2p folder, single plane folder, or the parent of ``suite2p/``.
    reference_key : str
        Image key used as reference (any 2-D full-frame key in every plane).
    functional_key : str or None
        Functional reference key; None (or a key that is absent) disables
        ``functional_dot_product``.
    iscell_only : bool
        Process only suite2p cells (``iscell[:, 0] == 1``).
    fallback_reference : bool
        When ``reference_key`` is absent (a single-channel folder), use the first of
        :data:`FALLBACK_REFERENCES` present instead of raising, and say why in
        :attr:`Session.reference_note` (the folder is read once either way).
    functional_required : bool
        The user named ``functional_key`` (``--functional KEY``): a key that is absent
        or not a usable image raises instead of dropping ``functional_dot_product``
        with a note in :attr:`Session.messages`.

    Raises
    ------
    Suite2pError
        With a one-line message naming the folder, file and problem.
    """
    root, planes = find_planes(path)
    per_plane = []
    origins: list[dict[str, str]] = []
    shape: tuple[int, int] | None = None
    for plane in planes:
        *rest, origin, frame = _read_plane(plane)
        origins.append(origin)
        shape = shape or frame
        if frame != shape:
            raise Suite2pError(
                f"{plane.name} has frame {frame} but {planes[0].name} has {shape}; "
                "planes of different sizes cannot share one reference stack"
            )
        per_plane.append((plane, *rest))
    assert shape is not None  # find_planes never returns an empty list
    keys = set.intersection(*(set(image_keys(p[1], shape)) for p in per_plane))
    messages: list[str] = []
    reference_note = None
    bad_reference = _malformed(per_plane, origins, reference_key, shape)
    if bad_reference is not None:  # there but unusable: never fall back silently
        raise Suite2pError(f"{bad_reference}; expected a {shape[0]} x {shape[1]} image of real numbers")
    bad_functional = None if functional_key is None else _malformed(per_plane, origins, functional_key, shape)
    if bad_functional is not None and functional_required:
        raise Suite2pError(f"--functional {functional_key}: {bad_functional}; expected a {shape[0]} x {shape[1]} image")
    if bad_functional is not None:
        messages.append(f"{bad_functional}: functional_dot_product is not computed")
        functional_key = None
    if reference_key not in keys and fallback_reference:
        reference_key, reference_note = _fallback(reference_key, keys)
    if reference_key not in keys:
        hint = " (single-channel recording?)" if reference_key == "meanImg_chan2" else ""
        raise Suite2pError(
            f"no '{reference_key}' image in every plane{hint}; available image keys: "
            f"{', '.join(sorted(keys)) or 'none'}; choose one with --reference KEY"
        )
    if functional_key is not None and functional_key not in keys and functional_required:
        raise Suite2pError(
            f"--functional {functional_key}: no '{functional_key}' image in every plane; "
            f"available image keys: {', '.join(sorted(keys)) or 'none'}"
        )
    if functional_key is not None and functional_key not in keys:
        messages.append(f"no '{functional_key}' image: functional_dot_product is not computed")
        functional_key = None
    images = PlaneImages([p[1] for p in per_plane], keys)
    if not images.finite(reference_key):
        bad = [p[0].name for p in per_plane if not np.isfinite(p[1][reference_key]).all()]
        raise Suite2pError(
            f"the '{reference_key}' image holds NaN/inf pixels in {', '.join(bad)}; usable image keys: "
            f"{', '.join(k for k in images if images.finite(k)) or 'none'}; choose one with --reference KEY"
        )
    if functional_key is not None and not images.finite(functional_key) and functional_required:
        raise Suite2pError(f"--functional {functional_key}: the '{functional_key}' image holds NaN/inf pixels")
    if functional_key is not None and not images.finite(functional_key):
        messages.append(f"the '{functional_key}' image holds NaN/inf pixels: functional_dot_product is not computed")
        functional_key = None
    session = _assemble(root, per_plane, images, reference_key, functional_key, iscell_only, messages)
    session.reference_note = reference_note
    return session


def _assemble(root, per_plane, images, reference_key, functional_key, iscell_only, messages) -> Session:
    ys, xs, ls, zs, index, planes_of = [], [], [], [], [], []
    iscells, reds = [], []
    for z, (plane, _, py, px, pl, iscell, red) in enumerate(per_plane):
        keep = np.arange(len(py))
        if iscell_only:
            if iscell is None:
                raise Suite2pError(f"{plane.name}: iscell.npy is missing, cannot restrict to suite2p cells")
            keep = np.flatnonzero(iscell[:, 0] == 1)
        ys += [py[i] for i in keep]
        xs += [px[i] for i in keep]
        ls += [pl[i] for i in keep]
        zs += [z] * keep.size
        index.append(keep)
        planes_of.append(np.full(keep.size, z))
        iscells.append(None if iscell is None else iscell[keep])
        reds.append(None if red is None else red[keep, 1])
    shape = images[reference_key].shape
    try:
        rois = RoiSet.from_lists(ys, xs, ls, zs, shape)
    except ValueError as exc:
        where = _locate(str(exc), index, per_plane)
        raise Suite2pError(f"{where}stat.npy: {exc}") from None
    red_s2p = None if any(r is None for r in reds) else np.concatenate([r for r in reds if r is not None])
    if red_s2p is None and any(r is not None for r in reds):
        messages.append("redcell.npy is missing in some planes: red_s2p is not available")
    iscell = None if any(i is None for i in iscells) else np.concatenate([i for i in iscells if i is not None])
    return Session(
        root=root,
        planes=[p[0].name for p in per_plane],
        rois=rois,
        images=images,
        reference_key=reference_key,
        functional_key=functional_key,
        plane_counts=[len(p[2]) for p in per_plane],
        suite2p_index=np.concatenate(index),
        roi_plane=np.concatenate(planes_of),
        iscell=iscell,
        red_s2p=red_s2p,
        covered="iscell" if iscell_only else "all",
        messages=messages,
    )


def _locate(msg: str, index: list[np.ndarray], per_plane) -> str:
    """Turn 'ROI k' (global) in a RoiSet error into the plane folder and stat index."""
    m = re.match(r"ROI (\d+)", msg)
    if not m:
        return ""
    k = int(m.group(1))
    for (plane, *_), idx in zip(per_plane, index, strict=False):
        if k < idx.size:
            return f"{plane.name}/ (stat index {int(idx[k])}) "
        k -= idx.size
    return ""
