"""numba's compiled-code cache, kept where this user can write.

numba caches compiled functions in the package's ``__pycache__`` and, when that is not
writable (a system-wide or read-only install), in the user's cache folder under HOME.
With neither writable (a read-only or missing HOME, a locked-down cluster node) numba
raises at import time and every command would fail. :func:`njit` therefore decides once
where the cache goes, in this order:

1. ``NUMBA_CACHE_DIR`` when the user set it (numba's own setting wins);
2. the package's ``__pycache__`` (numba's default);
3. numba's user cache folder, e.g. ``~/.cache/numba`` (numba's fallback);
4. a private folder in the system's temporary folder, with one notice;
5. no cache at all, with one notice: every process compiles again (a few seconds).

Only step 4 changes ``numba.config.CACHE_DIR``, which other numba users in the process
share; there numba would otherwise fail for them too.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numba

__all__ = ["cache_folder", "njit"]

_log = logging.getLogger("cellector")
_config: Any = numba.config  # its settings are set from the environment at import: typed as Any


def _writable(folder: Path) -> bool:
    """Whether files can be created in ``folder`` (made if missing), as numba checks it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _private_temp_name() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"cellector-numba-{uid}"


def _private_temp() -> Path | None:
    """Return the user's own folder in the temporary folder, or None when it cannot be trusted."""
    folder = _private_temp_name()
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    # a shared temporary folder: never use a link or a folder someone else made
    if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        return None
    return folder if _writable(folder) else None


@cache
def cache_folder() -> str | None:
    """Return the folder numba caches cellector's compiled code in, or None when caching is off.

    Decided once per process (see the module docstring); sets ``numba.config.CACHE_DIR``
    when the cache cannot stay in numba's default places.
    """
    if _config.CACHE_DIR:
        return str(_config.CACHE_DIR)
    in_tree = Path(__file__).parent / "__pycache__"
    if _writable(in_tree):
        return str(in_tree)
    from platformdirs import user_cache_dir

    home = Path(user_cache_dir("numba", appauthor=False))  # where numba's own fallback looks
    if _writable(home):
        return str(home)
    temp = _private_temp()
    if temp is not None:
        _config.CACHE_DIR = str(temp)
        _log.warning(f"cellector: note: {home} is not writable; compiled code is cached in {temp}")
        return str(temp)
    _log.warning(
        f"cellector: note: {home} is not writable and {_private_temp_name()} cannot be used; "
        "compiled code is not cached, so each run compiles again"
    )
    return None


def njit(**options: Any) -> Callable[[Callable], Callable]:
    """``numba.njit`` with the cache placed by :func:`cache_folder` (off when nothing is writable)."""
    return numba.njit(cache=cache_folder() is not None, **options)
