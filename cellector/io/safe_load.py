"""A restricted unpickler for suite2p's ``.npy`` pickles and criteria files.

``np.load(allow_pickle=True)`` runs whatever callable a pickle names. Users open
folders from colleagues, so object arrays are read with an unpickler that admits
only what suite2p and cellector write: numpy arrays, dtypes and scalars, basic
containers and ``datetime`` values.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npformat

from cellector._shared.memory import paused_gc

__all__ = ["UnsafePickleError", "safe_load_npy", "safe_loads"]

_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("datetime", "datetime"),
    ("datetime", "date"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("collections", "OrderedDict"),
    ("builtins", "complex"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "slice"),
    ("builtins", "bytearray"),
    ("pathlib", "PosixPath"),
    ("pathlib", "WindowsPath"),
    ("pathlib", "Path"),
    ("pathlib", "PurePosixPath"),
    ("pathlib", "PureWindowsPath"),
}


class UnsafePickleError(ValueError):
    """A pickle names something outside the allow-list."""


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise UnsafePickleError(f"refusing to load {module}.{name} (not a numpy/suite2p data type)")


def safe_loads(data: bytes) -> Any:
    """Unpickle ``data`` with the allow-list (the garbage collector paused: see ``_memory``)."""
    with paused_gc():
        return _Restricted(io.BytesIO(data), encoding="latin1").load()


def safe_load_npy(path: str | Path) -> Any:
    """Load a ``.npy`` file; object arrays go through the restricted unpickler.

    Raises
    ------
    UnsafePickleError
        The pickle names a callable outside the allow-list (it is never called).
    ValueError
        The file is not a valid ``.npy`` file (truncated, corrupt, wrong format).
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            version = npformat.read_magic(fh)
            _shape, _fortran, dtype = (
                npformat._read_array_header(fh, version)
                if hasattr(npformat, "_read_array_header")
                else _read_header(fh, version)
            )
            if dtype.hasobject:
                obj = safe_loads(fh.read())
                if not isinstance(obj, np.ndarray):
                    raise ValueError(f"{path.name}: expected a pickled array, got {type(obj).__name__}")
                return obj
        return np.load(path, allow_pickle=False)
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{path}: {exc}") from None
    except (
        OSError,
        EOFError,
        pickle.UnpicklingError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        MemoryError,
    ) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: not a readable .npy file ({type(exc).__name__}: {exc})") from None


def _read_header(fh, version):
    if version == (1, 0):
        return npformat.read_array_header_1_0(fh)
    return npformat.read_array_header_2_0(fh)
