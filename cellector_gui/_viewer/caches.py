"""Where napari and matplotlib keep their caches and settings when the user's home cannot hold them.

On a service account, in a container or as ``nobody``, HOME may be missing or read-only.
napari writes its theme icons into the user cache folder while it is imported and fails
without one; matplotlib warns and makes a temporary folder of its own. The window and
the report therefore call :func:`use_writable_caches` before importing either: where
the standard folders cannot be written, they point at this user's private folders in
the temporary folder instead (nothing is written anywhere else).
"""

from __future__ import annotations

import os
from pathlib import Path

from cellector._shared.jit import private_temp, writable

__all__ = ["use_writable_caches"]


def _home_folder(variable: str, default: str) -> Path:
    given = os.environ.get(variable)
    return Path(given) if given else Path.home() / default


def use_writable_caches() -> list[str]:
    """Point the cache, settings and matplotlib folders at private temporary ones where HOME cannot hold them.

    Returns the environment variables it set (none when HOME is writable, or when the
    user set them). Call it before napari or matplotlib is imported.
    """
    changed = []
    for variable, default, kind in (("XDG_CACHE_HOME", ".cache", "cache"), ("XDG_CONFIG_HOME", ".config", "config")):
        if variable in os.environ or writable(_home_folder(variable, default)):
            continue
        temp = private_temp(kind)
        if temp is not None:
            os.environ[variable] = str(temp)
            changed.append(variable)
    if "MPLCONFIGDIR" not in os.environ and not writable(_home_folder("XDG_CONFIG_HOME", ".config") / "matplotlib"):
        temp = private_temp("matplotlib")
        if temp is not None:
            os.environ["MPLCONFIGDIR"] = str(temp)
            changed.append("MPLCONFIGDIR")
    return changed
