"""The default features, computed chunk by chunk from flat ROI arrays.

Every number follows ``spec/features.md`` (the compatibility contract with the
published cellector 2.0.x): centred S x S patches (S = 2w + 1) around integer
centroids, a Hanning-windowed phase correlation at zero lag, a dot product with the
band-passed frame, a correlation coefficient and an inside/outside ratio over the
footprint's surround. Memory is bounded by the chunk size, not by N.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from cellector._shared.memory import small_pages
from cellector.features.filters import band_passed_planes, window
from cellector.features.kernels import (  # noqa: F401 - published here too
    _boxed_reference,
    _centered_masks,
    _dilated_boxes,
    _lam_weighted_sums,
    _phase_corr_windowed,
    _surround_features,
    _windowed,
    _windowed_reference,
    dot_products,
    phase_corr_zero,
)
from cellector.features.local_contrast import background, local_contrast, occupancy
from cellector.features.registry import (
    REGISTRY,
    SPECS,
    feature_names,
)
from cellector.features.rois import RoiSet

__all__ = ["DEFAULT_PARAMETERS", "compute_features", "iter_features", "validate_parameters", "validate_reference"]

DEFAULT_PARAMETERS: dict[str, Any] = {
    "centered_width": 40,
    "centroid_method": "median",
    "fill_value": 0.0,
    "surround_iterations": 2,
    "window_kernel": "hanning",
    "phase_corr_eps": 1e6,
    "lowcut": 12,
    "highcut": 250,
    "order": 3,
    "local_contrast_ring": 4,
}

Progress = tuple[int, int]


def validate_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """Return the full parameter dict, raising ``ValueError`` for unknown or bad ones."""
    unknown = sorted(set(params) - set(DEFAULT_PARAMETERS))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; known: {sorted(DEFAULT_PARAMETERS)}")
    p = {**DEFAULT_PARAMETERS, **params}
    w = p["centered_width"]
    if not isinstance(w, (int, np.integer)) or isinstance(w, bool) or w < 1:
        raise ValueError(f"centered_width must be a positive integer, got {w!r}")
    it = p["surround_iterations"]
    if not isinstance(it, (int, np.integer)) or isinstance(it, bool) or it < 0:
        raise ValueError(f"surround_iterations must be a non-negative integer, got {it!r}")
    if p["centroid_method"] not in ("median", "weightedmean"):
        raise ValueError(f"centroid_method must be 'median' or 'weightedmean', got {p['centroid_method']!r}")
    if not np.isfinite(p["fill_value"]):
        raise ValueError("fill_value must be finite")
    ring = p["local_contrast_ring"]
    if not isinstance(ring, (int, np.integer)) or isinstance(ring, bool) or ring < 1:
        raise ValueError(f"local_contrast_ring must be a positive integer, got {ring!r}")
    if not p["phase_corr_eps"] >= 0:
        raise ValueError("phase_corr_eps must be >= 0")
    window(p["window_kernel"], 3)  # raises for unknown kernels
    from cellector.features.filters import butterworth_gain

    butterworth_gain((2, 2), p["lowcut"], p["highcut"], p["order"])  # raises for bad cutoffs
    return p


def validate_reference(reference: np.ndarray, name: str = "reference") -> np.ndarray:
    """Return ``reference`` as a float32 ``(lz, ly, lx)`` stack or raise ``ValueError``."""
    ref = np.asarray(reference)
    if ref.ndim == 2:
        ref = ref[None]
    if ref.ndim != 3 or min(ref.shape) < 1:
        raise ValueError(f"{name} must be a 2-D image or a (planes, Ly, Lx) stack, got shape {ref.shape}")
    if not (np.issubdtype(ref.dtype, np.number) and not np.iscomplexobj(ref)):
        raise ValueError(f"{name} must be a real numeric image, got dtype {ref.dtype}")
    ref = ref.astype(np.float32, copy=False)
    bad = ~np.isfinite(ref)
    if bad.any():
        z = int(np.argwhere(bad)[0][0])
        raise ValueError(f"{name} plane {z} holds {int(bad[z].sum())} NaN/inf pixels")
    return ref


# --------------------------------------------------------------------------- driver


def iter_features(
    rois: RoiSet,
    reference: np.ndarray,
    functional_reference: np.ndarray | None = None,
    names: Iterable[str] | None = None,
    chunk_size: int = 64,
    threads: int | None = None,
    **parameters: Any,
) -> Generator[Progress, None, dict[str, np.ndarray]]:
    """Compute features, yielding ``(rois_done, n_rois)`` as chunks finish (``n_rois`` once all is done).

    Parameters
    ----------
    rois : RoiSet
        The ROIs.
    reference : ndarray, (lz, ly, lx) or (ly, lx)
        Structural reference (e.g. ``meanImg_chan2`` per plane).
    functional_reference : ndarray or None
        Functional reference (e.g. ``meanImg``); enables ``functional_dot_product``.
    names : iterable of str or None
        Features to compute (default: all that apply, in the spec's order).
    chunk_size : int
        ROIs per chunk; memory grows with it, not with N.
    threads : int, optional
        Threads for the chunks (default: ``CELLECTOR_THREADS``, else the CPUs this process
        may use); a window computing the next sessions in the background uses one.
    **parameters
        Processing parameters (see ``DEFAULT_PARAMETERS``).

    Returns
    -------
    dict of str to ndarray
        The generator's return value: feature name -> (N,) values.
    """
    p = validate_parameters(parameters)
    ref = validate_reference(reference)
    fref = None if functional_reference is None else validate_reference(functional_reference, "functional_reference")
    _check_shapes(rois, ref, fref)
    wanted = list(feature_names(fref is not None) if names is None else names)
    possible = feature_names(fref is not None)
    unknown = [n for n in wanted if n not in possible]
    if unknown:
        raise ValueError(f"cannot compute feature(s) {unknown}")
    chunked = [s.name for s in REGISTRY if s.stage == "chunk" and s.name in wanted]
    threads = max(1, min(threads or _threads(), -(-rois.n_rois // chunk_size)))
    pool = ThreadPoolExecutor(threads, thread_name_prefix="cellector-features")
    band = _BandPass()
    try:
        with small_pages():
            if chunked:
                out = yield from _staged(pool, threads, rois, ref, fref, p, wanted, chunked, chunk_size, band)
            else:
                out = _band_passed_features(rois, ref, fref, p, wanted)
                yield (rois.n_rois, rois.n_rois)
    finally:
        band.stop.set()  # a closed generator stops the band-pass at the next plane...
        pool.shutdown(wait=True, cancel_futures=True)  # ...and its chunks
    return {s.name: out[s.name] for s in REGISTRY if s.name in out and s.name in wanted}


def _staged(pool, threads, rois, ref, fref, p, wanted, chunked, chunk_size, band: _BandPass):
    """Band-pass and chunks on the pool, overlapped; yields progress, returns every feature.

    The chunks' set-up (numba's first call, centroids, occupancy: ~0.5 s, holding the
    GIL) runs beside the band-pass (~0.7 s at 20 000 ROIs, FFTs that release it). Chunks
    start as soon as the set-up is done; those that start before the band-passed frame
    exists leave corr_coef for a second, short pass (masks and surround only).
    """
    setup = pool.submit(_Chunks, rois, ref, p, chunked, threads, band)
    filtering = pool.submit(_band_passed_features, rois, ref, fref, p, wanted, band)
    chunks = setup.result()
    values = yield from _run_chunks(pool, chunks, chunk_size, filtering)
    out = filtering.result()
    out.update(values)
    return out


class _BandPass:
    """What the band-pass task shares with the chunks and the driver."""

    def __init__(self) -> None:
        self.frame: np.ndarray | None = None  #: the band-passed reference (float32), once it exists
        self.stop = threading.Event()  #: set when the caller no longer wants the result


def _band_passed_features(rois, ref, fref, p, wanted, band: _BandPass | None = None) -> dict[str, np.ndarray]:
    """Compute the band-pass stage (dot products of each image); ``band.frame`` gets the band-passed reference.

    Plane by plane: each band-passed plane gives its pixels' values and, for corr_coef,
    its float32 copy, so no float64 stack is ever held (a 1024² plane is 8 MB).
    """
    bpf = (p["lowcut"], p["highcut"], p["order"])
    out: dict[str, np.ndarray] = {}
    by_plane = _pixels_by_plane(rois, ref.shape[0])
    images = {"reference": ref, "functional": fref}
    for image, frame in images.items():
        names = [s.name for s in REGISTRY if s.stage == "band-pass" and s.image == image and s.name in wanted]
        keep = None
        if image == "reference" and band is not None and "corr_coef" in wanted:
            keep = np.empty(ref.shape, np.float32)  # corr_coef reads the band-passed reference in its chunks
        if not names and keep is None:
            continue
        values = _filtered_pixel_values(rois, frame, bpf, by_plane, keep, band)
        if band is not None and keep is not None:
            band.frame = keep  # the chunks may use it from now on
        for name in names:
            out[name] = _lam_weighted_sums(rois, values)
    return out


def _pixels_by_plane(rois: RoiSet, planes: int) -> list[np.ndarray | slice]:
    """Return the indices of the pixels on each plane (a slice of all for one plane)."""
    if planes == 1:
        return [slice(None)]
    order = np.argsort(rois.zpix, kind="stable")
    bounds = np.searchsorted(rois.zpix[order], np.arange(planes + 1))
    return [order[a:b] for a, b in itertools.pairwise(bounds)]


def _filtered_pixel_values(rois, frame, bpf, by_plane, keep=None, band: _BandPass | None = None) -> np.ndarray:
    """Every ROI pixel's value in the band-passed ``frame`` (float64); ``keep`` gets the frame in float32.

    Raises ``CancelledError`` between planes once ``band.stop`` is set.
    """
    values = np.empty(rois.zpix.size)
    for k, filtered in band_passed_planes(frame, *bpf):
        if band is not None and band.stop.is_set():
            raise CancelledError("the features are no longer wanted")
        idx = by_plane[k]
        values[idx] = filtered[rois.ypix[idx], rois.xpix[idx]]
        if keep is not None:
            keep[k] = filtered
    return values


def _check_shapes(rois: RoiSet, ref: np.ndarray, fref: np.ndarray | None) -> None:
    if ref.shape != rois.shape:
        raise ValueError(f"reference shape {ref.shape} does not match the ROIs' frame {rois.shape}")
    if fref is not None and fref.shape != ref.shape:
        raise ValueError(f"functional_reference shape {fref.shape} differs from reference {ref.shape}")


class _Chunks:
    """What every chunk of ROIs needs, computed once; ``run`` does one chunk."""

    def __init__(
        self, rois: RoiSet, ref: np.ndarray, p: dict[str, Any], names: Iterable[str], threads: int, band: _BandPass
    ):
        self.rois, self.ref, self.names = rois, ref, set(names)
        self.band = band  # the band-passed reference, for corr_coef, once it exists
        self.threads = threads  # chunks run in parallel; each chunk's FFTs use one thread
        if "local_contrast" in self.names:
            self.occ = occupancy(rois)
            self.planes = background(ref, self.occ)
        self.ring = p["local_contrast_ring"]
        self.w = int(p["centered_width"])
        self.depth = rois.shape[0] if rois.volumetric else 1
        self.cent = rois.centroids(p["centroid_method"])
        self.win = window(p["window_kernel"], 2 * self.w + 1)
        self.fill = float(p["fill_value"])
        self.eps = float(p["phase_corr_eps"])
        self.iterations = int(p["surround_iterations"])

    def run(self, i0: int, i1: int) -> dict[str, np.ndarray]:
        """Return the chunked features of ROIs ``i0:i1``; corr_coef only if the band-passed frame exists."""
        r, out = self.rois, {}
        if "local_contrast" in self.names:
            out["local_contrast"] = local_contrast(r, self.ref, self.ring, self.occ, self.planes, start=i0, stop=i1)
        if not {"phase_corr", "corr_coef", "in_vs_out"} & self.names:
            return out
        masks = self._masks(i0, i1)
        if "phase_corr" in self.names:
            wrefs = _windowed_reference(self.ref, self.cent, i0, i1, self.w, self.depth, self.fill, self.win)
            out["phase_corr"] = _phase_corr_windowed(_windowed(masks, self.win), wrefs, self.eps)
        if {"corr_coef", "in_vs_out"} & self.names:
            frame = self.band.frame  # read once: the band-pass task sets it
            boxes = _dilated_boxes(masks, self.iterations)
            refs = self._boxed(self.ref, boxes, i0)
            frefs = refs if frame is None else self._boxed(frame, boxes, i0)
            out["in_vs_out"], corr = _surround_features(masks, refs, frefs, self.iterations, boxes)
            if frame is not None:
                out["corr_coef"] = corr
        return out

    def corr(self, i0: int, i1: int) -> dict[str, np.ndarray]:
        """Return corr_coef of ROIs ``i0:i1`` (for chunks that ran before the band-pass ended)."""
        masks = self._masks(i0, i1)
        boxes = _dilated_boxes(masks, self.iterations)
        frame = self.band.frame
        assert frame is not None  # only submitted once the band-pass has ended
        frefs = self._boxed(frame, boxes, i0)
        return {"corr_coef": _surround_features(masks, frefs, frefs, self.iterations, boxes)[1]}

    def _masks(self, i0: int, i1: int) -> np.ndarray:
        r = self.rois
        return _centered_masks(r.ypix, r.xpix, r.zpix, r.lam, r.ptr, self.cent, i0, i1, self.w, self.depth, self.fill)

    def _boxed(self, frame: np.ndarray, boxes: np.ndarray, i0: int) -> np.ndarray:
        return _boxed_reference(frame, boxes, self.cent, i0, self.w, self.depth, self.fill)


def _threads() -> int:
    """Threads for feature computation: ``CELLECTOR_THREADS``, else the CPUs this process may use.

    The CPUs are the affinity mask's (what a batch scheduler grants), not the machine's count.
    """
    wanted = os.environ.get("CELLECTOR_THREADS", "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity mask
        return os.cpu_count() or 1


def _run_chunks(pool: ThreadPoolExecutor, chunks: _Chunks, chunk_size: int, filtering: Future):
    """Run the chunks on the pool (the kernels release the GIL), yielding progress; return the values.

    Each chunk is independent, so the values do not depend on the number of threads or
    on when the band-pass ends. At most two tasks per thread are in flight, which bounds
    memory. A chunk that ran before the band-passed frame existed gets a corr_coef task
    once it does (``filtering`` is the band-pass task). Progress counts the ROIs through
    the main pass, and reaches the total only when nothing is left to do.
    """
    n = chunks.rois.n_rois
    res = {k: np.empty(n, SPECS[k].dtype) for k in chunks.names}
    bounds = iter([(i0, min(n, i0 + chunk_size)) for i0 in range(0, n, chunk_size)])
    waiting: deque[tuple[int, int]] = deque()  # chunks whose corr_coef waits for the band-pass
    pending: deque[tuple[tuple[int, int], bool, Future]] = deque()  # (bounds, second pass?, task)
    done = owed = reported = 0  # ROIs through the main pass; deferred chunks not yet finished

    def submit() -> bool:
        if waiting and (filtering.done() or not pending):
            filtering.result()  # nothing else to run: wait for the band-pass (and raise its error)
            w = waiting.popleft()
            pending.append((w, True, pool.submit(chunks.corr, *w)))
            return True
        b = next(bounds, None)
        if b is not None:
            pending.append((b, False, pool.submit(chunks.run, *b)))
        return b is not None

    while len(pending) < 2 * chunks.threads and submit():
        pass
    while pending:
        (i0, i1), second_pass, future = pending.popleft()
        values = future.result()
        for k, v in values.items():
            if k in res:  # a chunk may return more than was asked for
                res[k][i0:i1] = v
        if second_pass:
            owed -= 1
        else:
            done += i1 - i0
            if "corr_coef" in chunks.names and "corr_coef" not in values:
                waiting.append((i0, i1))
                owed += 1
        while len(pending) < 2 * chunks.threads and submit():
            pass
        progress = done if owed == 0 else min(done, n - 1)
        if progress > reported:
            reported = progress
            yield (progress, n)
    return res


def compute_features(
    rois: RoiSet,
    reference: np.ndarray,
    functional_reference: np.ndarray | None = None,
    names: Iterable[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    **parameters: Any,
) -> dict[str, np.ndarray]:
    """Compute features (see :func:`iter_features`), calling ``progress(done, total)``."""
    return run_with_progress(iter_features(rois, reference, functional_reference, names, **parameters), progress)


def run_with_progress(
    steps: Generator[tuple[int, int], None, Any], progress: Callable[[int, int], None] | None = None
) -> Any:
    """Run a generator that yields ``(done, total)``; report each step; return its value."""
    while True:
        try:
            done, total = next(steps)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(done, total)
