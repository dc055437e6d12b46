"""Deterministic synthetic suite2p folders for the demo, the tests and the benchmarks.

The generator writes what suite2p writes (``stat.npy``, ``ops.npy``, ``iscell.npy``,
``redcell.npy`` per plane) for a simulated two-channel recording, plus the ground
truth in ``<out>/ground_truth/planeN_roi_truth.npz`` (``truth_red`` per ROI, in
``stat.npy`` order), the same layout as the real test folders.

What the images contain, so tests can reason about them:

* ``meanImg`` (functional channel): every ROI is a bright soma on smooth neuropil.
* ``meanImg_chan2`` (structural channel): a soma-shaped blob under each red ROI with
  log-normal brightness, red cells without an ROI, 12 % bleed-through of the
  functional image, a smooth background and noise.
* ROIs at the frame border (pixels clipped to the frame) and overlapping ROIs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["DEMO_MARKER", "SyntheticSession", "Variation", "check_demo_target", "make_suite2p_folder"]

_BLEED = 0.12  # fraction of the functional image that leaks into channel 2


@dataclass(frozen=True)
class SyntheticSession:
    """What :func:`make_suite2p_folder` wrote.

    Attributes
    ----------
    root : Path
        The suite2p folder (holds ``plane0``, ``plane1``, ...).
    truth_red : list of ndarray
        Per plane, bool (N_plane,): the ROI sits on a red cell.
    n_rois : list of int
        ROIs per plane.
    """

    root: Path
    truth_red: list[np.ndarray]
    n_rois: list[int]


def _disk_offsets(radius: float) -> tuple[np.ndarray, np.ndarray]:
    r = int(np.ceil(radius))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    keep = dy**2 + dx**2 <= radius**2
    return dy[keep], dx[keep]


def _roi_pixels(rng: np.random.Generator, cy: np.ndarray, cx: np.ndarray, radii: np.ndarray, ly: int, lx: int):
    """Pixels of disc ROIs, clipped to the frame, as flat arrays plus offsets."""
    templates = {r: _disk_offsets(r) for r in np.unique(radii)}
    counts = np.array([templates[r][0].size for r in radii])
    order_dy = np.concatenate([templates[r][0] for r in radii])
    order_dx = np.concatenate([templates[r][1] for r in radii])
    roi = np.repeat(np.arange(radii.size), counts)
    y = cy[roi] + order_dy
    x = cx[roi] + order_dx
    rad = radii[roi].astype(np.float64)
    dist2 = (order_dy**2 + order_dx**2) / np.maximum(rad, 1.0) ** 2
    lam = np.exp(-2.0 * dist2) * rng.uniform(0.5, 1.5, radii.size)[roi]
    inside = (y >= 0) & (y < ly) & (x >= 0) & (x < lx)
    y, x, lam, roi = y[inside], x[inside], lam[inside], roi[inside]
    ptr = np.zeros(radii.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(roi, minlength=radii.size), out=ptr[1:])
    return y, x, lam.astype(np.float32), ptr


def _splat(shape: tuple[int, int], cy, cx, radii, amplitude) -> np.ndarray:
    """Sum of Gaussian somata (sigma = radius / 1.5) rendered into an image."""
    ly, lx = shape
    image = np.zeros(ly * lx, dtype=np.float64)
    for r in np.unique(radii):
        sel = radii == r
        dy, dx = _disk_offsets(2.0 * r)
        gain = np.exp(-(dy**2 + dx**2) / (2.0 * (r / 1.5) ** 2))
        y = cy[sel][:, None] + dy[None]
        x = cx[sel][:, None] + dx[None]
        w = amplitude[sel][:, None] * gain[None]
        ok = (y >= 0) & (y < ly) & (x >= 0) & (x < lx)
        image += np.bincount((y * lx + x)[ok], weights=w[ok], minlength=ly * lx)
    return image.reshape(ly, lx)


def _smooth_background(rng: np.random.Generator, shape: tuple[int, int], level: float) -> np.ndarray:
    ly, lx = shape
    yy = np.linspace(0, np.pi * rng.uniform(1, 3), ly)[:, None]
    xx = np.linspace(0, np.pi * rng.uniform(1, 3), lx)[None, :]
    return level * (1.0 + 0.3 * np.sin(yy + rng.uniform(0, 6)) * np.cos(xx + rng.uniform(0, 6)))


@dataclass(frozen=True)
class Variation:
    """What varies between synthetic sessions, as it varies between real ones.

    The defaults write the demo's session (the same files, seed for seed, as before these
    options existed); the benchmarks of guided review draw sessions over their ranges.

    Attributes
    ----------
    red_fraction : float
        Fraction of ROIs on a red cell (5-60 % in real studies).
    bleed : float
        Fraction of the functional image that leaks into channel 2 (0-0.5).
    orphans : float
        Red cells without an ROI, per ROI (0-0.3): suite2p did not detect them.
    orphans_near : float
        Fraction of those orphans that touch a non-red ROI (their light spills into it).
    dim_fraction : float
        Fraction of red cells that are dim (10-35 % of the usual brightness).
    red_brightness : float
        Median brightness of a red soma in channel 2 (the background is 60).
    red_spread : float
        Log-normal spread of the red somata's brightness.
    redcell : str
        How ``redcell.npy`` (suite2p's red probability) is made: ``"truth"`` (from the
        ground truth with noise, the demo's) or ``"image"`` (from the ROI's channel-2
        intensity against its surround, as suite2p does).
    """

    red_fraction: float = 0.4
    bleed: float = _BLEED
    orphans: float = 0.1
    orphans_near: float = 0.0
    dim_fraction: float = 0.0
    red_brightness: float = 400.0
    red_spread: float = 0.4
    redcell: str = "truth"


def _orphan_centres(rng, extra, v: Variation, cy, cx, radii, is_red, shape):
    """Centres and radii of red cells without an ROI; some touch a non-red ROI."""
    ly, lx = shape
    n = cy.size
    n_orphan = max(1, n // 10) if v.orphans == 0.1 else round(n * v.orphans)  # the demo's count, as it was
    o_cy, o_cx = rng.integers(0, ly, n_orphan), rng.integers(0, lx, n_orphan)
    o_r = rng.integers(3, 7, n_orphan)
    hosts = np.flatnonzero(~is_red)
    n_near = round(n_orphan * v.orphans_near) if hosts.size else 0
    if n_near:
        h = extra.choice(hosts, n_near)
        angle = extra.uniform(0, 2 * np.pi, n_near)
        dist = (radii[h] + o_r[:n_near]) * extra.uniform(0.8, 1.1, n_near)
        o_cy[:n_near] = np.clip(np.round(cy[h] + dist * np.sin(angle)), 0, ly - 1).astype(o_cy.dtype)
        o_cx[:n_near] = np.clip(np.round(cx[h] + dist * np.cos(angle)), 0, lx - 1).astype(o_cx.dtype)
    return o_cy, o_cx, o_r


def _plane(rng: np.random.Generator, n_rois: int, shape: tuple[int, int], v: Variation, extra: np.random.Generator):
    ly, lx = shape
    radii = rng.integers(3, 7, n_rois)
    cy = rng.integers(0, ly, n_rois)
    cx = rng.integers(0, lx, n_rois)
    # A few ROIs sit exactly on the border so their masks are clipped.
    n_edge = max(1, n_rois // 50)
    cy[:n_edge] = rng.choice([0, ly - 1], n_edge)
    # Some ROIs overlap a neighbour (suite2p allows overlapping masks).
    n_over = max(1, n_rois // 20)
    src = rng.integers(0, n_rois, n_over)
    dst = rng.integers(0, n_rois, n_over)
    cy[dst] = np.clip(cy[src] + rng.integers(-3, 4, n_over), 0, ly - 1)
    cx[dst] = np.clip(cx[src] + rng.integers(-3, 4, n_over), 0, lx - 1)
    is_red = rng.random(n_rois) < v.red_fraction

    green = _splat(shape, cy, cx, radii, rng.uniform(150, 300, n_rois))
    green += _smooth_background(rng, shape, 100.0)
    o_cy, o_cx, o_r = _orphan_centres(rng, extra, v, cy, cx, radii, is_red, shape)
    level = np.log(v.red_brightness)
    red_amp = np.where(is_red, rng.lognormal(level, v.red_spread, n_rois), 0.0)
    if v.dim_fraction > 0:
        dim = is_red & (extra.random(n_rois) < v.dim_fraction)
        red_amp[dim] *= extra.uniform(0.1, 0.35, int(dim.sum()))
    red = _splat(shape, cy, cx, radii, red_amp)
    red += _splat(shape, o_cy, o_cx, o_r, rng.lognormal(level, v.red_spread, o_cy.size))
    red += v.bleed * green + _smooth_background(rng, shape, 60.0)
    green += rng.normal(0, 5.0, shape)
    red += rng.normal(0, 5.0, shape)
    return cy, cx, radii, is_red, green.astype(np.float32), red.astype(np.float32)


def _stat(y, x, lam, ptr, cy, cx, radii) -> np.ndarray:
    stat = np.empty(ptr.size - 1, dtype=object)
    for i in range(stat.size):
        sl = slice(ptr[i], ptr[i + 1])
        npix = int(ptr[i + 1] - ptr[i])
        stat[i] = {
            "ypix": y[sl].astype(np.int64),
            "xpix": x[sl].astype(np.int64),
            "lam": lam[sl],
            "med": [int(cy[i]), int(cx[i])],
            "npix": npix,
            "radius": float(radii[i]),
            "compact": 1.0 + 0.05 * (i % 7) / 7,
            "footprint": 1.0,
            "aspect_ratio": 1.0,
            "npix_norm": float(npix) / max(1, int(np.pi * radii[i] ** 2)),
            "overlap": np.zeros(npix, dtype=bool),
            "skew": np.float32(1.0),
            "std": np.float32(10.0),
        }
    return stat


def _labels(rng: np.random.Generator, is_red: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = is_red.size
    cell_prob = rng.uniform(0.3, 1.0, n)
    iscell = np.column_stack([(cell_prob > 0.5).astype(np.float64), cell_prob])
    red_prob = np.clip(0.7 * is_red + rng.normal(0.15, 0.15, n), 0.0, 1.0)
    redcell = np.column_stack([(red_prob > 0.5).astype(np.float32), red_prob.astype(np.float32)])
    return iscell, redcell


def _redcell_from_image(red: np.ndarray, y: np.ndarray, x: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """suite2p-like red probability: the ROI's mean in channel 2 against a 3-pixel ring around it.

    The log of the ratio, centred on its median and scaled by its spread, through a
    logistic: an imperfect probability, as suite2p's own is.
    """
    from scipy import ndimage

    ly, lx = red.shape
    n = ptr.size - 1
    inside = np.add.reduceat(red[y, x].astype(np.float64), ptr[:-1]) / np.maximum(np.diff(ptr), 1)
    owner = np.zeros((ly, lx), bool)
    owner[y, x] = True
    roi = np.repeat(np.arange(n), np.diff(ptr))
    ring = np.empty(n)
    for i in range(n):
        mask = np.zeros((ly, lx), bool)
        mask[y[roi == i], x[roi == i]] = True
        grown = ndimage.binary_dilation(mask, iterations=3) & ~owner
        ring[i] = red[grown].mean() if grown.any() else red.mean()
    ratio = np.log(np.maximum(inside, 1e-3) / np.maximum(ring, 1e-3))
    spread = np.subtract(*np.percentile(ratio, [75, 25])) or 1.0
    prob = 1.0 / (1.0 + np.exp(-(ratio - np.median(ratio) - 0.5 * spread) / (0.5 * spread)))
    return np.column_stack([(prob > 0.5).astype(np.float32), prob.astype(np.float32)])


#: The file that marks a folder as a synthetic session cellector wrote (and may overwrite).
DEMO_MARKER = ".cellector-demo"


def check_demo_target(out: str | Path) -> None:
    """Refuse to write a synthetic session into a folder that holds anything else.

    Raises
    ------
    ValueError
        When ``out`` is a file, or a non-empty folder without :data:`DEMO_MARKER`
        (say, a real suite2p folder): nothing is written.
    """
    path = Path(out)
    if not path.exists():
        return
    if not path.is_dir():
        raise ValueError(f"{path} is a file, not a folder for the demo session")
    if (path / DEMO_MARKER).is_file() or not any(path.iterdir()):
        return
    suite2p = any(next(path.glob(p), None) for p in ("stat.npy", "*/stat.npy", "*/*/stat.npy"))
    what = "holds a suite2p session" if suite2p else "is not empty"
    raise ValueError(
        f"{path} {what} and is not a cellector demo folder: refusing to write over it (choose a new folder)"
    )


def make_suite2p_folder(
    out: str | Path,
    n_planes: int = 2,
    n_rois: int = 200,
    shape: tuple[int, int] = (256, 256),
    seed: int = 0,
    red_fraction: float = 0.4,
    redcell: bool = True,
    variation: Variation | None = None,
) -> SyntheticSession:
    """Write a synthetic two-channel suite2p output folder.

    Parameters
    ----------
    out : str or Path
        Folder to create; the suite2p folder is ``out/suite2p``.
    n_planes : int
        Number of plane folders (``plane0`` ... ``plane{n_planes-1}``).
    n_rois : int
        ROIs per plane.
    shape : (int, int)
        Frame size ``(Ly, Lx)``.
    seed : int
        Seed; the same arguments always write the same files.
    red_fraction : float
        Fraction of ROIs that sit on a red (channel 2) cell.
    redcell : bool
        Whether to write ``redcell.npy`` (suite2p's red probability).
    variation : Variation, optional
        What else varies (bleed-through, red cells without an ROI, dim red cells, how
        ``redcell.npy`` is made); its ``red_fraction`` replaces the argument's.

    Returns
    -------
    SyntheticSession
        The suite2p folder and the ground truth.
    """
    if n_planes < 1 or n_rois < 1:
        raise ValueError("n_planes and n_rois must be at least 1")
    check_demo_target(out)
    for old in ("suite2p", "ground_truth"):  # an earlier demo of ours: start afresh, state included
        shutil.rmtree(Path(out) / old, ignore_errors=True)
    ly, lx = int(shape[0]), int(shape[1])
    root = Path(out) / "suite2p"
    truth_dir = Path(out) / "ground_truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    (Path(out) / DEMO_MARKER).write_text("a synthetic session written by cellector; safe to overwrite\n")
    v = variation if variation is not None else Variation(red_fraction=red_fraction)
    rng = np.random.default_rng(seed)
    extra = np.random.default_rng([seed, 1])  # draws for the variations only: the defaults draw as before
    truths = []
    for p in range(n_planes):
        cy, cx, radii, is_red, green, red = _plane(rng, n_rois, (ly, lx), v, extra)
        y, x, lam, ptr = _roi_pixels(rng, cy, cx, radii, ly, lx)
        plane_dir = root / f"plane{p}"
        plane_dir.mkdir(parents=True, exist_ok=True)
        ops = {
            "Ly": ly,
            "Lx": lx,
            "nchannels": 2,
            "iplane": p,
            "nplanes": n_planes,
            "meanImg": green,
            "meanImg_chan2": red,
            "meanImgE": green / green.max(),
            "yrange": np.array([0, ly]),
            "xrange": np.array([0, lx]),
            "suite2p_version": "synthetic",
            "save_path": str(plane_dir),
        }
        np.save(plane_dir / "ops.npy", np.array(ops, dtype=object), allow_pickle=True)
        np.save(plane_dir / "stat.npy", _stat(y, x, lam, ptr, cy, cx, radii), allow_pickle=True)
        iscell, redprob = _labels(rng, is_red)
        if v.redcell == "image":
            redprob = _redcell_from_image(red, y, x, ptr)
        np.save(plane_dir / "iscell.npy", iscell)
        if redcell:
            np.save(plane_dir / "redcell.npy", redprob)
        np.savez(truth_dir / f"plane{p}_roi_truth.npz", truth_red=is_red)
        truths.append(is_red)
    return SyntheticSession(root=root, truth_red=truths, n_rois=[n_rois] * n_planes)
