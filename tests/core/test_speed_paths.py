"""The fast paths give the same numbers: threads, the band-pass kernel cache, lazy image stacks."""

import threading

import numpy as np
import pytest

from cellector import features, filters
from cellector.features import compute_features, iter_features
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
