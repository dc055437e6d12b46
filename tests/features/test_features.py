"""Feature numerics: hand-computed values and the literal spec transcription."""

import numpy as np
import pytest

from cellector.features.compute import compute_features, iter_features, validate_parameters
from cellector.features.filters import butterworth_bpf, butterworth_gain
from cellector.features.rois import RoiSet

from . import spec_reference as spec


def _rois(pixels, shape=(1, 100, 100)):
    """pixels: list of (plane, [(y, x, lam), ...])."""
    ys = [np.array([p[0] for p in px]) for _, px in pixels]
    xs = [np.array([p[1] for p in px]) for _, px in pixels]
    ls = [np.array([p[2] for p in px], np.float32) for _, px in pixels]
    return RoiSet.from_lists(ys, xs, ls, [z for z, _ in pixels], shape)


def _load_plane(folder):
    stat = np.load(folder / "stat.npy", allow_pickle=True)
    ops = np.load(folder / "ops.npy", allow_pickle=True).item()
    return stat, ops


def test_in_vs_out_single_pixel_constant_reference():
    # centre = 1 pixel, surround = city-block disc of radius 2 = 13 pixels incl. centre
    rois = _rois([(0, [(50, 50, 1.0)])])
    ref = np.ones((1, 100, 100), np.float32)
    f = compute_features(rois, ref, names=["in_vs_out"])
    assert f["in_vs_out"].dtype == np.float32
    assert f["in_vs_out"][0] == pytest.approx(1 / 14)


def test_in_vs_out_zero_total_is_zero():
    rois = _rois([(0, [(50, 50, 1.0)])])
    f = compute_features(rois, np.zeros((1, 100, 100)), names=["in_vs_out"])
    assert f["in_vs_out"][0] == 0


def test_dot_product_hand_value():
    rois = _rois([(0, [(10, 10, 3.0), (10, 11, 4.0)])])
    filt = np.zeros((1, 100, 100))
    filt[0, 10, 10], filt[0, 10, 11] = 1.0, 2.0
    from cellector.features.compute import dot_products

    assert dot_products(rois, filt)[0] == pytest.approx((3 * 1 + 4 * 2) / 5)


def test_dot_product_all_zero_lam_is_nan():
    rois = _rois([(0, [(10, 10, 0.0), (10, 11, 0.0)]), (0, [(20, 20, 1.0)])])
    f = compute_features(rois, np.random.default_rng(0).random((1, 100, 100)), names=["dot_product", "corr_coef"])
    assert np.isnan(f["dot_product"][0]) and np.isfinite(f["dot_product"][1])
    assert np.isnan(f["corr_coef"][0])  # no footprint pixel > 0


def test_phase_corr_identical_delta_is_one_without_eps():
    # a centred delta has a flat spectrum, so R = 1 at every frequency when eps = 0
    rois = _rois([(0, [(50, 50, 1.0)])])
    ref = np.zeros((1, 100, 100), np.float32)
    ref[0, 50, 50] = 1.0
    f = compute_features(rois, ref, names=["phase_corr"], phase_corr_eps=0.0)
    assert f["phase_corr"][0] == pytest.approx(1.0)


def test_corr_coef_perfect_and_constant():
    rng = np.random.default_rng(1)
    blob = [(50 + dy, 50 + dx, float(rng.uniform(1, 2))) for dy in range(-2, 3) for dx in range(-2, 3)]
    rois = _rois([(0, blob)])
    from cellector.utils import compute_correlation, get_centered_masks

    m = get_centered_masks(
        [np.array([b[2] for b in blob], np.float32)],
        [np.array([b[0] for b in blob])],
        [np.array([b[1] for b in blob])],
        np.array([[50, 50]]),
        width=5,
    )
    assert compute_correlation(m, 3 * m + 1)[0] == pytest.approx(1.0)
    assert compute_correlation(m, -m)[0] == pytest.approx(-1.0)
    assert np.isnan(compute_correlation(m, np.full_like(m, 7.0))[0])
    assert rois.n_rois == 1


def test_median_centroid_truncates_half():
    rois = _rois([(0, [(1, 5, 1), (2, 5, 1), (3, 6, 1), (4, 6, 1)])])
    np.testing.assert_array_equal(rois.centroids("median"), [[0, 2, 5]])


def test_duplicate_pixel_is_assigned_not_summed():
    from cellector.utils import get_centered_masks

    m = get_centered_masks(
        [np.array([1.0, 5.0], np.float32)], [np.array([3, 3])], [np.array([3, 3])], np.array([[3, 3]]), width=2
    )
    assert m[0, 2, 2] == 5.0 and m.sum() == 5.0


