"""A saved state belongs to its folder: one check, made by every command and the manager before anything is used.

Each case hashes every file below the session (the store included) before and after:
a state that is not this folder's is never used, migrated, snapshotted or overwritten.
"""

import hashlib
import json
import shutil

import numpy as np
import pytest

from cellector.io.datasets import make_suite2p_folder
from cellector.io.ownership import ForeignStateError, RoiIdentity, file_lengths, mismatch
from cellector.io.store import load_state
from cellector.io.suite2p import load_suite2p, read_identity
from cellector.manager import CellectorManager
from cellector.study.cli import main
from tests.conftest import tree_hashes

COMMANDS_THAT_USE_IT = [
    ["compute"],
    ["export"],
    ["export", "--format", "redcell"],
    ["suggest"],
    ["apply", "--criteria-from", "SELF"],
]


def _save_curation(root, n_labels=2):
    m = CellectorManager.from_folder(root)
    m.update_criteria("dot_product", [float(np.nanmedian(m.features["dot_product"])), None])
    m.update_manual_labels(list(range(n_labels)), [True, False][:n_labels])
    m.save_all()
    return m


@pytest.fixture
def twins(tmp_path):
    """Two synthetic sessions of one layout (1 plane, 50 ROIs) and other ROIs; the first curated."""
    a = make_suite2p_folder(tmp_path / "day1", n_planes=1, n_rois=50, shape=(128, 128), seed=1).root
    b = make_suite2p_folder(tmp_path / "day2", n_planes=1, n_rois=50, shape=(128, 128), seed=2).root
    _save_curation(a)
    return a, b


def _one_line(err: str, *needles: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err and "internal error" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)


def _refused_everywhere(root, capsys, *needles, extra=()):
    """Every command that would use the state exits 2 with one line; nothing below root changes."""
    before = tree_hashes(root)
    for cmd in COMMANDS_THAT_USE_IT:
        args = [str(root) if a == "SELF" else a for a in cmd]
        if "apply" in cmd and extra:  # the source's cutoffs are read from the same store
            args += ["--criteria-store", extra[-1]]
        assert main([*args, str(root), *extra]) == 2, cmd
        _one_line(capsys.readouterr().err, *needles)
    assert tree_hashes(root) == before


def test_the_check_by_hand():
    here = RoiIdentity(61, "aaa", ("plane0", "plane1"), (31, 30), "all")
    meta = {"n_rois": 61, "roi_fingerprint": "aaa", "planes": ["plane0", "plane1"], "plane_counts": [31, 30]}
    assert mismatch(meta, {"idx_selected.npy": 61}, here) is None
    assert mismatch(None, {}, here) is None  # nothing saved is nobody's
    assert mismatch({**meta, "roi_fingerprint": "bbb"}, {}, here) == (
        "saved for 61 ROIs with other pixels than this folder's 61"
    )
    # the labels' fingerprint wins over the features' (it is what the labels were made on)
    assert mismatch({**meta, "labels_roi_fingerprint": "ccc"}, {}, here) is not None
    assert mismatch({**meta, "planes": ["plane0"], "plane_counts": [61]}, {}, here) == (
        "saved for plane0, this folder has plane0, plane1"
    )
    assert mismatch({**meta, "plane_counts": [31, 29], "n_rois": 60}, {}, here) == (
        "saved for 31 + 29 ROIs in stat.npy, this folder has 31 + 30"
    )
    assert mismatch({**meta, "covered": "iscell", "n_rois": 59}, {}, here) == (
        "saved for suite2p's cells only (--iscell-only) (59 ROIs), opened for every ROI (61)"
    )
    assert mismatch(meta, {"manual_selection.npy": 61, "idx_selected.npy": 60}, here) == (
        "idx_selected.npy holds 60 ROIs, this folder 61"
    )
    assert (
        mismatch(None, {"dot_product_feature.npy": 62}, here) == "dot_product_feature.npy holds 62 ROIs, this folder 61"
    )


def test_read_identity_equals_the_sessions(real_copy):
    for name, kw in (("suite2p-1.1-2planes", {}), ("real-fissa-1plane", {"reference_key": "meanImg"})):
        root = real_copy(name)
        for covered in ("all", "iscell"):
            s = load_suite2p(root, iscell_only=covered == "iscell", **kw)
            assert read_identity(root, covered) == s.identity()
    assert read_identity(root, "iscell").n_rois == 21 and read_identity(root).n_rois == 23


def test_a_copied_state_of_the_same_layout(twins, capsys):
    a, b = twins
    shutil.copytree(a / "cellector", b / "cellector")
    before = tree_hashes(b)
    assert main(["info", str(b)]) == 0
    out = capsys.readouterr().out
    assert "state: not this folder's (saved for 50 ROIs with other pixels than this folder's 50)" in out
    assert "saved criteria" not in out and "selected:" not in out and "manual labels" not in out
    _refused_everywhere(b, capsys, "not this folder's", "with other pixels", "mv ", "--store DIR")
    assert main(["migrate", str(b)]) == 0 and "nothing to migrate" in capsys.readouterr().out
    assert main(["status", str(b.parent)]) == 2
    captured = capsys.readouterr()
    assert "not this folder's" in captured.out and "with other pixels" in captured.err
    with pytest.raises(ForeignStateError, match="with other pixels"):
        CellectorManager.from_folder(b)
    assert tree_hashes(b) == before


