"""Atomic file writes: a temporary file beside the target, fsynced, then renamed over it.

A reader sees the old file or the new one, never half of one, whatever kills the writer;
a full disk is reported as "No space left on device" and leaves no temporary file. Files
get the permissions the umask gives any new file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_replace_with", "atomic_save_npy", "atomic_write_text", "disk_full", "fsync_dir", "umask"]


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (its entry reaches the disk)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def umask() -> int:
    """Return the process's umask, read without changing it (Linux), else set and restored at once."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic(path: Path, write, by_name: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # by name, the temporary file keeps the extension: libraries (pynwb) check it
    suffix = f".tmp{path.suffix}" if by_name else ".tmp"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    try:
        # mkstemp creates 0600; a saved state must be readable as any new file is (0644 under umask 022)
        os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as fh:
            # a library that opens files by name (h5py) truncates and writes the same file
            write(Path(tmp)) if by_name else write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and disk_full(exc):
            # numpy reports a short write as "600 requested and 496 written": say what it means
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None
        raise
    fsync_dir(path.parent)


def disk_full(exc: OSError) -> bool:
    """Whether a failed write ran out of space (ENOSPC, or numpy's short-write message)."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT) or " requested and " in str(exc)


def atomic_save_npy(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` as .npy atomically (object arrays are pickled)."""
    arr = np.asarray(array)
    _atomic(Path(path), lambda fh: np.save(fh, arr, allow_pickle=arr.dtype.hasobject))


def atomic_replace_with(path: str | Path, write_file) -> None:
    """Replace ``path`` atomically with the file ``write_file(tmp)`` writes at a temporary path beside it."""
    _atomic(Path(path), write_file, by_name=True)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (utf-8) to ``path`` atomically."""
    _atomic(Path(path), lambda fh: fh.write(text.encode("utf-8")))