def test_border_roi_patch_filled():
    from cellector.utils import get_centered_reference

    ref = np.arange(25, dtype=np.float32).reshape(5, 5) + 1
    c = get_centered_reference(ref, np.array([[0, 0]]), width=1, fill_value=-1)
    np.testing.assert_array_equal(c[0], [[-1, -1, -1], [-1, 1, 2], [-1, 6, 7]])


def test_gain_values():
    g = butterworth_gain((10, 10), 12, 250, 3)
    assert g[0, 0] == 0.0  # DC removed by the low cut
    f = np.hypot(np.fft.fftfreq(21, d=1 / 10)[3], np.fft.rfftfreq(21, d=1 / 10)[4])
    expect = (1 - 1 / (1 + (f / 12) ** 6)) / (1 + (f / 250) ** 6)
    assert g[3, 4] == pytest.approx(expect)
    with pytest.raises(ValueError, match="must not exceed"):
        butterworth_gain((4, 4), 300, 250, 3)
    with pytest.raises(ValueError, match="both be None"):
        butterworth_gain((4, 4), None, None, 3)


@pytest.mark.parametrize("shape", [(40, 56), (300, 257), (1, 7), (3, 3)])
def test_bandpass_matches_literal_spec(shape):
    # ours convolves on a fast FFT length; the spec pads to (2ny+1, 2nx+1): same numbers
    im = np.random.default_rng(0).random(shape).astype(np.float32) * 100
    ours = butterworth_bpf(im)
    ref = spec.bandpass(im)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())


@pytest.mark.parametrize("folder", ["suite2p-0.14-1plane", "suite2p-1.1-2planes"])
def test_matches_literal_spec_on_real_data(real_copy, folder):
    root = real_copy(folder)
    planes = sorted(p for p in root.iterdir() if p.name.startswith("plane"))
    stat_planes, refs, frefs = [], [], []
    for z, p in enumerate(planes):
        stat, ops = _load_plane(p)
        stat_planes += [(z, (r["ypix"], r["xpix"], r["lam"])) for r in stat]
        refs.append(ops["meanImg_chan2"])
        frefs.append(ops["meanImg"])
    refs, frefs = np.array(refs), np.array(frefs)
    rois = RoiSet.from_lists(
        [s[1][0] for s in stat_planes],
        [s[1][1] for s in stat_planes],
        [s[1][2] for s in stat_planes],
        [s[0] for s in stat_planes],
        refs.shape,
    )
    ours = compute_features(rois, refs, frefs, chunk_size=16)
    expected = spec.all_features(stat_planes, refs, frefs)
    assert list(ours) == [
        "phase_corr",
        "dot_product",
        "corr_coef",
        "in_vs_out",
        "local_contrast",
        "functional_dot_product",
    ]
    np.testing.assert_allclose(ours["local_contrast"], _local_contrast_by_hand(rois, refs), rtol=1e-6)
    for name, exp in expected.items():
        assert ours[name].dtype == (np.float32 if name == "in_vs_out" else np.float64)
        np.testing.assert_allclose(ours[name], exp, rtol=1e-5, atol=1e-6 * np.nanmax(np.abs(exp)), err_msg=name)


def test_volumetric_matches_stacked_2d_for_single_plane_rois():
    # Volumetric ROIs confined to one plane of a 1-plane volume equal the 2-D result.
    rng = np.random.default_rng(3)
    ref = rng.random((1, 60, 60)).astype(np.float32)
    ys = [np.array([10, 11, 12, 11]), np.array([40, 41, 41])]
    xs = [np.array([10, 10, 11, 12]), np.array([30, 30, 31])]
    ls = [rng.random(4).astype(np.float32), rng.random(3).astype(np.float32)]
    two_d = RoiSet.from_lists(ys, xs, ls, [0, 0], ref.shape)
    vol = RoiSet.from_lists(ys, xs, ls, [np.zeros(4, int), np.zeros(3, int)], ref.shape, volumetric=True)
    a = compute_features(two_d, ref, centered_width=8)
    b = compute_features(vol, ref, centered_width=8)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-6, err_msg=k)


def test_volumetric_surround_spreads_across_planes():
    from cellector.utils import center_surround

    m = np.zeros((1, 3, 7, 7), np.float32)
    m[0, 1, 3, 3] = 1
    center, sur = center_surround(m, iterations=1)
    assert center.sum() == 1 and sur.sum() == 7  # 6-connected cross
    assert sur[0, 0, 3, 3] and sur[0, 2, 3, 3]


