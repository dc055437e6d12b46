"""State that another program wrote, or that belongs to another folder: never dropped or used silently."""

import shutil

import numpy as np
import pytest

from cellector.io.published import save_idx_selected, save_manual_selection
from cellector.io.store import StoreError, load_state, save_state
from cellector.manager import CellectorManager
from cellector.study.cli import main


@pytest.fixture
def curated(real_copy):
    """A genuine 1-plane folder (61 ROIs) with saved cutoffs and two labels."""
    root = real_copy("suite2p-0.14-1plane")
    m = CellectorManager.from_folder(root)
    m.update_criteria("dot_product", [90.0, None])
    m.update_manual_labels([0, 1], [True, False])
    m.save_all()
    return root, m.compute_idx_selected().copy()


def test_a_foreign_selection_keeps_the_cutoffs_and_becomes_labels(curated, capsys):
    root, saved = curated
    foreign = saved.copy()
    foreign[[5, 6, 7]] = ~foreign[[5, 6, 7]]
    np.save(root / "cellector" / "idx_selected.npy", foreign)  # a user's np.save
    st = load_state(root)
    assert st["criteria"]["dot_product"] == (90.0, None)  # the cutoffs are not dropped
    assert st["changed_outside"] == ["idx_selected.npy"]
    assert st["idx_selected"].tolist() == foreign.tolist()
    m = CellectorManager.from_folder(root)
    assert m.criteria["dot_product"] == (90.0, None)
    np.testing.assert_array_equal(m.compute_idx_selected(), foreign)
    assert m.manual_label_active[[5, 6, 7]].all() and m.manual_label_active.sum() == 5
    assert m.dirty and any("3 ROIs differ from the saved cutoffs" in n for n in m.notes)
    assert main(["info", str(root)]) == 0
    out = capsys.readouterr().out
    assert "saved criteria: dot_product [90, -]" in out
    assert f"selected: {int(foreign.sum())} of 61" in out
    assert "changed outside cellector since the last save: idx_selected.npy" in out
    assert "the selection used is the file's" in out
    m.save_all()  # saving records it: the next load is clean
    assert load_state(root)["changed_outside"] == []


def test_the_published_writer_is_a_foreign_writer_too(curated):
    root, saved = curated
    flipped = saved.copy()
    flipped[10] = not flipped[10]
    save_idx_selected(root, flipped)  # our published API writes through the store: a clean save
    assert load_state(root)["changed_outside"] == []
    np.save(root / "cellector" / "idx_selected.npy", flipped.astype(np.int8))  # 0/1 integers are booleans
    m = CellectorManager.from_folder(root)
    np.testing.assert_array_equal(m.compute_idx_selected(), flipped)


def test_a_foreign_feature_file_is_recomputed_not_used(curated):
    root, _ = curated
    orig = np.load(root / "cellector" / "dot_product_feature.npy")
    np.save(root / "cellector" / "dot_product_feature.npy", orig * 0 + 1e9)
    st = load_state(root)
    assert "dot_product" not in st["features"] and st["changed_outside"] == ["dot_product_feature.npy"]
    m = CellectorManager.from_folder(root)
    np.testing.assert_array_equal(m.features["dot_product"], orig)


