"""numpy's huge-page request is off inside the heavy phases and restored after them."""

import threading

import pytest

from cellector import _memory, features
from cellector.features import compute_features
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
