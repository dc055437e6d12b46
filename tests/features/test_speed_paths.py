"""The fast paths give the same numbers: threads, the band-pass kernel cache, lazy image stacks."""

import itertools
import threading

import numpy as np
import pytest

from cellector.features import compute as features
from cellector.features import filters
from cellector.features.compute import compute_features, iter_features
from cellector.io.suite2p import load_suite2p


@pytest.fixture
def session(synthetic):
    return load_suite2p(synthetic.root)


@pytest.mark.parametrize("threads", [1, 3])
def test_values_do_not_depend_on_threads(session, monkeypatch, threads):
    default = compute_features(session.rois, session.reference, session.functional_reference, chunk_size=8)
    monkeypatch.setenv("CELLECTOR_THREADS", str(threads))
    assert features._threads() == threads
    other = compute_features(session.rois, session.reference, session.functional_reference, chunk_size=8)
    assert list(other) == list(default)
    for name in default:
        np.testing.assert_array_equal(other[name], default[name], err_msg=name)


def _feature_threads():
    return [t for t in threading.enumerate() if t.name.startswith("cellector-features")]


def test_closing_the_generator_stops_its_threads(session, monkeypatch):
    monkeypatch.setenv("CELLECTOR_THREADS", "3")
    steps = iter_features(session.rois, session.reference, chunk_size=4)
    assert next(steps) == (4, session.rois.n_rois)
    assert len(_feature_threads()) == 3  # the pool is working on the next chunks
    steps.close()
    assert not _feature_threads()


def _cached_kernel_files(tmp_path):
    return sorted((tmp_path / "cellector" / "bandpass").glob("*.npy"))


def test_bandpass_kernel_is_cached_on_disk_and_a_bad_file_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(filters, "DISK_CACHE_PIXELS", 64 * 64)
    image = np.random.default_rng(1).random((64, 80)).astype(np.float32) * 100
    filters._kernel_spectrum.cache_clear()
    first = filters.butterworth_bpf(image)
    (cached,) = _cached_kernel_files(tmp_path)
    assert cached.name == "64x80-12-250-3.npy"
    kept = np.load(cached)
    # a new process (an empty in-memory cache) reads the file: same numbers
    filters._kernel_spectrum.cache_clear()
    np.testing.assert_array_equal(filters.butterworth_bpf(image), first)
    # a truncated file is not trusted: the kernel is recomputed and the file rewritten
    cached.write_bytes(cached.read_bytes()[:1000])
    filters._kernel_spectrum.cache_clear()
    np.testing.assert_array_equal(filters.butterworth_bpf(image), first)
    np.testing.assert_array_equal(np.load(cached), kept)
    filters._kernel_spectrum.cache_clear()


def test_bandpass_without_a_writable_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr(filters, "DISK_CACHE_PIXELS", 16 * 16)
    image = np.random.default_rng(2).random((16, 16)).astype(np.float32)
    filters._kernel_spectrum.cache_clear()
    out = filters.butterworth_bpf(image)
    filters._kernel_spectrum.cache_clear()
    assert out.shape == (16, 16) and np.isfinite(out).all()


def test_image_stacks_are_built_on_first_access(session, synthetic):
    ops = [np.load(synthetic.root / p / "ops.npy", allow_pickle=True).item() for p in ("plane0", "plane1")]
    assert list(session.images) == ["meanImg", "meanImgE", "meanImg_chan2"] and len(session.images) == 3
    np.testing.assert_array_equal(session.images["meanImgE"], np.stack([o["meanImgE"] for o in ops]))
    assert session.images["meanImgE"] is session.images["meanImgE"]  # stacked once
    with pytest.raises(KeyError):
        session.images["Vcorr"]


