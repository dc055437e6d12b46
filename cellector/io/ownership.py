"""Whether a saved state is this folder's: the one check made before a state is shown, used or replaced.

A state (``<root>/cellector``, or a ``--store DIR``) belongs to the ROIs it was saved
for. It is *not this folder's* when it was copied from another session, when two
sessions share one ``--store``, when ``stat.npy`` was edited since (the suite2p GUI), when
it was saved for another ROI subset (``--iscell-only``), or when one of its per-ROI files
has another length. :func:`mismatch` says which, in words; every command, the window
and the store itself ask it, so no part of cellector shows, uses, migrates, snapshots or
overwrites such a state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cellector.io.store.files import StoreError

__all__ = ["ForeignStateError", "RoiIdentity", "check_own", "file_lengths", "identity_of", "mismatch", "state_lengths"]

#: Per-ROI files of a state, and how many ROIs an array of each holds.
_PER_ROI = {
    "idx_selected.npy": lambda shape: shape[0] if len(shape) == 1 else None,
    "manual_selection.npy": lambda shape: (shape[1] if shape[0] == 2 else shape[0]) if len(shape) == 2 else None,
}


@dataclass(frozen=True)
class RoiIdentity:
    """What makes a set of ROIs the one a state was saved for.

    Attributes
    ----------
    n_rois : int
        ROIs processed (the length of every per-ROI file).
    fingerprint : str or None
        sha1 of the processed ROIs' pixels (None: unknown).
    planes : tuple of str or None
        Plane folders in ROI order (None: unknown).
    plane_counts : tuple of int or None
        ROIs in each plane's ``stat.npy`` (None: unknown).
    covered : str or None
        ``"all"`` or ``"iscell"`` (``--iscell-only``); None: unknown.
    """

    n_rois: int
    fingerprint: str | None = None
    planes: tuple[str, ...] | None = None
    plane_counts: tuple[int, ...] | None = None
    covered: str | None = None

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> RoiIdentity | None:
        """Return the identity ``cellector.json`` records (None: it records no ROI count)."""
        try:
            n = int(meta["n_rois"])
        except (KeyError, TypeError, ValueError):
            return None
        planes, counts = meta.get("planes"), meta.get("plane_counts")
        return cls(
            n,
            meta.get("labels_roi_fingerprint") or meta.get("roi_fingerprint"),
            tuple(map(str, planes)) if isinstance(planes, list) else None,
            tuple(int(c) for c in counts) if isinstance(counts, list) else None,
            meta.get("covered") if isinstance(meta.get("covered"), str) else None,
        )


def _plus(counts: tuple[int, ...]) -> str:
    return " + ".join(map(str, counts))


def _layout_mismatch(saved: RoiIdentity, here: RoiIdentity) -> str | None:
    if saved.planes is not None and here.planes is not None and saved.planes != here.planes:
        return f"saved for {', '.join(saved.planes)}, this folder has {', '.join(here.planes)}"
    if saved.plane_counts is not None and here.plane_counts is not None and saved.plane_counts != here.plane_counts:
        return f"saved for {_plus(saved.plane_counts)} ROIs in stat.npy, this folder has {_plus(here.plane_counts)}"
    if saved.covered is not None and here.covered is not None and saved.covered != here.covered:
        what = {"iscell": "suite2p's cells only (--iscell-only)", "all": "every ROI"}
        return (
            f"saved for {what.get(saved.covered, saved.covered)} ({saved.n_rois} ROIs), "
            f"opened for {what.get(here.covered, here.covered)} ({here.n_rois})"
        )
    if saved.n_rois != here.n_rois:
        return f"saved for {saved.n_rois} ROIs, this folder has {here.n_rois}"
    if saved.fingerprint is not None and here.fingerprint is not None and saved.fingerprint != here.fingerprint:
        return f"saved for {saved.n_rois} ROIs with other pixels than this folder's {here.n_rois}"
    return None


def mismatch(meta: Mapping[str, Any] | None, lengths: Mapping[str, int], here: RoiIdentity) -> str | None:
    """Say why a saved state is not this folder's, or return None when it is.

    Parameters
    ----------
    meta : mapping or None
        The state's ``cellector.json`` (None: a folder of the published package, whose
        files only have lengths to check).
    lengths : mapping of str to int
        How many ROIs each per-ROI file of the state holds (:func:`state_lengths`,
        :func:`file_lengths`).
    here : RoiIdentity
        The folder's ROIs as they are now.

    Returns
    -------
    str or None
        The first reason found, in words ("saved for 50 ROIs with other pixels than
        this folder's 50", "idx_selected.npy holds 60 ROIs, this folder 61").
    """
    saved = RoiIdentity.from_metadata(meta) if meta else None
    if saved is not None and (reason := _layout_mismatch(saved, here)) is not None:
        return reason
    for name, size in sorted(lengths.items()):
        if size != here.n_rois:
            return f"{name} holds {size} ROIs, this folder {here.n_rois}"
    return None


def state_lengths(state: Mapping[str, Any]) -> dict[str, int]:
    """Per-ROI file -> ROI count of a state loaded by :func:`cellector.io.store.load_state`."""
    out = {f"{name}_feature.npy": int(np.size(v)) for name, v in state.get("features", {}).items()}
    if state.get("manual_selection") is not None:
        out["manual_selection.npy"] = int(state["manual_selection"].shape[1])
    if state.get("idx_selected") is not None:
        out["idx_selected.npy"] = int(state["idx_selected"].size)
    return out


def _header_shape(path: Path) -> tuple[int, ...] | None:
    """Return the shape an ``.npy`` file declares, read from its header alone (None: not a readable .npy)."""
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, _ = read(fh)  # the header alone: no pickle is ever loaded here
    except (OSError, ValueError):
        return None
    return tuple(int(s) for s in shape)


def file_lengths(folder: Path) -> dict[str, int]:
    """Per-ROI file -> ROI count of the state files in ``folder``, from their headers (nothing is unpickled)."""
    out: dict[str, int] = {}
    for f in sorted(folder.glob("*_feature.npy")):
        shape = _header_shape(f)
        if shape is not None and len(shape) == 1:
            out[f.name] = shape[0]
    for name, count in _PER_ROI.items():
        shape = _header_shape(folder / name)
        if shape is not None and (n := count(shape)) is not None:
            out[name] = n
    return out


def identity_of(source: Any) -> RoiIdentity:
    """Return the identity of a feature source's ROIs (a RoiProcessor, saved features): count, fingerprint, layout."""
    meta = source.metadata()
    meta["roi_fingerprint"] = source.roi_fingerprint
    meta.pop("labels_roi_fingerprint", None)
    found = RoiIdentity.from_metadata(meta)
    return found if found is not None else RoiIdentity(source.num_rois, source.roi_fingerprint)


class ForeignStateError(StoreError):
    """A saved state that is not this folder's; nothing of it was shown, used or changed.

    Attributes
    ----------
    folder : Path
        The store folder holding it.
    reason : str
        Why it is not this folder's (:func:`mismatch`).
    """

    def __init__(self, folder: Path, reason: str) -> None:
        self.folder, self.reason = Path(folder), reason
        super().__init__(
            f"{folder} holds a saved state that is not this folder's ({reason}: another session's state, "
            "a shared --store, or stat.npy edited since); nothing of it was used or changed. "
            f"Move it aside (mv {folder} {folder}.other) or start fresh elsewhere with --store DIR"
        )


def check_own(state: Mapping[str, Any], here: RoiIdentity, folder: Path) -> None:
    """Raise :class:`ForeignStateError` when the loaded ``state`` in ``folder`` is not this folder's."""
    reason = mismatch(state.get("metadata"), state_lengths(state), here)
    if reason is not None:
        raise ForeignStateError(folder, reason)