@pytest.mark.parametrize("bad", [np.linspace(0, 1, 61), np.full(61, 0.5), np.r_[np.ones(60), 2.0]])
def test_non_boolean_selections_are_refused(curated, bad, capsys):
    root, _ = curated
    before = (root / "cellector" / "idx_selected.npy").read_bytes()
    with pytest.raises(StoreError, match=r"idx_selected must be boolean \(True/False or 0/1\), but holds"):
        save_idx_selected(root, bad)
    with pytest.raises(StoreError, match="manual_labels must be boolean"):
        save_manual_selection(root, bad, np.ones(61, bool))
    assert (root / "cellector" / "idx_selected.npy").read_bytes() == before
    np.save(root / "cellector" / "idx_selected.npy", bad)  # written by hand
    assert main(["info", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "idx_selected.npy must be boolean" in err and "probabilities > 0.5" in err


def test_save_state_refuses_a_float_selection(tmp_path):
    with pytest.raises(StoreError, match="must be boolean"):
        save_state(tmp_path, {}, idx_selected=np.array([0.2, 0.9]))
    assert not (tmp_path / "cellector").exists() or not any((tmp_path / "cellector").glob("*.npy"))


def test_info_says_a_copied_store_is_not_this_folders(curated, real_copy, capsys):
    root, _ = curated
    other = real_copy("suite2p-1.1-2planes")
    shutil.copytree(root / "cellector", other / "cellector")
    assert main(["info", str(other)]) == 0
    out = capsys.readouterr().out
    assert "state: not this folder's (saved for plane0, this folder has plane0, plane1)" in out
    assert "selected:" not in out and "manual labels:" not in out and "saved criteria" not in out
    assert main(["export", str(other)]) == 2  # and nothing uses it
    assert "holds a saved state that is not this folder's" in capsys.readouterr().err


def test_info_says_a_shared_store_is_not_this_folders(curated, real_copy, tmp_path, capsys):
    root, _ = curated
    shared = tmp_path / "shared"
    assert main(["apply", "--criteria-from", str(root), str(root), "--store", str(shared)]) == 0
    other = real_copy("real-fissa-1plane")
    capsys.readouterr()
    assert main(["info", str(other), "--reference", "meanImg", "--store", str(shared)]) == 0
    out = capsys.readouterr().out
    assert "state: not this folder's" in out and "selected:" not in out and "dot_product [90" not in out


def test_info_says_files_of_the_wrong_length_are_not_this_folders(curated, capsys):
    root, _ = curated
    meta = root / "cellector" / "cellector.json"
    meta.unlink()  # a store of the published layout: only lengths can be checked
    np.save(root / "cellector" / "idx_selected.npy", np.ones(60, bool))
    assert main(["info", str(root)]) == 0
    assert "state: not this folder's (idx_selected.npy holds 60 ROIs, this folder 61)" in capsys.readouterr().out


# --------------------------------------------------------------------------- names and links never reach outside


@pytest.mark.parametrize("name", ["../plane0/x", "/tmp/evil", ".hidden", "a/b", "with space", "1st", "", "dash-name"])
def test_feature_names_are_validated_where_they_enter(curated, name):
    from cellector.io.published import save_criteria, save_feature

    root, _ = curated
    top = root.parent.parent
    before = sorted(str(p.relative_to(top)) for p in top.rglob("*") if "cellector" not in p.parts)
    m = CellectorManager.from_folder(root)
    with pytest.raises(ValueError, match="invalid feature name"):
        m.add_feature(name, np.zeros(61))
    with pytest.raises(ValueError, match="invalid feature name"):
        save_feature(root, name, np.zeros(61))
    with pytest.raises(ValueError, match="invalid feature name"):
        save_criteria(root, name, [0.0, 1.0])
    m.save_all()
    assert sorted(str(p.relative_to(top)) for p in top.rglob("*") if "cellector" not in p.parts) == before
    stem = name.strip("./")
    assert not stem or not any(stem in p.name for p in (root / "cellector").iterdir())


def test_a_planted_lock_link_is_never_followed(curated, capsys):
    root, _ = curated
    victim = root / "plane0" / "stat.npy"
    before = victim.read_bytes()
    lock = root / "cellector" / ".lock"
    lock.unlink()
    lock.symlink_to(victim)
    assert main(["apply", "--criteria-from", str(root), str(root)]) == 2
    err = capsys.readouterr().err
    assert ".lock is a symbolic link; cellector never writes through one" in err and err.count("\n") == 1
    assert victim.read_bytes() == before


def test_a_planted_journal_link_is_never_followed(curated):
    root, _ = curated
    victim = root / "plane0" / "iscell.npy"
    before = victim.read_bytes()
    (root / "cellector" / ".journal.jsonl").symlink_to(victim)
    m = CellectorManager.from_folder(root)
    m.update_manual_labels([4], [True])
    assert victim.read_bytes() == before
    assert any("could not journal manual edits" in n and "symbolic link" in n for n in m.notes)
