"""Where one curation is kept: the store folder, its crash journal, and the ROI-identity check.

:class:`CurationStore` owns the store handle of a curation (``<root>/cellector``,
``--store DIR``, or the user-cache folder of a read-only session) and everything that
touches it: loading the saved state, saving parts of it, the journal of manual edits,
and refusing saved labels that were made on other ROIs. It reads and writes only
through :mod:`cellector.io` (the store and the journal).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from .io import store
from .io.journal import JOURNAL, Journal
from .selection import SelectionState

__all__ = ["CurationStore", "check_same_rois", "restore_state"]


class CurationStore:
    """The store of one curation, and its journal of manual edits.

    Parameters
    ----------
    folder : Path or None
        The store folder (None: nothing can be saved, nothing is journalled).
    note : str or None
        Why the folder is not ``<root>/cellector`` (shown to the user).
    fingerprint : str or None
        Fingerprint of the ROIs the labels belong to (journal lines of other ROIs are ignored).
    """

    def __init__(self, folder: Path | None, note: str | None, fingerprint: str | None) -> None:
        self.folder: store.StoreDir | None = None if folder is None else store.StoreDir(folder)
        self.note = note
        self.fingerprint = fingerprint

    def require(self) -> store.StoreDir:
        """Return the folder, or raise ``ValueError`` when there is none to save to."""
        if self.folder is None:
            raise ValueError("this manager has no root folder to save to")
        return self.folder

    def move(self, folder: str | Path) -> None:
        """Keep the state in ``folder`` from now on; a pending journal moves with it."""
        new = store.StoreDir(Path(folder))
        old_journal = self.journal.path
        self.folder, self.note = new, None
        if old_journal is not None and old_journal.is_file():
            new.mkdir(parents=True, exist_ok=True)
            shutil.move(old_journal, new / JOURNAL)

    # ------------------------------------------------------------------ the state

    def load(self, num_rois: int) -> dict[str, Any]:
        """Return :func:`cellector.io.store.load_state`'s state, refused when its labels are of other ROIs."""
        state = store.load_state(self.require())
        check_same_rois(num_rois, self.fingerprint, state["metadata"], state["manual_selection"])
        return state

    def save(self, metadata: dict, **parts: Any) -> Path:
        """Save the given parts (:func:`cellector.io.store.save_state`); returns the folder."""
        return store.save_state(self.require(), metadata, **parts)

    # ------------------------------------------------------------------ the journal

    @property
    def journal(self) -> Journal:
        """The journal of manual edits made since the last save."""
        return Journal(self.folder, self.fingerprint)

    def record(self, index: np.ndarray, label: np.ndarray, active: np.ndarray) -> str | None:
        """Journal one manual edit; returns why it could not be written, else None."""
        return self.journal.append(index, label, active)

    def pending(self) -> list[dict]:
        """Return the journalled edits (of these ROIs) since the last save, oldest first."""
        return self.journal.entries()

    def clear_journal(self) -> None:
        """Forget the journalled edits (saved, or thrown away)."""
        self.journal.clear()


def check_same_rois(n: int, fingerprint: str | None, meta: dict | None, manual: np.ndarray | None) -> None:
    """Refuse saved labels that were made for other ROIs (stat.npy changed since).

    Parameters
    ----------
    n : int
        The ROI count now.
    fingerprint : str or None
        The ROIs' fingerprint now.
    meta : dict or None
        The saved ``cellector.json`` (None: written by the published package).
    manual : ndarray or None
        The saved manual selection, bool (2, N).

    Raises
    ------
    StoreError
        When the saved labels cannot belong to these ROIs.
    """
    saved_fp = (meta or {}).get("labels_roi_fingerprint")
    if saved_fp is None:  # labels written by the published cellector: only N can be checked
        if manual is not None and manual.shape[1] != n:
            raise store.StoreError(
                f"saved manual selection covers {manual.shape[1]} ROIs but the folder has {n}; "
                "stat.npy changed since it was saved"
            )
        return
    if saved_fp != fingerprint:
        raise store.StoreError(
            "the ROIs changed since the labels were saved (stat.npy edited, e.g. by the suite2p GUI, "
            f"or a different ROI subset); refusing to apply them. Saved: {(meta or {}).get('n_rois')} ROIs, now {n}"
        )


def restore_state(selection: SelectionState, state: dict[str, Any]) -> list[str]:
    """Make a loaded state the starting point of ``selection``; returns the notes for the user.

    Criteria and labels are taken as saved. A selection that another program rewrote
    (``idx_selected.npy`` changed outside cellector) is kept: the ROIs where it differs
    from the cutoffs and labels become manual labels, so the selection equals the file.
    """
    notes = list(state["notes"])
    if state["metadata"] is None and state["manual_selection"] is not None:
        notes.append(
            "labels saved by the published cellector: its ROI order may not follow "
            "the plane numbers (plane10 before plane2)"
        )
    selection.restore(state["criteria"], state["manual_selection"])
    on_disk = state["idx_selected"]
    if "idx_selected.npy" in state.get("changed_outside", []) and on_disk is not None:
        if on_disk.shape != (selection.num_rois,):
            raise store.StoreError(
                f"idx_selected.npy was rewritten outside cellector with {on_disk.size} values, "
                f"but the folder has {selection.num_rois} ROIs"
            )
        adopted = selection.adopt_selection(on_disk)
        if adopted:
            rois = "1 ROI differs" if adopted == 1 else f"{adopted} ROIs differ"
            notes.append(
                f"idx_selected.npy was rewritten outside cellector: {rois} from the saved cutoffs and labels; "
                "the cutoffs are kept and those ROIs become manual labels, so the selection equals the file"
            )
    return notes
