"""Window kernels and the Butterworth band-pass of a full frame."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = ["butterworth_bpf", "butterworth_gain", "window"]

_WINDOWS = {"hanning": np.hanning, "hamming": np.hamming, "blackman": np.blackman, "bartlett": np.bartlett}


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


def butterworth_gain(shape: tuple[int, int], lowcut: float | None, highcut: float | None, order: int) -> np.ndarray:
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
    Defined as: the frame zero-padded at the end to ``(2ny+1, 2nx+1)``, transformed,
    multiplied by :func:`butterworth_gain`, inverse transformed and cropped to
    ``[:ny, :nx]``. Computed as the equivalent convolution on a fast FFT length
    (see ``_kernel_spectrum``), in float64 with real-input transforms; the result
    equals the definition to within float32 rounding of the published
    implementation's complex64 forward transform.
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"image must be 2-D or 3-D, got {image.ndim}-D")
    planes = image if image.ndim == 3 else image[None]
    out = np.empty(planes.shape, np.float64)
    for k, filtered in band_passed_planes(planes, lowcut, highcut, order):
        out[k] = filtered
    return out if image.ndim == 3 else out[0]


def band_passed_planes(
    stack: np.ndarray, lowcut: float | None = 12, highcut: float | None = 250, order: int = 3
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(k, band-passed plane k)`` of a ``(nz, ny, nx)`` stack, float64.

    The yielded plane is a view of one buffer that the next step overwrites: copy
    what you keep. One spectrum and one output buffer serve every plane, so a stack
    costs the memory of one frame (at 1024² each buffer is larger than malloc's mmap
    threshold, so fresh ones would be page-faulted in for every plane).
    """
    nz, ny, nx = stack.shape
    kernel, size = _kernel_spectrum(ny, nx, lowcut, highcut, order)
    spec = np.empty((size[0], size[1] // 2 + 1), np.complex128)
    back = np.empty((ny, size[1]), np.float64)
    for k in range(nz):
        _band_pass_plane(stack[k], kernel, size, spec, back)
        yield k, back[:, :nx]


def _band_pass_plane(plane: np.ndarray, kernel: np.ndarray, size: tuple[int, int], spec: np.ndarray, back: np.ndarray):
    """Filter one frame into ``back[:, :nx]`` using the work buffer ``spec``.

    rfft2 / irfft2 done one axis at a time (the order pocketfft uses, so the numbers
    are the same) to skip the zero padding's rows on the way in and the cropped rows on
    the way out: a quarter of the work. numpy's FFTs (pocketfft, as scipy's) spare the
    process scipy.fft's 0.2 s import.
    """
    ny = plane.shape[0]
    np.fft.rfft(plane.astype(np.float64, copy=False), n=size[1], axis=1, out=spec[:ny])
    spec[ny:] = 0
    np.fft.fft(spec, axis=0, out=spec)
    spec *= kernel  # in place: one complex buffer per frame
    np.fft.ifft(spec, axis=0, out=spec)
    np.fft.irfft(spec[:ny], n=size[1], axis=1, out=back)


@functools.lru_cache(maxsize=2)  # ~33 MB each for a 1024² frame
def _kernel_spectrum(
    ny: int, nx: int, lowcut: float | None, highcut: float | None, order: int
) -> tuple[np.ndarray, tuple[int, int]]:
    """Return the band-pass as a convolution kernel, re-sampled for a fast FFT length.

    Filtering the frame zero-padded to ``N = (2ny+1, 2nx+1)`` and cropping to
    ``[:ny, :nx]`` is a linear convolution with the kernel ``k = IDFT_N(gain)`` at
    lags ``-(ny-1)..(ny-1)`` (the padding leaves no wrap-around). Any FFT length
    ``L >= 2ny-1`` computes the same convolution, so ``L`` is taken with small prime
    factors: 2049 = 3 x 683 needs a slow Bluestein transform, 2048 does not. The
    numbers agree with the padded transform to float64 rounding (the spec's complex64
    forward transform is itself only float32-accurate). Large frames keep the
    spectrum in the user's cache folder, so a new process loads it instead of
    recomputing it.
    """
    size = (_next_fast_len(2 * ny - 1), _next_fast_len(2 * nx - 1))
    cached = _disk_cache(ny, nx, lowcut, highcut, order)
    spectrum = _load_spectrum(cached, (size[0], size[1] // 2 + 1))
    if spectrum is None:
        spectrum = _spectrum(ny, nx, lowcut, highcut, order, size)
        _store_spectrum(cached, spectrum)
    spectrum.flags.writeable = False  # cached: shared by every call
    return spectrum, size


def _spectrum(
    ny: int, nx: int, lowcut: float | None, highcut: float | None, order: int, size: tuple[int, int]
) -> np.ndarray:
    gain = butterworth_gain((ny, nx), lowcut, highcut, order)
    k = np.fft.irfft2(gain, s=(2 * ny + 1, 2 * nx + 1))
    lag_y = np.r_[0:ny, -(ny - 1) : 0]
    lag_x = np.r_[0:nx, -(nx - 1) : 0]
    k_fast = np.zeros(size)
    k_fast[np.ix_(lag_y % size[0], lag_x % size[1])] = k[np.ix_(lag_y % k.shape[0], lag_x % k.shape[1])]
    return np.fft.rfft2(k_fast)


def _next_fast_len(n: int) -> int:
    """Smallest length >= ``n`` with no prime factor above 5 (``scipy.fft.next_fast_len(n, real=True)``)."""
    m = max(int(n), 1)
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


#: Frames from this many pixels on keep their kernel on disk (computing it takes
#: 0.2-0.6 s at 1024², loading it 20 ms); smaller ones are computed in milliseconds.
DISK_CACHE_PIXELS = 512 * 512


def _disk_cache(ny: int, nx: int, lowcut: float | None, highcut: float | None, order: int) -> Path | None:
    """File of this kernel in the user's cache folder (platformdirs), or None for small frames."""
    if ny * nx < DISK_CACHE_PIXELS:
        return None
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("cellector")) / "bandpass" / f"{ny}x{nx}-{lowcut}-{highcut}-{order}.npy"


def _load_spectrum(path: Path | None, shape: tuple[int, int]) -> np.ndarray | None:
    """Return the cached spectrum, or None when absent, unreadable or not what is expected."""
    if path is None:
        return None
    try:
        spectrum = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if spectrum.shape != shape or spectrum.dtype != np.complex128 or not np.isfinite(spectrum).all():
        return None
    return spectrum


def _store_spectrum(path: Path | None, spectrum: np.ndarray) -> None:
    """Keep the spectrum for the next process; a cache that cannot be written is skipped."""
    if path is None:
        return
    from cellector._shared.atomic import atomic_save_npy

    with contextlib.suppress(OSError):
        atomic_save_npy(path, spectrum)
