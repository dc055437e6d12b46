"""Full-frame images of a session: which values are usable images, and planes stacked on demand."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

__all__ = ["PlaneImages", "image_keys", "image_problem"]


def image_problem(value: Any, shape: tuple[int, int]) -> str | None:
    """Say why ``value`` is not a usable full-frame image of ``shape``, or return None.

    A usable image is a 2-D array of real numbers (integers or floats) of the frame's
    shape; booleans, complex numbers, strings and objects are not.
    """
    if not isinstance(value, np.ndarray):
        return f"a {type(value).__name__}, not an image array"
    if value.size == 0:
        return f"empty (shape {value.shape})"
    if np.iscomplexobj(value):
        return f"complex-valued ({value.dtype})"
    if not (np.issubdtype(value.dtype, np.integer) or np.issubdtype(value.dtype, np.floating)):
        return f"of dtype {value.dtype}, not real numbers"
    if value.ndim != 2:
        return f"{value.ndim}-D (shape {value.shape})"
    if value.shape != tuple(shape):
        return f"of shape {value.shape}, not the frame's {tuple(shape)}"
    return None


def image_keys(ops: dict, shape: tuple[int, int]) -> list[str]:
    """Keys of full-frame 2-D real-valued images in ``ops`` (cropped ones like Vcorr excluded)."""
    return sorted(k for k, v in ops.items() if isinstance(v, np.ndarray) and image_problem(v, shape) is None)


class PlaneImages(Mapping[str, np.ndarray]):
    """Image stacks by key, stacked from the planes' ``ops`` on first access.

    A session of 20 planes holds a dozen image keys (~80 MB each as stacks);
    computing features needs two of them, the window a few more.
    """

    def __init__(self, per_plane_ops: list[dict], keys: Iterable[str]):
        self._keys = sorted(keys)
        self._ops = [{k: ops[k] for k in self._keys} for ops in per_plane_ops]  # not the rest of ops
        self._stacks: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._keys:
            raise KeyError(key)
        if key not in self._stacks:
            self._stacks[key] = np.stack([np.asarray(ops[key], np.float32) for ops in self._ops])
        return self._stacks[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def finite(self, key: str) -> bool:
        """Whether every pixel of ``key`` in every plane is finite (without stacking it)."""
        return all(np.isfinite(ops[key]).all() for ops in self._ops)
