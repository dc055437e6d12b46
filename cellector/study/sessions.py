"""A study: many suite2p sessions curated one after the other.

:class:`Study` finds the sessions under the folders it is given (any depth, see
:func:`cellector.study.status.find_sessions`), keeps one row per session
(:func:`cellector.study.status.session_status`: ROIs, selected, state, last saved, where the
cutoffs came from, the error of a broken folder) and knows which to open first and what
an earlier session can lend a later one (its cutoffs, its labels). ``cellector status``
and the window's sessions panel read the same rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cellector.io.store import load_state
from cellector.io.suite2p import find_planes
from cellector.study.status import UNOPENABLE, find_sessions, session_status

__all__ = ["Study"]

#: How many earlier saved sessions lend their labels to the next one's guidance.
CARRY_SESSIONS = 3


class Study:
    """The sessions under ``paths`` (each a study folder, or a session itself), in panel order.

    Parameters
    ----------
    paths : sequence of str or Path
        Folders holding suite2p sessions at any depth, or sessions themselves.

    Raises
    ------
    ValueError
        When a path does not exist or no session is found under any of them.
    """

    def __init__(self, paths: Sequence[str | Path]) -> None:
        given = [Path(p).expanduser().absolute() for p in paths]
        for p in given:
            if not p.exists():
                raise ValueError(f"{p} does not exist")
        self.sessions: list[Path] = []
        for p in given:
            for s in _sessions_at(p):
                if s not in self.sessions:
                    self.sessions.append(s)
        if not self.sessions:
            raise ValueError(f"no suite2p session (a folder of planeN folders holding stat.npy) under {given[0]}")
        self.root = _common_root(given, self.sessions)
        self.rows: list[dict[str, Any]] = [session_status(s, self.root) for s in self.sessions]

    def __len__(self) -> int:
        return len(self.sessions)

    def refresh(self, index: int) -> dict[str, Any]:
        """Read session ``index``'s row again (after a save, or its features were computed); returns it.

        The ROI count of a readable session is known already: only its store is read.
        """
        known = self.rows[index]["rois"] if self.rows[index]["state"] not in UNOPENABLE else None
        self.rows[index] = session_status(self.sessions[index], self.root, rois=known)
        return self.rows[index]

    def first_to_open(self) -> int:
        """Return the first session not yet saved (or the first session when every one is saved)."""
        for i, row in enumerate(self.rows):
            if row["state"] != "saved" and row["state"] not in UNOPENABLE:
                return i
        return next((i for i, row in enumerate(self.rows) if row["state"] not in UNOPENABLE), 0)

    def needs_features(self) -> list[int]:
        """Return the sessions whose features are not computed yet (not started), in panel order."""
        return [i for i, row in enumerate(self.rows) if row["state"] == "not started"]

    def criteria_before(self, index: int) -> tuple[dict, str] | None:
        """Return the cutoffs of the nearest earlier session that has some, and that session's name."""
        for i in range(index - 1, -1, -1):
            if self.rows[i]["state"] in UNOPENABLE:
                continue
            try:
                criteria = load_state(self.sessions[i])["criteria"]
            except (ValueError, OSError):
                continue
            if any(tuple(b) != (None, None) for b in criteria.values()):
                return criteria, self.rows[i]["path"]
        return None

    def labelled_before(self, index: int) -> list[Path]:
        """Return up to :data:`CARRY_SESSIONS` earlier sessions with saved manual labels, nearest first."""
        out: list[Path] = []
        for i in range(index - 1, -1, -1):
            if len(out) == CARRY_SESSIONS:
                break
            if self.rows[i]["state"] in ("saved", "cutoffs set", "changed since saved"):
                try:
                    labels = load_state(self.sessions[i])["manual_selection"]
                except (ValueError, OSError):
                    continue
                if labels is not None and labels[1].any():
                    out.append(self.sessions[i])
        return out


def _sessions_at(path: Path) -> list[Path]:
    """Return the sessions a given path stands for: itself when it is one, else those below it."""
    try:
        root, _ = find_planes(path)
    except (ValueError, OSError):
        found = find_sessions(path)
        if not found:
            raise  # neither a session nor a folder of sessions: say why, as for one session
        return found
    found = find_sessions(path)
    return found if len(found) > 1 else [root]


def _common_root(given: list[Path], sessions: list[Path]) -> Path:
    """Return the folder the sessions are shown relative to: the one folder given, else their common parent."""
    if len(given) == 1 and given[0].is_dir() and not (len(sessions) == 1 and sessions[0] == given[0]):
        return given[0]
    common = Path(os.path.commonpath([str(s) for s in sessions]))
    return common.parent if len(sessions) == 1 else common
