"""The crash journal: manual edits appended as they are made, replayed after a crash.

``<store>/.journal.jsonl`` holds one JSON line per edit (the ROIs, their labels, and the
fingerprint of the ROIs they belong to); a save empties it. Lines of another set of ROIs,
and a last line cut by the crash, are skipped when read. Appending never follows a
planted symbolic link (:func:`cellector.io.store.append_line`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cellector.io import store

__all__ = ["JOURNAL", "Journal"]

#: The journal's file name in a store.
JOURNAL = ".journal.jsonl"


class Journal:
    """The journal of a store folder (None: no store, nothing is journalled) for ROIs ``fingerprint``."""

    def __init__(self, folder: Path | None, fingerprint: str | None) -> None:
        self.path = None if folder is None else Path(folder) / JOURNAL
        self.fingerprint = fingerprint

    def append(self, index: np.ndarray, label: np.ndarray, active: np.ndarray) -> str | None:
        """Journal one edit; returns why it could not be written (a read-only folder, a link), else None."""
        if self.path is None:
            return None
        entry = {
            "fingerprint": self.fingerprint,
            "index": np.asarray(index).tolist(),
            "label": np.asarray(label).tolist(),
            "active": np.asarray(active).tolist(),
        }
        try:
            store.append_line(self.path, json.dumps(entry))
        except (OSError, store.StoreError) as exc:  # must never break curation
            return f"could not journal manual edits: {exc}"
        return None

    def entries(self) -> list[dict]:
        """Return the journalled edits of these ROIs, oldest first."""
        if self.path is None or not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text("utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut by the crash
            if isinstance(entry, dict) and entry.get("fingerprint") == self.fingerprint:
                out.append(entry)
        return out

    def clear(self) -> None:
        """Forget every journalled edit (after a save, or when they are discarded)."""
        if self.path is not None and self.path.exists():
            self.path.unlink()
