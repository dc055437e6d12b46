"""numpy's huge-page request is off inside the heavy phases and restored after them."""

import threading

import pytest

from cellector._shared import memory as _memory
from cellector.features import compute as features
from cellector.features.compute import compute_features
from cellector.io import suite2p


@pytest.fixture
def switch():
    switch = _memory._switch()
    assert switch is not None, "this numpy has no run-time huge-page switch"
    before = switch(True)  # a known state for the test
    yield switch
    switch(before)


def _requested(switch) -> bool:
    """numpy's current setting (the switch returns the previous one)."""
    state = switch(True)
    switch(state)
    return state


def test_off_inside_and_restored_after_nested_blocks(switch):
    with _memory.small_pages():
        assert _requested(switch) is False
        with _memory.small_pages():
            assert _requested(switch) is False
        assert _requested(switch) is False  # the outer block is still running
    assert _requested(switch) is True


def test_a_user_choice_of_no_huge_pages_is_kept(switch):
    switch(False)
    with _memory.small_pages():
        pass
    assert _requested(switch) is False


def test_threads_share_one_block(switch):
    inside, release = threading.Event(), threading.Event()

    def other():
        with _memory.small_pages():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=other)
    t.start()
    assert inside.wait(10)
    with _memory.small_pages():
        pass
    assert _requested(switch) is False  # this thread left, the other is still inside
    release.set()
    t.join()
    assert _requested(switch) is True


def test_reading_and_computing_run_without_huge_pages(synthetic, switch, monkeypatch):
    states = {"read": [], "compute": []}

    def probe(module, name, phase):
        real = getattr(module, name)

        def probing(*args):
            states[phase].append(_requested(switch))
            return real(*args)

        monkeypatch.setattr(module, name, probing)

    probe(suite2p, "_read_plane", "read")
    probe(features, "band_passed_planes", "compute")
    session = suite2p.load_suite2p(synthetic.root)
    compute_features(session.rois, session.reference)
    assert states["read"] == [False, False]  # two planes
    assert states["compute"] == [False]
    assert _requested(switch) is True


def test_the_collector_is_paused_while_a_pickle_is_read_and_restored_after(tmp_path, monkeypatch):
    import gc

    import numpy as np

    from cellector.io import safe_load

    path = tmp_path / "stat.npy"
    np.save(path, np.array([{"ypix": np.arange(3)}, {"ypix": np.arange(2)}], dtype=object))
    seen = []
    real = safe_load._Restricted.load

    def probing(self):
        seen.append(gc.isenabled())
        return real(self)

    monkeypatch.setattr(safe_load._Restricted, "load", probing)
    assert gc.isenabled()
    stat = safe_load.safe_load_npy(path)
    assert seen == [False] and gc.isenabled()
    assert [list(r["ypix"]) for r in stat] == [[0, 1, 2], [0, 1]]
    gc.disable()  # a caller's own choice is kept
    try:
        safe_load.safe_load_npy(path)
        assert not gc.isenabled()
    finally:
        gc.enable()


_FAULTS = r"""
import resource, sys
import numpy as np
from cellector._shared.memory import reusable_heap

def faults(rounds=20):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(rounds):
        a = np.ones(1024 * 1024 // 8)  # 1 MB (no room for a 2 MB huge page), written, freed
        del a
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

outside = faults()
with reusable_heap():
    faults(1)  # the first block is fresh memory either way
    inside = faults()
after = faults()
print(outside, inside, after)
"""


@pytest.mark.skipif(_memory._glibc() is None, reason="glibc's malloc only")
def test_a_pinned_trim_threshold_no_longer_refaults_every_chunk():
    """dask's nanny pins MALLOC_TRIM_THRESHOLD_: every 1 MB temporary is page-faulted in again, except in the block."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, "-c", _FAULTS], env=env, capture_output=True, text=True, check=True)
    outside, inside, after = map(int, out.stdout.split())
    assert outside > 20 * 200  # ~256 faults of 4 KiB per 1 MB round
    assert inside < 100  # reused
    assert after > 20 * 200  # the worker's policy is back


def test_without_pinned_thresholds_malloc_is_left_alone(monkeypatch):
    calls = []

    class FakeLibc:
        def mallopt(self, *args):
            calls.append(("mallopt", *args))

        def malloc_trim(self, *args):
            calls.append(("malloc_trim", *args))

    monkeypatch.setattr(_memory, "_glibc", lambda: FakeLibc())
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    with _memory.reusable_heap():
        pass
    assert calls == []
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    with _memory.reusable_heap(), _memory.reusable_heap():
        assert len(calls) == 2  # raised once for both blocks
    assert calls[2:] == [("mallopt", -3, 128 * 1024), ("mallopt", -1, 65536), ("malloc_trim", 0)]
