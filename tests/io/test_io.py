"""Reading suite2p folders, the restricted unpickler and the cellector/ store."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from cellector.io.safe_load import UnsafePickleError, safe_load_npy
from cellector.io.store import StoreError, decode_criterion, encode_criterion, load_state, migrate, save_state
from cellector.io.suite2p import Suite2pError, load_suite2p
from cellector.roi_processor.create import create_from_mask_volume, create_from_suite2p, create_from_suite3d


def test_loads_every_real_folder(real_copy):
    s = load_suite2p(real_copy("suite2p-0.14-1plane"))
    assert s.planes == ["plane0"] and s.rois.n_rois == 61 and s.red_s2p.shape == (61,)
    assert "meanImg_chan2_corrected" in s.images
    s = load_suite2p(real_copy("suite2p-1.1-2planes"))
    assert s.planes == ["plane0", "plane1"] and s.rois.n_rois == sum(s.plane_counts)
    # images come from reg_outputs/ops, never from db (pre-registration)
    ops = safe_load_npy(s.root / "plane1" / "ops.npy").item()
    np.testing.assert_array_equal(s.images["meanImg_chan2"][1], ops["meanImg_chan2"])
    with pytest.raises(Suite2pError, match=r"single-channel.*meanImg"):
        load_suite2p(real_copy("real-fissa-1plane"))
    s = load_suite2p(s.root.parent.parent / "real-fissa-1plane", reference_key="meanImg")
    assert s.rois.n_rois == 23 and s.red_s2p is None


def test_1x_layout_without_ops(real_copy):
    root = real_copy("suite2p-1.1-2planes")
    with_ops = load_suite2p(root)
    for p in ("plane0", "plane1"):
        (root / p / "ops.npy").unlink()
    s = load_suite2p(root)
    np.testing.assert_array_equal(s.reference, with_ops.reference)


def test_natural_plane_order_and_single_plane(tmp_path):
    from cellector.io.datasets import make_suite2p_folder

    sess = make_suite2p_folder(tmp_path, n_planes=11, n_rois=3, shape=(40, 40))
    (sess.root / "combined").mkdir()
    s = load_suite2p(sess.root)
    assert s.planes == [f"plane{i}" for i in range(11)]
    one = load_suite2p(sess.root / "plane10")
    assert one.rois.n_rois == 3
    assert load_suite2p(tmp_path).planes == s.planes  # parent of suite2p/


def test_iscell_only_states_coverage(synthetic):
    s = load_suite2p(synthetic.root, iscell_only=True)
    iscell = np.load(synthetic.root / "plane0" / "iscell.npy")
    assert s.covered == "iscell"
    assert s.suite2p_index[: int(iscell[:, 0].sum())].tolist() == np.flatnonzero(iscell[:, 0]).tolist()


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_hostile_pickle_does_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "stat.npy", np.array([_Evil()], dtype=object), allow_pickle=True)
    with pytest.raises(UnsafePickleError, match=r"posix\.system|os\.system"):
        safe_load_npy(tmp_path / "stat.npy")
    assert not (tmp_path / "pwned").exists()


def test_corrupt_npy(tmp_path):
    (tmp_path / "x.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(ValueError, match=r"not a readable \.npy"):
        safe_load_npy(tmp_path / "x.npy")


def test_criterion_encoding_round_trip():
    assert encode_criterion((1.0, 2.0)).dtype == np.float64
    enc = encode_criterion((None, 2.0))
    assert enc.dtype == object and enc[0] is None
    assert decode_criterion(enc) == (None, 2.0)
    with pytest.raises(StoreError, match="2 values"):
        decode_criterion(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(StoreError, match="numbers or None"):
        decode_criterion(np.array(["a", 1.0], dtype=object))


def test_feature_cache_reused_only_when_provenance_matches(synthetic):
    rp = create_from_suite2p(synthetic.root)
    assert next(iter(rp.features)) == "red_s2p"
    before = rp.features["corr_coef"].copy()
    path = synthetic.root / "cellector" / "corr_coef_feature.npy"
    np.save(path, np.full_like(before, 7.0))  # edited behind our back: checksum no longer matches
    rp2 = create_from_suite2p(synthetic.root)
    np.testing.assert_array_equal(rp2.features["corr_coef"], before)
    rp3 = create_from_suite2p(synthetic.root, lowcut=20)
    assert not np.allclose(rp3.features["corr_coef"], before)
    np.testing.assert_array_equal(rp3.features["phase_corr"], rp.features["phase_corr"])


def test_update_parameters_recomputes_only_dependents(synthetic):
    rp = create_from_suite2p(synthetic.root, save_features=False)
    pc = rp.features["phase_corr"]
    stale = rp.update_parameters(lowcut=6)
    assert sorted(stale) == ["corr_coef", "dot_product", "functional_dot_product"]
    assert rp.features["phase_corr"] is pc
    with pytest.raises(ValueError, match="unknown parameter"):
        rp.update_parameters(bogus=1)


def test_mask_volume_matches_pixel_data(synthetic):
    rp = create_from_suite2p(synthetic.root, save_features=False, use_saved=False)
    s = rp.session
    n = 20
    vol = np.zeros((n, 128, 128), np.float32)
    for i in range(n):
        _z, y, x, lam = s.rois.roi(i)
        vol[i, y, x] = lam
    first = np.flatnonzero(s.roi_plane == 0)[:n]
    assert first.tolist() == list(range(n))
    mp = create_from_mask_volume(None, vol, s.reference[:1], autocompute=True)
    np.testing.assert_allclose(mp.features["corr_coef"], rp.features["corr_coef"][:n], rtol=1e-6)


def test_suite3d(tmp_path):
    rng = np.random.default_rng(0)
    ref = rng.random((3, 40, 40)).astype(np.float32)
    stats = [
        {"coords": (np.array([0, 1, 1]), np.array([10, 10, 11]), np.array([5, 5, 5])), "lam": np.ones(3, np.float32)}
        for _ in range(2)
    ]
    np.save(tmp_path / "stats.npy", np.array(stats, dtype=object), allow_pickle=True)
    np.save(tmp_path / "ref_img_3d_structural.npy", ref)
    rp = create_from_suite3d(tmp_path, save_features=False, centered_width=5)
    assert rp.rois.volumetric and rp.features["in_vs_out"].shape == (2,)


def test_state_round_trip_and_interrupted_save(tmp_path):
    save_state(
        tmp_path,
        {"n_rois": 3},
        features={"a": np.arange(3.0)},
        criteria={"a": (None, 1.0)},
        manual_selection=np.array([[1, 0, 0], [1, 0, 0]], bool),
        idx_selected=np.array([1, 1, 0], bool),
    )
    st = load_state(tmp_path)
    assert st["criteria"] == {"a": (None, 1.0)} and st["idx_selected"].tolist() == [True, True, False]
    # a second save killed after writing its files, before the final metadata: the checksums no longer match
    code = (
        "import numpy as np, os\nfrom cellector.io.store import state as store\n"
        "orig = store.atomic_write_text\n"
        "calls = []\n"
        "def boom(*a, **k):\n"
        "    calls.append(1)\n"
        "    if len(calls) == 2: os._exit(9)  # the first call marks the save in progress\n"
        "    return orig(*a, **k)\n"
        "store.atomic_write_text = boom\n"
        f"store.save_state({str(tmp_path)!r}, {{}}, criteria={{'a': (0.5, 2.0)}}, idx_selected=np.zeros(3, bool))\n"
    )
    r = subprocess.run([sys.executable, "-c", code])
    assert r.returncode == 9
    st = load_state(tmp_path)
    assert st["criteria"] == {"a": (None, 1.0)} and st["idx_selected"].tolist() == [True, True, False]
    assert any("interrupted" in n for n in st["notes"])


def test_published_layout_and_migration(tmp_path):
    folder = tmp_path / "cellector"
    folder.mkdir()
    np.save(folder / "phase_corr.npy", np.arange(4.0))
    np.save(folder / "phase_corr_criteria.npy", np.array([None, 2.0], dtype=object), allow_pickle=True)
    np.save(folder / "targetcell.npy", np.array([1, 0, 1, 0], bool))
    np.save(folder / "manual_selection.npy", np.zeros((4, 2), bool))
    st = load_state(tmp_path)
    assert st["features"]["phase_corr"].tolist() == [0, 1, 2, 3]
    assert st["criteria"]["phase_corr"] == (None, 2.0)
    assert st["manual_selection"].shape == (2, 4)
    assert st["idx_selected"].tolist() == [True, False, True, False]
    done = migrate(tmp_path)
    assert "moved targetcell.npy -> idx_selected.npy" in done
    assert (folder / "phase_corr_featurecriteria.npy").is_file()
    assert np.load(folder / "manual_selection.npy").shape == (2, 4)


def test_pickle_criteria_with_code_is_refused(tmp_path):
    folder = tmp_path / "cellector"
    folder.mkdir()
    with open(folder / "x_featurecriteria.npy", "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "|O", "fortran_order": False, "shape": (2,)})
        pickle.dump(_Evil(), fh)
    with pytest.raises(StoreError, match="refusing"):
        load_state(tmp_path)


def test_a_session_read_once_is_not_read_again(synthetic, monkeypatch):
    import cellector.roi_processor.create as base

    session = load_suite2p(synthetic.root, iscell_only=True)
    monkeypatch.setattr(base, "load_suite2p", lambda *a, **k: pytest.fail("read twice"))
    rp = create_from_suite2p(session, autocompute=False)
    assert rp.session is session and rp.num_rois == session.rois.n_rois
    assert rp.metadata()["covered"] == "iscell"


def test_single_channel_fallback_reads_once(real_copy, monkeypatch):
    import cellector.io.suite2p as s2p

    reads = []
    real = s2p._ops
    monkeypatch.setattr(s2p, "_ops", lambda plane: reads.append(plane.name) or real(plane))
    s = s2p.load_suite2p(real_copy("real-fissa-1plane"), fallback_reference=True)
    assert s.reference_key == "meanImg" and reads == ["plane0"]  # one pass over the folder
    assert s.reference_note.startswith("no 'meanImg_chan2' image (a single-channel recording?): showing 'meanImg'")
    assert s2p.load_suite2p(s.root, "meanImg").reference_note is None
