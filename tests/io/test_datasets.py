"""The synthetic suite2p generator: shapes, determinism, ground truth vs image."""

import numpy as np
import pytest

from cellector.io.datasets import make_suite2p_folder


def _load(path):
    return np.load(path, allow_pickle=True)


def test_layout_and_shapes(tmp_path):
    s = make_suite2p_folder(tmp_path, n_planes=3, n_rois=50, shape=(128, 96), seed=1)
    assert sorted(p.name for p in s.root.iterdir()) == ["plane0", "plane1", "plane2"]
    for p in range(3):
        d = s.root / f"plane{p}"
        stat = _load(d / "stat.npy")
        ops = _load(d / "ops.npy").item()
        assert stat.shape == (50,)
        assert ops["meanImg"].shape == ops["meanImg_chan2"].shape == (128, 96)
        assert ops["meanImg_chan2"].dtype == np.float32
        assert (ops["Ly"], ops["Lx"]) == (128, 96)
        assert _load(d / "iscell.npy").shape == (50, 2)
        assert _load(d / "redcell.npy").shape == (50, 2)
        for roi in stat:
            assert roi["ypix"].size == roi["xpix"].size == roi["lam"].size == roi["npix"] > 0
            assert roi["lam"].dtype == np.float32
            assert roi["ypix"].min() >= 0 and roi["ypix"].max() < 128
            assert roi["xpix"].min() >= 0 and roi["xpix"].max() < 96
    truth = np.load(tmp_path / "ground_truth" / "plane1_roi_truth.npz")["truth_red"]
    assert truth.dtype == bool and truth.shape == (50,)
    np.testing.assert_array_equal(truth, s.truth_red[1])


def test_deterministic_per_seed(tmp_path):
    a = make_suite2p_folder(tmp_path / "a", n_planes=1, n_rois=40, seed=7)
    b = make_suite2p_folder(tmp_path / "b", n_planes=1, n_rois=40, seed=7)
    c = make_suite2p_folder(tmp_path / "c", n_planes=1, n_rois=40, seed=8)
    ia = _load(a.root / "plane0" / "ops.npy").item()["meanImg_chan2"]
    ib = _load(b.root / "plane0" / "ops.npy").item()["meanImg_chan2"]
    ic = _load(c.root / "plane0" / "ops.npy").item()["meanImg_chan2"]
    np.testing.assert_array_equal(ia, ib)
    assert not np.array_equal(ia, ic)
    sa, sb = _load(a.root / "plane0" / "stat.npy"), _load(b.root / "plane0" / "stat.npy")
    for ra, rb in zip(sa, sb, strict=False):
        np.testing.assert_array_equal(ra["ypix"], rb["ypix"])
        np.testing.assert_array_equal(ra["lam"], rb["lam"])


def test_truth_matches_the_red_image(tmp_path):
    s = make_suite2p_folder(tmp_path, n_planes=1, n_rois=150, shape=(256, 256), seed=3)
    d = s.root / "plane0"
    stat = _load(d / "stat.npy")
    red = _load(d / "ops.npy").item()["meanImg_chan2"]
    mean_in = np.array([red[r["ypix"], r["xpix"]].mean() for r in stat])
    truth = s.truth_red[0]
    assert 0.25 < truth.mean() < 0.55
    # Red ROIs are much brighter in channel 2 on average than non-red ones.
    assert np.median(mean_in[truth]) > 2 * np.median(mean_in[~truth])


def test_border_and_overlap_present(tmp_path):
    s = make_suite2p_folder(tmp_path, n_planes=1, n_rois=200, shape=(128, 128), seed=0)
    stat = _load(s.root / "plane0" / "stat.npy")
    touches = [r["ypix"].min() == 0 or r["ypix"].max() == 127 for r in stat]
    assert any(touches)
    owner = np.zeros((128, 128), int)
    for r in stat:
        owner[r["ypix"], r["xpix"]] += 1
    assert owner.max() >= 2


def test_rejects_empty(tmp_path):
    with pytest.raises(ValueError, match="at least 1"):
        make_suite2p_folder(tmp_path, n_rois=0)


def test_variations_do_what_they_say(tmp_path):
    from cellector.io.datasets import Variation

    base = make_suite2p_folder(tmp_path / "base", n_planes=1, n_rois=120, seed=4)
    same = make_suite2p_folder(tmp_path / "same", n_planes=1, n_rois=120, seed=4, variation=Variation())
    red_of = lambda s: _load(s.root / "plane0" / "ops.npy").item()["meanImg_chan2"]  # noqa: E731
    np.testing.assert_array_equal(red_of(base), red_of(same))  # the defaults write the demo's files
    # no bleed-through and no orphan red cells: the red image is background + red somata + noise only
    clean = make_suite2p_folder(tmp_path / "clean", 1, 120, seed=4, variation=Variation(bleed=0.0, orphans=0.0))
    strong = make_suite2p_folder(tmp_path / "strong", 1, 120, seed=4, variation=Variation(bleed=0.5, orphans=0.0))
    green = _load(clean.root / "plane0" / "ops.npy").item()["meanImg"]
    diff = red_of(strong).astype(float) - red_of(clean)
    # the only difference is 0.38 more of the noise-free green image (the noise draws are the same)
    assert np.corrcoef(diff.ravel(), green.ravel())[0, 1] > 0.99
    # dim red cells: a third of the red ROIs at 10-35 % brightness lower the red ROIs' median brightness
    dim = make_suite2p_folder(tmp_path / "dim", 1, 120, seed=4, variation=Variation(dim_fraction=0.6))
    stat = _load(dim.root / "plane0" / "stat.npy")
    inside = lambda s: np.array([red_of(s)[r["ypix"], r["xpix"]].mean() for r in stat])  # noqa: E731
    truth = dim.truth_red[0]
    assert np.median(inside(dim)[truth]) < np.median(inside(base)[truth])
    # suite2p-like red probability from the image: higher on red ROIs, but not a copy of the truth
    img = make_suite2p_folder(tmp_path / "img", 1, 120, seed=4, variation=Variation(redcell="image"))
    prob = _load(img.root / "plane0" / "redcell.npy")[:, 1]
    t = img.truth_red[0]
    assert prob[t].mean() > prob[~t].mean() + 0.2 and 0 <= prob.min() and prob.max() <= 1
    assert not np.array_equal(prob > 0.5, t)


def test_orphans_near_touch_a_non_red_roi(tmp_path):
    from cellector.io.datasets import Variation

    far = make_suite2p_folder(tmp_path / "far", 1, 100, seed=6, variation=Variation(orphans=0.3, orphans_near=0.0))
    near = make_suite2p_folder(tmp_path / "near", 1, 100, seed=6, variation=Variation(orphans=0.3, orphans_near=1.0))
    stat = _load(near.root / "plane0" / "stat.npy")
    truth = near.truth_red[0]

    def ring_red(s):
        red = _load(s.root / "plane0" / "ops.npy").item()["meanImg_chan2"]
        out = []
        for r in np.array(stat)[~truth]:
            y, x = int(np.median(r["ypix"])), int(np.median(r["xpix"]))
            out.append(red[max(0, y - 12) : y + 13, max(0, x - 12) : x + 13].max())
        return np.array(out)

    # red cells without an ROI beside non-red ROIs: their neighbourhood is brighter in channel 2
    assert np.median(ring_red(near)) > np.median(ring_red(far))