def test_progress_and_chunking_do_not_change_values(synthetic):
    stat = np.load(synthetic.root / "plane0" / "stat.npy", allow_pickle=True)
    ops = np.load(synthetic.root / "plane0" / "ops.npy", allow_pickle=True).item()
    rois = RoiSet.from_lists(
        [r["ypix"] for r in stat], [r["xpix"] for r in stat], [r["lam"] for r in stat], None, (1, 128, 128)
    )
    steps = []
    a = compute_features(rois, ops["meanImg_chan2"], progress=lambda d, t: steps.append((d, t)), chunk_size=7)
    b = compute_features(rois, ops["meanImg_chan2"], chunk_size=1000)
    # one step per chunk of 7, plus (59, 60) when a chunk's corr_coef had to wait for the band-pass
    done = [d for d, _ in steps]
    assert steps[-1] == (60, 60) and {t for _, t in steps} == {60}
    assert done[:8] == [7, 14, 21, 28, 35, 42, 49, 56] and done[8:] in ([60], [59, 60])
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    gen = iter_features(rois, ops["meanImg_chan2"], chunk_size=30)
    assert next(gen) == (30, 60)


@pytest.mark.parametrize(
    "bad,match",
    [
        ({"nonsense": 1}, "unknown parameter"),
        ({"centered_width": 0}, "centered_width"),
        ({"centroid_method": "mean"}, "centroid_method"),
        ({"window_kernel": "kaiser"}, "window_kernel"),
        ({"lowcut": -1}, "lowcut"),
    ],
)
def test_bad_parameters(bad, match):
    with pytest.raises(ValueError, match=match):
        validate_parameters(bad)


@pytest.mark.parametrize(
    "ref,match",
    [
        (np.zeros(5), "2-D image"),
        (np.full((1, 100, 100), np.nan), "NaN"),
        (np.zeros((1, 50, 50)), "does not match"),
    ],
)
def test_bad_reference(ref, match):
    rois = _rois([(0, [(5, 5, 1.0)])])
    with pytest.raises(ValueError, match=match):
        compute_features(rois, ref)


def _local_contrast_by_hand(rois, refs, ring=4):
    """local_contrast with scipy.ndimage, one ROI at a time, as docs/features.md defines it."""
    from scipy import ndimage as ndi

    occ = np.zeros(rois.shape, bool)
    occ[rois.zpix, rois.ypix, rois.xpix] = True
    median, scale = [], []
    for z in range(rois.shape[0]):
        bg = refs[z][~occ[z]].astype(np.float64)
        median.append(np.median(bg))
        scale.append(1.4826 * np.median(np.abs(bg - median[-1])))
    out = np.full(rois.n_rois, np.nan)
    for i in range(rois.n_rois):
        zs, ys, xs, lam = rois.roi(i)
        z = int(zs[0])
        mask = np.zeros(rois.shape[1:], bool)
        mask[ys, xs] = True
        band = ndi.binary_dilation(mask, iterations=ring) & ~mask & ~occ[z]
        inner = np.sum(lam.astype(np.float64) * refs[z, ys, xs]) / np.sum(lam, dtype=np.float64)
        local = refs[z][band].astype(np.float64).mean() if band.sum() >= 5 else median[z]
        out[i] = (inner - local) / scale[z]
    return out


def test_local_contrast_degenerate_rois_are_nan():
    from cellector.features.local_contrast import local_contrast

    ref = np.random.default_rng(1).random((1, 20, 20)).astype(np.float32)
    ys = [np.arange(20).repeat(20), np.array([5]), np.array([10])]
    xs = [np.tile(np.arange(20), 20), np.array([5]), np.array([10])]
    lams = [np.ones(400), np.zeros(1), np.ones(1)]
    rois = RoiSet.from_lists(ys, xs, lams, None, (1, 20, 20))
    # ROI 0 covers the frame: no ROI-free pixel anywhere, no background; ROI 1 has zero weight
    assert np.isnan(local_contrast(rois, ref)).all()
    free = RoiSet.from_lists(ys[1:], xs[1:], [np.ones(1), np.ones(1)], None, (1, 20, 20))
    assert np.isfinite(local_contrast(free, ref)).all()
    flat = np.ones((1, 20, 20), np.float32)  # a background without spread
    assert np.isnan(local_contrast(free, flat)).all()