@pytest.mark.parametrize("volumetric", [False, True])
def test_dot_products_plane_by_plane_match_the_whole_stack(volumetric):
    """Planes are band-passed one at a time; ROIs out of plane order and ROIs across planes still read theirs."""
    rng = np.random.default_rng(7)
    shape = (3, 40, 48)
    ys, xs, zs, ls = [], [], [], []
    for plane in (2, 0, 1, 2, 0, 1, 1):
        n = int(rng.integers(3, 30))
        ys.append(rng.integers(0, shape[1], n))
        xs.append(rng.integers(0, shape[2], n))
        zs.append(rng.integers(0, shape[0], n) if volumetric else plane)
        ls.append(rng.random(n).astype(np.float32))
    rois = features.RoiSet.from_lists(ys, xs, ls, zs, shape, volumetric=volumetric)
    ref = (rng.random(shape) * 300).astype(np.float32)
    fref = (rng.random(shape) * 50).astype(np.float32)
    got = compute_features(rois, ref, fref, names=["dot_product", "functional_dot_product"])
    # dot_products gathers from the whole filtered stack (and is checked by hand in test_features)
    np.testing.assert_array_equal(got["dot_product"], features.dot_products(rois, filters.butterworth_bpf(ref)))
    np.testing.assert_array_equal(
        got["functional_dot_product"], features.dot_products(rois, filters.butterworth_bpf(fref))
    )


def test_band_passed_planes_is_the_stack_filtered_plane_by_plane():
    stack = (np.random.default_rng(3).random((3, 30, 20)) * 10).astype(np.float32)
    whole = filters.butterworth_bpf(stack)
    for k, plane in filters.band_passed_planes(stack):
        np.testing.assert_array_equal(plane, whole[k])
        np.testing.assert_array_equal(plane, filters.butterworth_bpf(stack[k]))


def test_chunks_that_start_before_the_band_pass_ends_get_corr_coef_later(session, monkeypatch):
    """The first chunks run while the band-pass is held back; their corr_coef comes from the second pass."""
    expected = compute_features(session.rois, session.reference, session.functional_reference, chunk_size=8)
    monkeypatch.setenv("CELLECTOR_THREADS", "2")
    two_chunks_ran = threading.Event()
    ran, deferred = [], []
    run, corr, planes = features._Chunks.run, features._Chunks.corr, features.band_passed_planes

    def counting_run(self, i0, i1):
        out = run(self, i0, i1)
        ran.append(i0)
        if len(ran) >= 2:
            two_chunks_ran.set()
        return out

    def counting_corr(self, i0, i1):
        deferred.append(i0)
        return corr(self, i0, i1)

    def held_back(*args):
        assert two_chunks_ran.wait(30), "no chunk ran while the band-pass waited"
        yield from planes(*args)

    monkeypatch.setattr(features._Chunks, "run", counting_run)
    monkeypatch.setattr(features._Chunks, "corr", counting_corr)
    monkeypatch.setattr(features, "band_passed_planes", held_back)
    steps = []
    got = compute_features(
        session.rois, session.reference, session.functional_reference, chunk_size=8, progress=lambda *s: steps.append(s)
    )
    assert len(deferred) >= 2 and set(deferred) <= set(ran)
    n = session.rois.n_rois
    assert all(a < b for (a, _), (b, _) in itertools.pairwise(steps))  # the total only once everything is done
    assert steps[-1] == (n, n)
    assert list(got) == list(expected)
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


def test_progress_counts_rois_whose_features_are_all_done(session, monkeypatch):
    monkeypatch.setenv("CELLECTOR_THREADS", "2")
    steps = list(_progress(iter_features(session.rois, session.reference, chunk_size=16)))
    n = session.rois.n_rois
    assert steps[-1] == (n, n)
    assert all(a < b for (a, _), (b, _) in itertools.pairwise(steps))
    assert {total for _, total in steps} == {n}


def _progress(gen):
    while True:
        try:
            yield next(gen)
        except StopIteration:
            return


def test_closing_the_generator_stops_the_band_pass_at_the_next_plane(session, monkeypatch):
    """A caller that gives up (the window's Cancel) does not wait for every plane to be filtered."""
    monkeypatch.setenv("CELLECTOR_THREADS", "2")
    release, advanced = threading.Event(), []
    planes = features.band_passed_planes

    def slow(*args):
        for k, plane in planes(*args):
            assert release.wait(30)
            advanced.append(k)
            yield k, plane

    monkeypatch.setattr(features, "band_passed_planes", slow)
    steps = iter_features(session.rois, session.reference, session.functional_reference, chunk_size=4)
    next(steps)  # a chunk is done (all but corr_coef); the band-pass waits at its first plane
    threading.Timer(0.2, release.set).start()  # lets it go while close() waits for the pool
    steps.close()
    assert advanced == [0]  # of the reference's two planes, and none of the functional frame's
    assert not _feature_threads()
