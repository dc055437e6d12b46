"""Where a study stands: every suite2p session under a folder, and how far its curation went.

:func:`find_sessions` finds suite2p folders at any depth (a folder whose ``planeN``
folders hold ``stat.npy``; plane folders and cellector stores are not searched).
:func:`session_status` reads only what is cheap: the store's files and the length of
each ``stat.npy``, never the images or the features' values, so a study of dozens of
sessions is listed in seconds. A session's state is one of :data:`STATES`:

- ``not started``: nothing saved;
- ``features computed``: features saved, no cutoff and no label yet;
- ``cutoffs set``: criteria or labels saved, but no selection (``idx_selected.npy``);
- ``saved``: a full state, as the window's Save writes it;
- ``changed since saved``: edits journalled after the last save (a window still open, or
  one that crashed), or a file rewritten outside cellector;
- ``not this folder's``: the store holds a state saved for other ROIs (copied from
  another session, a shared ``--store``, ``stat.npy`` edited since; ``error`` says which,
  :func:`cellector.io.ownership.mismatch`); nothing of it is counted;
- ``broken``: the folder cannot be read (``error`` says why, in one line).
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from cellector.io.journal import Journal
from cellector.io.ownership import mismatch, state_lengths
from cellector.io.store import STORE_DIR, load_state
from cellector.io.suite2p import find_planes, is_plane_folder, read_identity

__all__ = ["STATES", "UNOPENABLE", "estimate_text", "find_sessions", "session_status"]

STATES = (
    "not started",
    "features computed",
    "cutoffs set",
    "saved",
    "changed since saved",
    "not this folder's",
    "broken",
)

#: States of a session that cannot be opened (``error`` says why).
UNOPENABLE = ("not this folder's", "broken")


def _natural(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


def find_sessions(root: str | Path) -> list[Path]:
    """Return the suite2p folders under ``root`` (``root`` itself if it is one), in natural path order."""
    root = Path(root).expanduser()
    found = []
    for folder, dirs, _files in os.walk(root):
        here = Path(folder)
        subs = [here / d for d in dirs]
        if any(is_plane_folder(p) and (p / "stat.npy").is_file() for p in subs):
            found.append(here)
            dirs[:] = []  # a session's own folders hold no other session
            continue
        # a plane folder (it holds stat.npy) and a store hold no session: not searched
        dirs[:] = [d for d in dirs if d != STORE_DIR and not (here / d / "stat.npy").is_file()]
    return sorted(found, key=_natural)


def _state(st: dict[str, Any], pending: int) -> str:
    if pending or st["changed_outside"]:
        return "changed since saved"
    if st["idx_selected"] is not None:
        return "saved"
    has_cutoffs = any(tuple(b) != (None, None) for b in st["criteria"].values())
    labels = st["manual_selection"]
    if has_cutoffs or (labels is not None and labels[1].any()):
        return "cutoffs set"
    return "features computed" if st["features"] else "not started"


def session_status(folder: str | Path, root: str | Path | None = None, rois: int | None = None) -> dict[str, Any]:
    """Return one session's row of the study table.

    Keys: ``path`` (relative to ``root``), ``planes``, ``rois``, ``selected`` (None until
    saved), ``state`` (:data:`STATES`), ``saved_at`` (ISO time of the selection, or None),
    ``criteria_origin`` (where the saved cutoffs came from, or None), ``estimate`` (the
    saved selection's estimated precision, recall, F1 and its margin by the fit to the
    labels, at the last save; None without labels of both kinds) and ``error`` (None, or
    one line). ``rois``, when the caller knows it (a state it has just saved), spares
    reading every ``stat.npy`` (the slow part: a pickle of one dict per ROI), and with it
    the check that the saved state is this folder's.
    """
    folder = Path(folder)
    shown = str(folder.relative_to(root)) if root is not None and folder != Path(root) else str(folder)
    row: dict[str, Any] = {
        "path": shown,
        "planes": None,
        "rois": None,
        "selected": None,
        "state": "broken",
        "saved_at": None,
        "criteria_origin": None,
        "estimate": None,
        "error": None,
    }
    try:
        suite2p, planes = find_planes(folder)
        store = suite2p / STORE_DIR
        st = load_state(suite2p)
        meta = st["metadata"] or {}
        foreign = None
        if rois is None:  # stat.npy is read for the count anyway: check the state is this folder's too
            here = read_identity(suite2p, "iscell" if meta.get("covered") == "iscell" else "all")
            rois, foreign = sum(here.plane_counts or ()), mismatch(meta or None, state_lengths(st), here)
        row["planes"], row["rois"] = len(planes), rois
        pending = len(Journal(store, meta.get("labels_roi_fingerprint") or meta.get("roi_fingerprint")).entries())
    except (ValueError, OSError) as exc:
        row["error"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return row
    if foreign is not None:
        row["state"], row["error"] = "not this folder's", f"the saved state is not this folder's ({foreign})"
        return row
    sel = st["idx_selected"]
    row["selected"] = None if sel is None else int(sel.sum())
    row["state"] = _state(st, pending)
    row["criteria_origin"] = meta.get("criteria_origin")
    row["estimate"] = meta.get("estimate")
    f = store / "idx_selected.npy"
    if sel is not None and f.is_file():
        row["saved_at"] = datetime.fromtimestamp(f.stat().st_mtime).astimezone().isoformat(timespec="seconds")
    return row


def estimate_text(estimate: dict | None) -> str | None:
    """Return a saved estimate in words, ``"F1 0.87 ± 0.06 (12 labels)"`` (None: none, or not numbers)."""
    if not isinstance(estimate, dict):
        return None
    try:
        f1, margin, labels = float(estimate["f1"]), float(estimate["f1_margin"]), int(estimate["labels"])
    except (KeyError, TypeError, ValueError):  # a file edited by hand: say nothing rather than fail
        return None
    return f"F1 {f1:.2f} ± {margin:.2f} ({labels} label{'' if labels == 1 else 's'})"