def test_a_state_copied_from_another_layout(real_copy, capsys):
    src = real_copy("suite2p-0.14-1plane")  # 61 ROIs in one plane
    dst = real_copy("suite2p-1.1-2planes")  # 61 ROIs in two planes
    _save_curation(src)
    shutil.copytree(src / "cellector", dst / "cellector")
    assert main(["info", str(dst)]) == 0
    assert "state: not this folder's (saved for plane0, this folder has plane0, plane1)" in capsys.readouterr().out
    _refused_everywhere(dst, capsys, "saved for plane0, this folder has plane0, plane1")


def test_two_sessions_given_one_store(twins, tmp_path, capsys):
    a, b = twins
    shared = tmp_path / "shared"
    assert main(["compute", str(a), "--store", str(shared)]) == 0
    capsys.readouterr()
    _save_curation_in(a, shared)
    before = tree_hashes(shared)
    assert main(["info", str(b), "--store", str(shared)]) == 0
    out = capsys.readouterr().out
    assert "state: not this folder's" in out and "dot_product [" not in out
    _refused_everywhere(b, capsys, "not this folder's", extra=("--store", str(shared)))
    assert tree_hashes(shared) == before  # the first session's state is untouched, .previous included


def _save_curation_in(root, store):
    m = CellectorManager.from_folder(root, store_dir=store)
    m.update_criteria("dot_product", [1.0, None])
    m.flip(3)
    m.save_all()


def test_a_selection_of_the_wrong_length_with_its_checksum_fixed(twins, capsys):
    a, _ = twins
    store = a / "cellector"
    _save_curation(a, 1)  # a second save: .previous holds the first
    np.save(store / "idx_selected.npy", np.ones(49, bool))
    meta = json.loads((store / "cellector.json").read_text())
    meta["checksums"]["idx_selected.npy"] = hashlib.sha1((store / "idx_selected.npy").read_bytes()).hexdigest()
    (store / "cellector.json").write_text(json.dumps(meta))
    assert load_state(a)["changed_outside"] == []  # the store itself sees nothing wrong
    assert main(["info", str(a)]) == 0
    assert "state: not this folder's (idx_selected.npy holds 49 ROIs, this folder 50)" in capsys.readouterr().out
    _refused_everywhere(a, capsys, "idx_selected.npy holds 49 ROIs, this folder 50")


def test_the_store_itself_never_snapshots_another_folders_state(twins):
    a, b = twins
    shutil.copytree(a / "cellector", b / "cellector")
    before = tree_hashes(b)
    from cellector.roi_processor.create import create_from_suite2p

    rp = create_from_suite2p(b, autocompute=False)
    with pytest.raises(ForeignStateError):
        rp.compute_features(use_saved=False)  # computed anew, but never saved over it
    with pytest.raises(ForeignStateError):
        rp.save_features()
    assert tree_hashes(b) == before


def _legacy_store(root, n_selected: int, n_manual: int) -> None:
    """A store of the published package's old names: targetcell.npy and an (N, 2) manual selection."""
    store = root / "cellector"
    store.mkdir()
    np.save(store / "targetcell.npy", np.zeros(n_selected, bool))
    np.save(store / "manual_selection.npy", np.zeros((n_manual, 2), bool))


@pytest.mark.parametrize(
    ("n_selected", "n_manual", "named"),
    [(60, 61, "targetcell.npy holds 60 ROIs"), (61, 60, "manual_selection.npy holds 60 ROIs")],
)
def test_migrate_checks_each_legacy_file_first(real_copy, capsys, n_selected, n_manual, named):
    root = real_copy("suite2p-0.14-1plane")  # 61 ROIs
    _legacy_store(root, n_selected, n_manual)
    before = tree_hashes(root)
    assert main(["migrate", str(root)]) == 2
    _one_line(capsys.readouterr().err, named, "this folder has 61", "nothing was migrated")
    assert tree_hashes(root) == before
    assert not (root / "cellector" / ".previous").exists()


def test_migrate_moves_legacy_files_of_the_right_length(real_copy, capsys):
    root = real_copy("suite2p-0.14-1plane")
    _legacy_store(root, 61, 61)
    assert main(["migrate", str(root)]) == 0
    assert "moved targetcell.npy -> idx_selected.npy" in capsys.readouterr().out
    assert np.load(root / "cellector" / "manual_selection.npy").shape == (2, 61)


