"""Hard inputs: every malformed folder gives one clear error (API and command), and
nothing already on disk changes; saves survive kills, full disks and concurrency."""

import errno
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cellector.io.datasets import make_suite2p_folder
from cellector.io.store import load_state, save_state
from cellector.manager import CellectorManager
from cellector.roi_processor.create import create_from_suite2p
from cellector.study.cli import main


class _Evil:
    """A pickle that would create a file named ``pwned`` if it ever ran."""

    def __reduce__(self):
        return (os.system, ("touch pwned",))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """One small 2-plane synthetic folder; each test works on a copy."""
    out = tmp_path_factory.mktemp("base")
    return make_suite2p_folder(out / "s", n_planes=2, n_rois=12, shape=(64, 64), seed=3).root


@pytest.fixture
def folder(base, tmp_path):
    dst = tmp_path / "suite2p"
    shutil.copytree(base, dst)
    return dst


def _stat(root, plane="plane0"):
    return np.load(root / plane / "stat.npy", allow_pickle=True)


def _save_stat(root, stat, plane="plane0"):
    np.save(root / plane / "stat.npy", np.asarray(stat, dtype=object), allow_pickle=True)


def _edit_roi(key, fn):
    def mutate(root):
        stat = _stat(root)
        stat[2][key] = fn(np.asarray(stat[2][key]))
        _save_stat(root, stat)

    return mutate


def _drop_key(key):
    def mutate(root):
        stat = _stat(root)
        del stat[4][key]
        _save_stat(root, stat)

    return mutate


def _ops_edit(fn, plane="plane0"):
    def mutate(root):
        ops = np.load(root / plane / "ops.npy", allow_pickle=True).item()
        fn(ops)
        np.save(root / plane / "ops.npy", np.array(ops, dtype=object), allow_pickle=True)

    return mutate


def _set(key, value):
    def fn(ops):
        ops[key] = value(ops) if callable(value) else value

    return fn


def _nan_pixel(ops):
    ops["meanImg_chan2"] = ops["meanImg_chan2"].copy()
    ops["meanImg_chan2"][10, 10] = np.nan


def _inf_pixel(ops):
    ops["meanImg_chan2"] = ops["meanImg_chan2"].copy()
    ops["meanImg_chan2"][5, 7] = np.inf


def _resize(ops):
    for k, v in list(ops.items()):
        if isinstance(v, np.ndarray) and v.shape == (64, 64):
            ops[k] = np.zeros((48, 64), np.float32) + 1
    ops["Ly"] = 48


def _truncate(name):
    def mutate(root):
        p = root / "plane0" / name
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2])

    return mutate


def _garbage(name):
    def mutate(root):
        (root / "plane0" / name).write_bytes(b"\x93NUMPY\x01\x00garbage that is not a header" + bytes(range(256)))

    return mutate


def _rows(name, fn):
    def mutate(root):
        p = root / "plane1" / name
        np.save(p, fn(np.load(p)))

    return mutate


def _hostile(name):
    def mutate(root):
        np.save(root / "plane0" / name, np.array([_Evil()], dtype=object), allow_pickle=True)

    return mutate


def _not_suite2p(root):
    shutil.rmtree(root)
    root.mkdir()
    (root / "notes.txt").write_text("a folder of something else")


def _empty_planes(root):
    for p in root.iterdir():
        shutil.rmtree(p)
    (root / "plane0").mkdir()
    (root / "plane1").mkdir()


def _stat_not_array(root):
    np.save(root / "plane0" / "stat.npy", np.array({"ypix": 1}, dtype=object), allow_pickle=True)


def _roi_not_dict(root):
    stat = list(_stat(root))
    stat[3] = [1, 2, 3]
    arr = np.empty(len(stat), dtype=object)
    arr[:] = stat
    np.save(root / "plane0" / "stat.npy", arr, allow_pickle=True)


