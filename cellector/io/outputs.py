"""Where a user-named output file may go: never onto a recording, never into a store.

Every command and function that takes an output path (``export -o``, reports, NWB)
passes it through :func:`check_output_path` before anything is written. The rules,
checked on the path as given and on the path with every symbolic link resolved:

- its name is not one of the files suite2p writes (``stat.npy``, ``ops.npy``, ...);
- no folder above it is a suite2p plane folder (``plane0``, ``combined``, or any folder
  that holds ``stat.npy``/``ops.npy``/``data.bin``);
- no folder above it is a cellector store (``<suite2p>/cellector/``, or any folder that
  holds a ``cellector.json``, a selection or a criteria file);
- it is not an existing folder, nor a symbolic link.

A user's own earlier export elsewhere can be replaced (the write is atomic).
"""

from __future__ import annotations

from pathlib import Path

from cellector.io.store import METADATA, STORE_DIR
from cellector.io.suite2p import is_plane_folder, is_suite2p_file

__all__ = ["BESIDE_RECORDING", "OutputPathError", "check_beside_recording", "check_output_path"]

#: The only files cellector writes into a plane folder, on request (``export --format
#: redcell``): new files beside suite2p's, never one of suite2p's names.
BESIDE_RECORDING = ("redcell_cellector.npy",)

# Files only a cellector store holds (ours, or the published package's).
_STORE_MARKERS = (METADATA, ".journal.jsonl", "idx_selected.npy", "manual_selection.npy")


class OutputPathError(ValueError):
    """An output path would reach a recording's files or a cellector store."""


def _is_store(folder: Path) -> bool:
    """Whether ``folder`` is a cellector store (ours, by its files or by its place beside plane folders)."""
    if any((folder / name).is_file() for name in _STORE_MARKERS) or _has_criteria(folder):
        return True
    return folder.name == STORE_DIR and any(is_plane_folder(p) for p in _subfolders(folder.parent))


def _has_criteria(folder: Path) -> bool:
    """Whether ``folder`` holds a criteria file (a store of the published package has no metadata)."""
    try:
        return any(True for _ in folder.glob("*_featurecriteria.npy"))
    except OSError:
        return False


def _subfolders(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.is_dir()]
    except OSError:
        return []


def _refusal(path: Path) -> str | None:
    """Why ``path`` may not be written, or None."""
    if is_suite2p_file(path.name):
        return f"{path.name} is a file name suite2p writes"
    for folder in path.parents:
        if is_plane_folder(folder):
            return f"{folder} is a suite2p plane folder"
        if _is_store(folder):
            return f"{folder} is a cellector store (cellector writes its own files there)"
    return None


def check_output_path(path: str | Path) -> Path:
    """Return ``path`` if an output file may be written there, else raise.

    Parameters
    ----------
    path : str or Path
        The output file a user named (``-o OUT``).

    Returns
    -------
    Path
        The path as given (with ``~`` expanded), for messages the user recognises.

    Raises
    ------
    OutputPathError
        With one line that names the path and the reason; nothing is written.
    """
    given = Path(path).expanduser().absolute()
    if given.is_symlink():
        raise OutputPathError(f"refusing to write {given}: it is a symbolic link (name a regular file)")
    if given.is_dir():
        raise OutputPathError(f"refusing to write {given}: it is a folder (name a file)")
    for candidate in (given, given.resolve()):
        reason = _refusal(candidate)
        if reason is not None:
            raise OutputPathError(f"refusing to write {given}: {reason}; choose an output outside the recording")
    return Path(path).expanduser()


def check_beside_recording(path: str | Path) -> Path:
    """Return ``path`` if it is one of :data:`BESIDE_RECORDING` directly in a plane folder, else raise.

    The one exception to "nothing in a recording": a file of cellector's own name that
    suite2p never writes, beside suite2p's files (never a link, never a folder).
    """
    given = Path(path).expanduser().absolute()
    if given.name not in BESIDE_RECORDING or is_suite2p_file(given.name):
        raise OutputPathError(f"refusing to write {given}: only {', '.join(BESIDE_RECORDING)} may go in a plane folder")
    if given.is_symlink() or given.is_dir():
        raise OutputPathError(f"refusing to write {given}: it is a symbolic link or a folder")
    if not is_plane_folder(given.parent):
        raise OutputPathError(f"refusing to write {given}: {given.parent} is not a suite2p plane folder")
    return given
