"""numba's compiled-code cache, kept where this user can write.

numba caches compiled functions in the package's ``__pycache__`` and, when that is not
writable (a system-wide or read-only install), in the user's cache folder under HOME.
With neither writable (a read-only or missing HOME, a locked-down cluster node) numba
raises at import time and every command would fail. :func:`njit` therefore decides once
where the cache goes, in this order:

1. ``NUMBA_CACHE_DIR`` when the user set it (numba's own setting wins);
2. the package's ``__pycache__`` (numba's default);
3. numba's user cache folder, e.g. ``~/.cache/numba`` (numba's fallback);
4. a private folder in the system's temporary folder;
5. no cache at all: every process compiles again (a few seconds).

Steps 4 and 5 are logged at INFO on the ``cellector`` logger: shown with ``cellector -v``,
never otherwise (a working command prints nothing about where its compiled code went).

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

__all__ = ["cache_folder", "njit", "private_temp", "writable"]

_log = logging.getLogger("cellector")
_config: Any = numba.config  # its settings are set from the environment at import: typed as Any


def writable(folder: Path) -> bool:
    """Whether files can be created in ``folder`` (made if missing), as numba checks it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _private_temp_name(kind: str = "numba") -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"cellector-{kind}-{uid}"


def private_temp(kind: str = "numba") -> Path | None:
    """Return this user's own folder ``cellector-KIND-UID`` in the temporary folder (None: it cannot be trusted).

    Made with mode 0700 if missing; a link, or a folder that another user made there
    first (the temporary folder is shared), is never used.
    """
    folder = _private_temp_name(kind)
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    # a shared temporary folder: never use a link or a folder someone else made
    if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        return None
    return folder if writable(folder) else None


@cache
def cache_folder() -> str | None:
    """Return the folder numba caches cellector's compiled code in, or None when caching is off.

    Decided once per process (see the module docstring); sets ``numba.config.CACHE_DIR``
    when the cache cannot stay in numba's default places.
    """
    if _config.CACHE_DIR:
        return str(_config.CACHE_DIR)
    in_tree = Path(__file__).parent / "__pycache__"
    if writable(in_tree):
        return str(in_tree)
    from platformdirs import user_cache_dir

    home = Path(user_cache_dir("numba", appauthor=False))  # where numba's own fallback looks
    if writable(home):
        return str(home)
    temp = private_temp()
    if temp is not None:
        _config.CACHE_DIR = str(temp)
        _log.info(f"cellector: note: {home} is not writable; compiled code is cached in {temp}")
        return str(temp)
    _log.info(
        f"cellector: note: {home} is not writable and {_private_temp_name()} cannot be used; "
        "compiled code is not cached, so each run compiles again"
    )
    return None


def njit(**options: Any) -> Callable[[Callable], Callable]:
    """``numba.njit`` with the cache placed by :func:`cache_folder` (off when nothing is writable)."""
    return numba.njit(cache=cache_folder() is not None, **options)