# Each case: how to break the folder, and a word the one-line error must contain.
SUITE2P_CASES = {
    "not a suite2p folder": (_not_suite2p, "not a suite2p folder"),
    "empty plane folders": (_empty_planes, "neither ops.npy"),
    "missing stat.npy": (lambda r: (r / "plane1" / "stat.npy").unlink(), "stat.npy is missing"),
    "missing ops.npy": (lambda r: (r / "plane0" / "ops.npy").unlink(), "neither ops.npy"),
    "truncated stat.npy": (_truncate("stat.npy"), "not a readable .npy"),
    "truncated ops.npy": (_truncate("ops.npy"), "not a readable .npy"),
    "corrupt stat.npy": (_garbage("stat.npy"), "not a readable .npy"),
    "stat is not an ROI array": (_stat_not_array, "1-D array of ROI dicts"),
    "ROI that is not a dict": (_roi_not_dict, "ROI 3 is not a dict"),
    "stat without ypix": (_drop_key("ypix"), "ROI 4 has no ypix"),
    "stat without xpix": (_drop_key("xpix"), "ROI 4 has no xpix"),
    "stat without lam": (_drop_key("lam"), "ROI 4 has no lam"),
    "ypix/xpix lengths differ": (_edit_roi("xpix", lambda a: a[:-1]), "stat index 2"),
    "lam length differs": (_edit_roi("lam", lambda a: np.r_[a, 1.0]), "stat index 2"),
    "pixel outside the frame": (_edit_roi("ypix", lambda a: a + 64), "outside"),
    "negative pixel": (_edit_roi("xpix", lambda a: a - 200), "outside"),
    # beyond int32 these would wrap (2**32 + y is y) and name another ROI's pixels
    "pixel beyond int32": (_edit_roi("ypix", lambda a: a.astype(np.int64) + 2**32), "ROI 2: ypix value 4294967"),
    "negative pixel beyond int32": (_edit_roi("xpix", lambda a: a.astype(np.int64) - 2**32), "is outside any frame"),
    "float pixel beyond int32": (_edit_roi("ypix", lambda a: a.astype(np.float64) + 2.0**40), "is outside any frame"),
    "infinite pixel": (_edit_roi("xpix", lambda a: np.where(a == a[0], np.inf, a)), "is outside any frame"),
    "NaN pixel": (_edit_roi("ypix", lambda a: np.where(a == a[0], np.nan, a)), "non-integer coordinates"),
    "uint64 pixel beyond int32": (_edit_roi("ypix", lambda a: a.astype(np.uint64) + 2**33), "is outside any frame"),
    "empty ROI": (
        lambda r: (
            _edit_roi("ypix", lambda a: a[:0])(r)
            or _edit_roi("xpix", lambda a: a[:0])(r)
            or _edit_roi("lam", lambda a: a[:0])(r)
        ),
        "empty",
    ),
    "NaN in lam": (_edit_roi("lam", lambda a: np.where(np.arange(a.size) == 0, np.nan, a)), "non-finite"),
    "inf in lam": (_edit_roi("lam", lambda a: np.where(np.arange(a.size) == 1, np.inf, a)), "non-finite"),
    "NaN in the reference": (_ops_edit(_nan_pixel), "NaN/inf"),
    "inf in the reference": (_ops_edit(_inf_pixel), "NaN/inf"),
    "1-D reference": (
        _ops_edit(_set("meanImg_chan2", np.ones(64, np.float32))),
        "plane0/ops.npy: 'meanImg_chan2' is 1-D (shape (64,)); expected a 64 x 64 image",
    ),
    "reference of the wrong shape": (
        _ops_edit(_set("meanImg_chan2", np.ones((64, 32), np.float32))),
        "plane0/ops.npy: 'meanImg_chan2' is of shape (64, 32), not the frame's (64, 64)",
    ),
    "3-D reference": (
        _ops_edit(_set("meanImg_chan2", np.ones((2, 64, 64), np.float32)), "plane1"),
        "plane1/ops.npy: 'meanImg_chan2' is 3-D (shape (2, 64, 64))",
    ),
    "complex reference": (
        _ops_edit(_set("meanImg_chan2", lambda ops: ops["meanImg_chan2"] * (1 + 1j))),
        "'meanImg_chan2' is complex-valued (complex64)",
    ),
    "empty reference": (_ops_edit(_set("meanImg_chan2", np.zeros((0, 64), np.float32))), "is empty (shape (0, 64))"),
    "reference of strings": (_ops_edit(_set("meanImg_chan2", np.full((64, 64), "x"))), "dtype <U1, not real numbers"),
    "boolean reference": (_ops_edit(_set("meanImg_chan2", np.ones((64, 64), bool))), "of dtype bool, not real numbers"),
    "reference that is not an array": (_ops_edit(_set("meanImg_chan2", [[1.0, 2.0]])), "is a list, not an image array"),
    "NaN-only reference": (_ops_edit(_set("meanImg_chan2", np.full((64, 64), np.nan, np.float32))), "NaN/inf"),
    "planes of different frame sizes": (_ops_edit(_resize, "plane1"), "different sizes"),
    "iscell with too few rows": (_rows("iscell.npy", lambda a: a[:-2]), "iscell.npy has shape"),
    "redcell with too many rows": (_rows("redcell.npy", lambda a: np.r_[a, a[:1]]), "redcell.npy has shape"),
    "redcell with one column": (_rows("redcell.npy", lambda a: a[:, :1]), "redcell.npy has shape"),
    "hostile pickle in stat.npy": (_hostile("stat.npy"), "refusing to load"),
    "hostile pickle in ops.npy": (_hostile("ops.npy"), "refusing to load"),
}


