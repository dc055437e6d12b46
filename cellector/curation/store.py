"""Where one curation is kept: the store folder, its crash journal, and the ROI-identity check.

:class:`CurationStore` owns the store handle of a curation (``<root>/cellector``,
``--store DIR``, or the user-cache folder of a read-only session) and everything that
touches it: loading the saved state, saving parts of it, the journal of manual edits,
and refusing a saved state that is not this folder's (:mod:`cellector.io.ownership`).
It reads and writes only through :mod:`cellector.io` (the store and the journal).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from cellector.curation.selection import SelectionState
from cellector.io import store
from cellector.io.journal import JOURNAL, Journal
from cellector.io.ownership import RoiIdentity, check_own, identity_of
from cellector.roi_processor.source import FeatureSource

__all__ = ["CurationStore", "restore_state"]


class CurationStore:
    """The store of one curation, and its journal of manual edits.

    Parameters
    ----------
    folder : Path or None
        The store folder (None: nothing can be saved, nothing is journalled).
    note : str or None
        Why the folder is not ``<root>/cellector`` (shown to the user).
    identity : RoiIdentity
        The ROIs the curation belongs to: a saved state of other ROIs is refused, and
        journal lines of other ROIs are ignored.
    """

    def __init__(self, folder: Path | None, note: str | None, identity: RoiIdentity) -> None:
        self.folder: store.StoreDir | None = None if folder is None else store.StoreDir(folder)
        self.note = note
        self.identity = identity

    @classmethod
    def of(cls, source: FeatureSource) -> CurationStore:
        """Return the curation store of a source's ROIs (where its features are cached)."""
        return cls(source.store, source.store_note, identity_of(source))

    @property
    def fingerprint(self) -> str | None:
        """Fingerprint of the ROIs the labels belong to."""
        return self.identity.fingerprint

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

    def load(self) -> dict[str, Any]:
        """Return :func:`cellector.io.store.load_state`'s state.

        Raises
        ------
        ForeignStateError
            When the state is not this folder's (:func:`cellector.io.ownership.mismatch`).
        """
        return self.check(store.load_state(self.require()))

    def check(self, state: dict[str, Any]) -> dict[str, Any]:
        """Return ``state`` (loaded from this store) once it is known to be this folder's; else raise."""
        check_own(state, self.identity, self.require())
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
