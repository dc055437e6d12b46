"""Window kernels and the Butterworth band-pass of a full frame."""

from __future__ import annotations

import numpy as np
import scipy.fft

__all__ = ["window", "butterworth_gain", "butterworth_bpf"]

_WINDOWS = {"hanning": np.hanning, "hamming": np.hamming, "blackman": np.blackman,
            "bartlett": np.bartlett}


def window(kernel: str | None, size: int) -> np.ndarray:
    """2-D separable window ``outer(k(size), k(size))``, float64.

    Parameters
    ----------
    kernel : {"hanning", "hamming", "blackman", "bartlett"} or None
        1-D window function; None gives all ones (no windowing).
    size : int
        Side of the square patch.
    """
    if kernel is None:
        return np.ones((size, size))
    if kernel not in _WINDOWS:
        raise ValueError(f"unknown window_kernel {kernel!r}; choose from {sorted(_WINDOWS)} or None")
    k = _WINDOWS[kernel](size)
    return np.outer(k, k)


def butterworth_gain(
    shape: tuple[int, int], lowcut: float | None, highcut: float | None, order: int
) -> np.ndarray:
    """Band-pass gain on the ``(2ny+1, 2nx+1)`` zero-padded frequency grid.

    Frequencies are ``fftfreq(2n+1, d=1/n)``, i.e. cycles per length of the original
    image. The gain is ``(1 - B(f, lowcut)) * B(f, highcut)`` with
    ``B(f, c) = 1 / (1 + (f / c) ** (2 * order))``; a factor is skipped when its
    cutoff is None. Only the non-negative x half is returned (for ``irfft2``).
    """
    if lowcut is None and highcut is None:
        raise ValueError("lowcut and highcut cannot both be None")
    for name, c in (("lowcut", lowcut), ("highcut", highcut)):
        if c is not None and not c > 0:
            raise ValueError(f"{name} must be positive, got {c}")
    if lowcut is not None and highcut is not None and lowcut > highcut:
        raise ValueError(f"lowcut ({lowcut}) must not exceed highcut ({highcut})")
    ny, nx = shape
    fy = np.fft.fftfreq(2 * ny + 1, d=1 / ny)
    fx = np.fft.rfftfreq(2 * nx + 1, d=1 / nx)
    f = np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    gain = np.ones_like(f)
    if lowcut is not None:
        gain = gain * (1 - 1 / (1 + (f / lowcut) ** (2 * order)))
    if highcut is not None:
        gain = gain * (1 / (1 + (f / highcut) ** (2 * order)))
    return gain


def butterworth_bpf(
    image: np.ndarray, lowcut: float | None = 12, highcut: float | None = 250, order: int = 3
) -> np.ndarray:
    """Band-pass a full frame (or each plane of a stack), float64.

    Parameters
    ----------
    image : ndarray, shape (ny, nx) or (nz, ny, nx)
        The image; a stack is filtered plane by plane, never along z.
    lowcut, highcut : float or None
        Cutoffs in cycles per image length; None skips that side.
    order : int
        Butterworth order.

    Returns
    -------
    ndarray of float64, same shape as ``image``

    Notes
    -----
    The frame is zero-padded at the end to ``(2ny+1, 2nx+1)``, transformed (float32
    input gives a complex64 spectrum), multiplied by :func:`butterworth_gain` in
    complex128, inverse transformed and cropped to ``[:ny, :nx]``. The real-input
    transform is used: the gain is symmetric, so this equals the real part of the
    full complex inverse.
    """
    image = np.asarray(image)
    if image.ndim == 3:
        return np.stack([butterworth_bpf(p, lowcut, highcut, order) for p in image])
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D or 3-D, got {image.ndim}-D")
    ny, nx = image.shape
    gain = butterworth_gain((ny, nx), lowcut, highcut, order)
    if image.dtype != np.float64:
        image = image.astype(np.float32)
    spec = scipy.fft.rfft2(image, s=(2 * ny + 1, 2 * nx + 1), workers=-1)
    out = scipy.fft.irfft2(spec * gain, s=(2 * ny + 1, 2 * nx + 1), workers=-1)
    return np.ascontiguousarray(out[:ny, :nx])