def test_packed_one_pixel_rois_fall_back_to_the_plane_background():
    """A block of one-pixel ROIs (as in a dense or tiny-ROI segmentation): every value is defined."""
    from cellector.features.local_contrast import local_contrast

    rng = np.random.default_rng(4)
    ref = rng.normal(100, 10, (1, 40, 40)).astype(np.float32)
    ys, xs = np.divmod(np.arange(30 * 30), 30)  # a 30 x 30 block in the corner: 900 one-pixel ROIs
    rois = RoiSet.from_lists([[y] for y in ys], [[x] for x in xs], [[1.0]] * ys.size, None, (1, 40, 40))
    got = local_contrast(rois, ref)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, _local_contrast_by_hand(rois, ref), rtol=1e-12)
    # deep inside the block there is no free ring pixel: the value is against the plane's background
    free = ref[0][np.ones((40, 40), bool) & ~((np.arange(40)[:, None] < 30) & (np.arange(40) < 30))]
    bg = np.median(free.astype(np.float64))
    scale = 1.4826 * np.median(np.abs(free - bg))
    assert got[15 * 30 + 15] == pytest.approx((ref[0, 15, 15] - bg) / scale, rel=1e-12)
    # at the block's free edge the ring is local again
    edge = 29 * 30 + 10
    assert got[edge] != pytest.approx((ref[0, 29, 10] - bg) / scale, rel=1e-6)


def test_tiny_and_degenerate_rois_as_documented():
    """docs/features.md's table of tiny and degenerate ROIs, row by row, against hand values."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng(0)
    ref = rng.normal(100, 10, (1, 64, 64)).astype(np.float32)
    ys, xs = [[10], [20, 20, 21], [30]], [[10], [20, 21, 20], [30]]
    lams = [[1.0], [0.0, 0.0, 0.0], [-2.0]]  # one pixel; every lam zero; no positive lam
    rois = RoiSet.from_lists(ys, xs, lams, None, (1, 64, 64))
    f = compute_features(rois, ref)
    # one pixel: in_vs_out is C / (2C + the 12 ring pixels at city-block distance 1..2)
    ring = ndi.binary_dilation(np.pad([[1]], 2), ndi.generate_binary_structure(2, 1), iterations=2)
    ring[2, 2] = False
    c = np.float32(ref[0, 10, 10])
    assert f["in_vs_out"][0] == pytest.approx(c / (2 * c + ref[0, 8:13, 8:13][ring].sum(dtype=np.float32)), rel=1e-6)
    assert np.isfinite([f[k][0] for k in f]).all()
    # every lam zero
    assert (f["phase_corr"][1], f["in_vs_out"][1]) == (0, 0)
    assert np.isnan([f["dot_product"][1], f["corr_coef"][1], f["local_contrast"][1]]).all()
    # no positive lam: dot_product is -FILT at the pixel; an empty footprint otherwise
    assert np.isnan([f["corr_coef"][2], f["local_contrast"][2]]).all() and f["in_vs_out"][2] == 0
    single = compute_features(RoiSet.from_lists([[30]], [[30]], [[1.0]], None, (1, 64, 64)), ref)
    assert f["dot_product"][2] == pytest.approx(-single["dot_product"][0], rel=1e-12)


def test_border_rois_with_a_fill_value_match_the_spec():
    """ROIs whose patch leaves the image, with a non-zero fill: the chunked kernels against the transcription."""
    rng = np.random.default_rng(11)
    ref = (rng.random((1, 48, 52)) * 50).astype(np.float32)
    centres = [(1, 1), (0, 50), (47, 3), (46, 51), (24, 26), (10, 40)]
    stat_planes = []
    for yc, xc in centres:
        y, x = np.meshgrid(np.arange(yc - 2, yc + 3), np.arange(xc - 2, xc + 3), indexing="ij")
        keep = (y >= 0) & (y < 48) & (x >= 0) & (x < 52)
        lam = rng.random(int(keep.sum())).astype(np.float32) + 0.1
        stat_planes.append((0, (y[keep], x[keep], lam)))
    rois = RoiSet.from_lists(*([s[1][k] for s in stat_planes] for k in range(3)), [0] * len(centres), ref.shape)
    ours = compute_features(rois, ref, centered_width=8, fill_value=2.5, chunk_size=4)
    filt = np.array([spec.bandpass(r) for r in ref]).astype(np.float32)
    masks, cref, fref = spec.patches(stat_planes, ref, w=8, fill=2.5, filt=filt)
    expected = {
        "phase_corr": spec.phase_corr(masks, cref),
        "in_vs_out": spec.in_vs_out(masks, cref),
        "corr_coef": spec.corr_coef(masks, fref),
    }
    for name, exp in expected.items():
        np.testing.assert_allclose(ours[name], exp, rtol=1e-5, atol=1e-6 * np.nanmax(np.abs(exp)), err_msg=name)