def _snapshot(root: Path) -> dict[str, str]:
    """Path -> sha1 of every file under the session's parent (suite2p and cellector/)."""
    return {
        str(p.relative_to(root.parent)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(root.parent.rglob("*"))
        if p.is_file()
    }


def _state_files(snap: dict[str, str]) -> dict[str, str]:
    """The user's state: everything but our bookkeeping (``.previous/``, the journal, the lock)."""
    return {k: v for k, v in snap.items() if "/." not in k}


def _one_line_error(capsys, rc, needle):
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and err.startswith("cellector: error: "), err
    assert "Traceback" not in err
    assert needle in err, err
    return err


@pytest.mark.parametrize("case", list(SUITE2P_CASES))
def test_malformed_suite2p_folder(case, folder, capsys, monkeypatch):
    mutate, needle = SUITE2P_CASES[case]
    mutate(folder)
    # a saved state from before must survive untouched
    (folder / "cellector").mkdir(exist_ok=True)
    np.save(folder / "cellector" / "phase_corr_featurecriteria.npy", np.array([0.1, 0.9]))
    monkeypatch.chdir(folder.parent)  # a hostile pickle would create ./pwned
    before = _snapshot(folder)
    with pytest.raises(ValueError, match=None) as info:
        create_from_suite2p(folder)
    assert "\n" not in str(info.value) and needle in str(info.value)
    with pytest.raises(ValueError):
        CellectorManager.from_folder(folder)
    for cmd in (["compute"], ["info"], ["export"]):
        rc = main([*cmd, str(folder)])
        _one_line_error(capsys, rc, needle)
    assert _snapshot(folder) == before
    assert not (folder.parent / "pwned").exists()


def test_redcell_minus_one_is_a_value(folder):
    """Merged ROIs carry red probability -1: it loads as a value (no error)."""
    red = np.load(folder / "plane0" / "redcell.npy")
    red[3, 1] = -1
    np.save(folder / "plane0" / "redcell.npy", red)
    rp = create_from_suite2p(folder, autocompute=False)
    assert rp.features["red_s2p"][3] == -1


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (np.ones((64, 32), np.float32), "is of shape (64, 32), not the frame's (64, 64)"),
        (np.ones((64, 64), np.complex64), "is complex-valued (complex64)"),
        (np.ones(64, np.float32), "is 1-D (shape (64,))"),
    ],
)
def test_malformed_functional_image_is_named_and_skipped(folder, capsys, value, problem):
    """A functional image that is there but unusable: one notice that names it and the omitted feature."""
    _ops_edit(_set("meanImg", value), "plane1")(folder)
    rp = create_from_suite2p(folder, autocompute=False)
    notice = [m for m in rp.session.messages if "meanImg" in m]
    assert notice == [f"plane1/ops.npy: 'meanImg' {problem}: functional_dot_product is not computed"]
    assert rp.session.functional_key is None
    assert main(["info", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"note: plane1/ops.npy: 'meanImg' {problem}: functional_dot_product is not computed" in out


# --------------------------------------------------------------------------- a bad cellector/ folder


def _published_store(folder):
    """A cellector/ folder as the published package writes it (no cellector.json)."""
    m = CellectorManager.from_folder(folder)
    m.update_criteria("dot_product", [0.1, None])
    m.save_all()
    store = folder / "cellector"
    (store / "cellector.json").unlink()
    shutil.rmtree(store / ".previous", ignore_errors=True)
    return store


def _criteria_string(store):
    np.save(store / "phase_corr_featurecriteria.npy", np.array(["low", "high"]))


def _criteria_three(store):
    np.save(store / "phase_corr_featurecriteria.npy", np.array([0.0, 0.5, 1.0]))


def _criteria_hostile(store):
    np.save(store / "phase_corr_featurecriteria.npy", np.array([_Evil(), None], dtype=object), allow_pickle=True)


def _manual_wrong_shape(store):
    np.save(store / "manual_selection.npy", np.zeros((3, 24), bool))


def _manual_wrong_n(store):
    np.save(store / "manual_selection.npy", np.zeros((2, 23), bool))


def _metadata_garbage(store):
    (store / "cellector.json").write_text("{ not json")


def _stat_changed(store):
    root = store.parent
    stat = _stat(root)
    _save_stat(root, stat[1:])  # the suite2p GUI removed/merged an ROI
    for name in ("iscell.npy", "redcell.npy"):
        np.save(root / "plane0" / name, np.load(root / "plane0" / name)[1:])


STORE_CASES = {
    "criteria holding strings": (_criteria_string, "must be numbers"),
    "criteria with three values": (_criteria_three, "must hold 2 values"),
    "hostile pickle in a criteria file": (_criteria_hostile, "refusing to load"),
    "manual selection of the wrong shape": (_manual_wrong_shape, "expected (2, N)"),
    "manual selection for other ROIs": (_manual_wrong_n, "not this folder's (manual_selection.npy holds"),
    "unreadable cellector.json": (_metadata_garbage, "unreadable metadata"),
}


@pytest.mark.parametrize("case", list(STORE_CASES))
def test_malformed_store(case, folder, capsys, monkeypatch):
    mutate, needle = STORE_CASES[case]
    mutate(_published_store(folder))
    monkeypatch.chdir(folder.parent)
    before = _snapshot(folder)
    with pytest.raises(ValueError, match=None) as info:
        CellectorManager.from_folder(folder)
    assert "\n" not in str(info.value) and needle in str(info.value)
    for cmd in (["export"], ["apply", "--criteria-from", str(folder)]):
        rc = main([*cmd, str(folder)])
        err = capsys.readouterr()
        assert rc == 2 and "Traceback" not in err.err + err.out
        assert needle in err.err + err.out
    assert _snapshot(folder) == before
    assert not (folder.parent / "pwned").exists()


def _edit_metadata(**fields):
    def mutate(store):
        import json

        meta = json.loads((store / "cellector.json").read_text())
        meta.update({k: (v(meta[k]) if callable(v) else v) for k, v in fields.items()})
        (store / "cellector.json").write_text(json.dumps(meta))

    return mutate


def _strings_feature(store):
    """A feature file of strings whose checksum was recomputed to match (a careful hand edit)."""
    import json

    np.save(store / "dot_product_feature.npy", np.array(["a"] * 24))
    meta = json.loads((store / "cellector.json").read_text())
    meta["checksums"]["dot_product_feature.npy"] = hashlib.sha1(
        (store / "dot_product_feature.npy").read_bytes()
    ).hexdigest()
    (store / "cellector.json").write_text(json.dumps(meta))


METADATA_CASES = {
    "checksums as a list": (_edit_metadata(checksums=lambda c: list(c)), "field 'checksums' is list, expected dict"),
    "features as a string": (_edit_metadata(features="all"), "field 'features' is str, expected dict"),
    "counts as strings": (_edit_metadata(n_rois="24"), "field 'n_rois' is str, expected int"),
    "a checksum that is a number": (
        _edit_metadata(checksums=lambda c: {**c, "idx_selected.npy": 7}),
        "checksum of 'idx_selected.npy' is not a string",
    ),
    "a fingerprint that is a list": (_edit_metadata(labels_roi_fingerprint=[1]), "'labels_roi_fingerprint' is list"),
    "a feature file of strings": (_strings_feature, "a feature must be a 1-D array of numbers, got <U1"),
}


@pytest.mark.parametrize("case", list(METADATA_CASES))
def test_malformed_metadata_is_one_line(case, folder, capsys):
    m = CellectorManager.from_folder(folder)
    m.update_criteria("dot_product", [0.1, None])
    m.save_all()
    mutate, needle = METADATA_CASES[case]
    mutate(folder / "cellector")
    before = _snapshot(folder)
    for cmd in (["info"], ["compute"], ["export"], ["apply", "--criteria-from", str(folder)]):
        rc = main([*cmd, str(folder)])
        err = capsys.readouterr().err
        assert rc == 2, (cmd, err)
        assert "Traceback" not in err and "internal error" not in err and needle in err, (cmd, err)
    assert _snapshot(folder) == before


def test_stat_changed_since_save_refuses_labels(folder, capsys):
    m = CellectorManager.from_folder(folder)
    m.flip(0)
    m.save_all()
    _stat_changed(folder / "cellector")
    before = _snapshot(folder)
    with pytest.raises(ValueError, match="holds a saved state that is not this folder's"):
        CellectorManager.from_folder(folder)
    _one_line_error(capsys, main(["export", str(folder)]), "nothing of it was used or changed")
    assert _snapshot(folder) == before


# --------------------------------------------------------------------------- writing fails


def _failing_mkstemp(monkeypatch, exc):
    import cellector._shared.atomic as atomic  # where every atomic write makes its temporary file

    def fail(*args, **kwargs):
        raise exc

    monkeypatch.setattr(atomic.tempfile, "mkstemp", fail)


def test_read_only_store_folder(folder, capsys, monkeypatch):
    m = CellectorManager.from_folder(folder)
    m.update_criteria("corr_coef", [0.2, None])
    m.save_all()
    before = _snapshot(folder)
    # root ignores permission bits, so refuse writes where the OS would
    _failing_mkstemp(monkeypatch, PermissionError(errno.EACCES, "Permission denied", str(folder / "cellector")))
    m.flip(1)
    with pytest.raises(PermissionError):
        m.save_all()
    assert m.dirty  # the edits are still unsaved, not lost
    _one_line_error(capsys, main(["export", str(folder)]), "Permission denied")
    # the state files are untouched; the journal keeps the unsaved edit for recovery
    assert _state_files(_snapshot(folder)) == _state_files(before)
    assert CellectorManager.from_folder(folder).pending_journal() == 1
    assert load_state(folder)["criteria"]["corr_coef"] == (0.2, None)


def test_full_disk_during_save(folder, capsys, monkeypatch):
    import cellector.io.store.state as store

    m = CellectorManager.from_folder(folder)
    m.update_criteria("corr_coef", [0.2, None])
    m.save_all()
    before = _snapshot(folder)
    real_save = np.save
    written = []
    fail_at = 2 * len(m.features) + 1  # features, criteria, then manual_selection.npy

    def half_then_enospc(fh, arr, allow_pickle=False):
        written.append(1)
        if len(written) == fail_at:  # the manual selection, after the new criteria landed
            fh.write(b"\x93NUMPY partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(fh, arr, allow_pickle=allow_pickle)

    monkeypatch.setattr(store.np, "save", half_then_enospc)
    m.update_criteria("corr_coef", [0.4, None])
    with pytest.raises(OSError, match="No space left"):
        m.save_all()
    monkeypatch.setattr(store.np, "save", real_save)
    after = _snapshot(folder)
    # the files replaced before the failure are whole new files; nothing is half written,
    # no temporary file is left, and the load falls back to the whole previous state
    assert not [k for k in after if k.endswith(".tmp")]
    st = load_state(folder)
    assert st["criteria"]["corr_coef"] == (0.2, None)
    assert any("interrupted" in n for n in st["notes"])
    assert set(before) <= set(after)


# --------------------------------------------------------------------------- kills and concurrency

_SAVE_SCRIPT = """
import os, sys
import numpy as np
from cellector.io.store import state as store

kill_at = int(sys.argv[2])
calls = [0]
real_replace = os.replace
def replace(src, dst):
    calls[0] += 1
    if calls[0] == kill_at:
        os._exit(9)  # like SIGKILL: no cleanup, no finally blocks
    real_replace(src, dst)
store.os.replace = replace
n = 50
store.save_state(sys.argv[1], {"writer": "new"}, features={"f": np.full(n, 2.0), "g": np.full(n, 2.0)},
                 criteria={"f": (1.5, None), "g": (None, 2.5)}, manual_selection=np.ones((2, n), bool),
                 idx_selected=np.ones(n, bool))
print(calls[0])
"""


def _old_state(root, n=50):
    save_state(
        root,
        {"writer": "old"},
        features={"f": np.full(n, 1.0), "g": np.full(n, 1.0)},
        criteria={"f": (0.5, None), "g": (None, 1.5)},
        manual_selection=np.zeros((2, n), bool),
        idx_selected=np.zeros(n, bool),
    )


def _whole(st, which):
    value = 1.0 if which == "old" else 2.0
    assert st["metadata"]["writer"] == which
    assert all(np.all(v == value) for v in st["features"].values())
    assert st["criteria"]["f"][0] == value - 0.5
    assert st["manual_selection"].all() == (which == "new")
    assert st["idx_selected"].all() == (which == "new")


@pytest.mark.parametrize("first_save", [False, True])
def test_kill_at_every_step_of_a_save(tmp_path, first_save):
    """A process killed at each rename of the save sequence leaves a whole state."""
    script = tmp_path / "save.py"
    script.write_text(_SAVE_SCRIPT)
    total = int(
        subprocess.run(
            [sys.executable, str(script), str(tmp_path / "count"), "0"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert total >= 7  # marker/snapshot, six files, metadata
    for k in range(1, total + 1):
        root = tmp_path / f"k{k}"
        root.mkdir()
        if not first_save:
            _old_state(root)
        r = subprocess.run([sys.executable, str(script), str(root), str(k)])
        assert r.returncode == 9
        st = load_state(root)
        if first_save:
            assert st["features"] == {} and st["criteria"] == {} and st["manual_selection"] is None, k
        else:
            _whole(st, "old")


_WRITER = """
import sys
import numpy as np
from cellector.io.store import state as store
which, n = sys.argv[2], 400
v = 1.0 if which == "old" else 2.0
for _ in range(int(sys.argv[3])):
    store.save_state(sys.argv[1], {"writer": which}, features={"f": np.full(n, v), "g": np.full(n, v)},
                     criteria={"f": (v - 0.5, None), "g": (None, v + 0.5)},
                     manual_selection=np.full((2, n), which == "new"), idx_selected=np.full(n, which == "new"))
"""


def test_two_processes_saving_never_mix(tmp_path):
    """Saves serialise on the store's lock; every load sees one writer's whole state."""
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    root = tmp_path / "session"
    root.mkdir()
    _old_state(root, 400)
    procs = [subprocess.Popen([sys.executable, str(script), str(root), w, "25"]) for w in ("old", "new")]
    seen = set()
    while any(p.poll() is None for p in procs):
        st = load_state(root)
        assert st["consistent"] and not st["notes"]
        _whole(st, st["metadata"]["writer"])
        seen.add(st["metadata"]["writer"])
    assert [p.returncode for p in procs] == [0, 0]
    st = load_state(root)
    _whole(st, st["metadata"]["writer"])
    assert seen  # the reader really ran while the writers did


def test_console_script_has_no_traceback(folder):
    """The installed ``cellector`` command: exit code 2 and one line on a hostile pickle."""
    _hostile("stat.npy")(folder)
    exe = shutil.which("cellector")
    cmd = [exe] if exe else [sys.executable, "-m", "cellector.study.cli"]
    r = subprocess.run([*cmd, "info", str(folder)], capture_output=True, text=True, cwd=folder.parent)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "refusing to load" in r.stderr and "Traceback" not in r.stderr
    assert not (folder.parent / "pwned").exists()


def test_a_full_disk_says_so_in_one_line_and_leaves_no_temporary(folder, capsys, monkeypatch):
    """numpy's short write ("600 requested and 496 written") becomes "No space left on device"."""
    import cellector.io.store.state as store

    m = CellectorManager.from_folder(folder)
    m.update_criteria("corr_coef", [0.2, None])
    m.save_all()
    before = _snapshot(folder)
    real_save = np.save

    def short_write(fh, arr, allow_pickle=False):
        if np.asarray(arr).dtype == np.bool_:  # the selection files
            fh.write(b"\x93NUMPY")
            raise OSError("600 requested and 496 written")
        real_save(fh, arr, allow_pickle=allow_pickle)

    monkeypatch.setattr(store.np, "save", short_write)
    rc = main(["apply", "--criteria-from", str(folder), str(folder)])
    monkeypatch.setattr(store.np, "save", real_save)
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "No space left on device" in err and "requested" not in err, err
    after = _snapshot(folder)
    assert not [k for k in after if k.endswith(".tmp") or ".previous.tmp" in k]
    assert {k: v for k, v in after.items() if "cellector" not in k} == {
        k: v for k, v in before.items() if "cellector" not in k
    }


def test_a_full_disk_while_snapshotting_leaves_no_half_snapshot(folder, monkeypatch):
    import cellector.io.store.state as store

    m = CellectorManager.from_folder(folder)
    m.save_all()

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.Path, "write_text", no_space)
    m.update_criteria("corr_coef", [0.2, None])
    with pytest.raises(OSError, match="No space left"):
        m.save_all()
    assert not (folder / "cellector" / ".previous.tmp").exists()


def test_a_refused_migrate_leaves_nothing_behind(folder, capsys):
    store = folder / "cellector"
    store.mkdir()
    np.save(store / "phase_corr.npy", np.array([_Evil()], dtype=object), allow_pickle=True)  # legacy name, hostile
    before = sorted(p.name for p in store.iterdir())
    assert main(["migrate", str(folder)]) == 2
    assert "refusing to load" in capsys.readouterr().err
    assert sorted(p.name for p in store.iterdir()) == before  # no .lock, no .previous/
    empty = folder.parent / "empty-suite2p"
    shutil.copytree(folder, empty, ignore=shutil.ignore_patterns("cellector"))
    assert main(["migrate", str(empty)]) == 0 and not (empty / "cellector").exists()