def test_file_lengths_read_headers_only(tmp_path):
    np.save(tmp_path / "idx_selected.npy", np.ones(7, bool))
    np.save(tmp_path / "manual_selection.npy", np.ones((2, 5), bool))
    np.save(tmp_path / "x_feature.npy", np.ones(3))
    np.save(tmp_path / "evil_feature.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert file_lengths(tmp_path) == {
        "evil_feature.npy": 1,
        "idx_selected.npy": 7,
        "manual_selection.npy": 5,
        "x_feature.npy": 3,
    }


# --------------------------------------------------------------------------- images the command line is given


def test_a_functional_image_of_another_shape_is_named_on_stderr(real_copy, capsys):
    root = real_copy("suite2p-0.14-1plane")
    ops_path = root / "plane0" / "ops.npy"
    ops = np.load(ops_path, allow_pickle=True).item()
    ops["meanImg"] = ops["meanImg"][:-4]  # another shape than the frame
    np.save(ops_path, ops, allow_pickle=True)
    assert main(["compute", str(root)]) == 0
    captured = capsys.readouterr()
    assert "functional_dot_product is not computed" in captured.err and "'meanImg' is of shape" in captured.err
    assert "functional_dot_product" not in captured.out
    _save_curation(root)  # cutoffs to apply, labels to suggest from
    capsys.readouterr()
    for cmd in (["export"], ["suggest"], ["apply", "--criteria-from", str(root)]):
        assert main([*cmd, str(root)]) == 0, cmd
        assert "functional_dot_product is not computed" in capsys.readouterr().err, cmd


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ("file_list", "'file_list' is a list, not an image array"),
        ("Ly", "'Ly' is a int, not an image array"),
        ("filelist", "no 'filelist' image in every plane"),
    ],
)
def test_a_functional_key_that_is_not_an_image(real_copy, capsys, key, said):
    root = real_copy("suite2p-1.1-2planes")
    before = tree_hashes(root)
    for cmd in (["compute"], ["info"], ["export"], ["suggest"]):
        assert main([*cmd, str(root), "--functional", key]) == 2, cmd
        _one_line(capsys.readouterr().err, f"--functional {key}", said)
    assert tree_hashes(root) == before


# --------------------------------------------------------------------------- where the cutoffs came from


def _manager(synthetic):
    return CellectorManager.from_folder(synthetic.root)


def test_origin_changes_only_when_the_cutoffs_change(synthetic):
    m = _manager(synthetic)
    assert m.criteria_origin is None
    m.update_criteria("dot_product", [5.0, None])
    assert m.criteria_origin == "set here"
    m.update_criteria("dot_product", [6.0, None])
    m.update_criteria("corr_coef", [0.1, None])
    assert m.criteria_origin == "set here"  # not "set here, adjusted"
    m.apply_criteria({"dot_product": (6.0, None), "corr_coef": (0.1, None)}, "from day1/suite2p")
    assert m.criteria_origin == "set here"  # the same cutoffs: nothing changed, nor where they came from
    m.apply_criteria({"dot_product": (7.0, None)}, "from day1/suite2p")
    assert m.criteria_origin == "from day1/suite2p"
    m.update_criteria("dot_product", [7.0, None])  # no move
    assert m.criteria_origin == "from day1/suite2p"
    m.update_criteria("dot_product", [8.0, None])
    assert m.criteria_origin == "from day1/suite2p, adjusted"
    m.update_criteria("dot_product", [9.0, None])
    assert m.criteria_origin == "from day1/suite2p, adjusted"


def test_undo_and_redo_restore_the_origin(synthetic):
    m = _manager(synthetic)
    m.update_criteria("dot_product", [5.0, None])  # set here
    m.apply_criteria({"dot_product": (7.0, None)}, "suggested from 6 labels")
    for v in (8.0, 9.0):  # one drag: one undo step
        m.update_criteria("dot_product", [v, None], coalesce=True)
    m.end_coalescing()
    m.flip(0)  # a label: undoing it leaves the origin alone
    assert m.criteria_origin == "suggested from 6 labels, adjusted"
    seen = []
    while m.undo():
        seen.append(m.criteria_origin)
    assert seen == ["suggested from 6 labels, adjusted", "suggested from 6 labels", "set here", None]
    redone = []
    while m.redo():
        redone.append(m.criteria_origin)
    adjusted = "suggested from 6 labels, adjusted"
    assert redone == ["set here", "suggested from 6 labels", adjusted, adjusted]  # the last: the label's redo


def test_the_saved_origin_survives_a_reopen_and_an_unchanged_drag(synthetic):
    m = _manager(synthetic)
    m.apply_criteria({"dot_product": (7.0, None)}, "from day1/suite2p")
    m.save_all()
    again = _manager(synthetic)
    assert again.criteria_origin == "from day1/suite2p"
    again.update_criteria("dot_product", [7.0, None])
    assert again.criteria_origin == "from day1/suite2p" and not again.dirty
    again.update_criteria("dot_product", [7.5, None])
    again.undo()
    assert again.criteria_origin == "from day1/suite2p" and not again.dirty
