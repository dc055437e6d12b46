"""No output path can reach a recording or a store: every refusal is exit 2, one line, nothing changed."""

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from cellector.io.outputs import OutputPathError, check_output_path
from cellector.manager import CellectorManager
from cellector.study.batch import SessionJob, run_job
from cellector.study.cli import main


@pytest.fixture
def lab(real_copy, tmp_path):
    """A curated copy of a genuine 2-plane folder inside a lab folder (tmp_path), and the lab folder."""
    root = real_copy("suite2p-1.1-2planes")
    m = CellectorManager.from_folder(root)
    m.update_criteria("dot_product", [90.0, None])
    m.update_manual_labels([3], [True])
    m.save_all()
    return tmp_path, root


def _hashes(top: Path) -> dict[str, str]:
    return {
        str(p.relative_to(top)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(top.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


# Each case: the output path (relative to the suite2p folder) and a word the one line must hold.
REFUSED = {
    "stat.npy of a plane": ("plane0/stat.npy", "stat.npy is a file name suite2p writes"),
    "ops.npy of a plane": ("plane1/ops.npy", "ops.npy is a file name suite2p writes"),
    "iscell.npy": ("plane0/iscell.npy", "iscell.npy is a file name suite2p writes"),
    "F.npy": ("plane0/F.npy", "F.npy is a file name suite2p writes"),
    "data.bin": ("plane0/data.bin", "data.bin is a file name suite2p writes"),
    "Fall.mat": ("plane0/Fall.mat", "Fall.mat is a file name suite2p writes"),
    "a new file in a plane folder": ("plane0/red.csv", "plane0 is a suite2p plane folder"),
    "a subfolder of a plane folder": ("plane1/exports/red.npy", "plane1 is a suite2p plane folder"),
    "the store's selection": ("cellector/idx_selected.npy", "is a cellector store"),
    "a new file in the store": ("cellector/table.csv", "is a cellector store"),
    "the store's metadata": ("cellector/cellector.json", "is a cellector store"),
    "the snapshot folder": ("cellector/.previous/idx_selected.npy", "is a cellector store"),
    "a plane folder itself": ("plane0", "it is a folder"),
    "a dotted way into a plane": ("cellector/../plane0/x.csv", "is a suite2p plane folder"),
}


@pytest.mark.parametrize("case", list(REFUSED))
@pytest.mark.parametrize("fmt", ["csv", "npy"])
def test_export_refuses_paths_into_the_recording(lab, capsys, case, fmt):
    top, root = lab
    rel, needle = REFUSED[case]
    before = _hashes(top)
    rc = main(["export", str(root), "--format", fmt, "-o", str(root / rel)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and err.startswith("cellector: error: ") and "Traceback" not in err
    assert needle in err and "refusing to write" in err, err
    assert _hashes(top) == before


def test_a_symlink_to_a_recording_file_is_refused(lab, capsys):
    top, root = lab
    (top / "out").mkdir()
    (top / "out" / "table.npy").symlink_to(root / "plane0" / "stat.npy")
    before = _hashes(top)
    assert main(["export", str(root), "--format", "npy", "-o", str(top / "out" / "table.npy")]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert _hashes(top) == before


def test_a_symlinked_folder_into_a_plane_is_refused(lab, capsys):
    top, root = lab
    (top / "shortcut").symlink_to(root / "plane1", target_is_directory=True)
    before = _hashes(top)
    assert main(["export", str(root), "-o", str(top / "shortcut" / "red.csv")]) == 2
    assert "shortcut is a suite2p plane folder" in capsys.readouterr().err  # it holds stat.npy
    assert _hashes(top) == before


def test_a_store_elsewhere_and_a_published_store_are_refused(lab, tmp_path, capsys):
    top, root = lab
    other = tmp_path / "elsewhere" / "state"
    assert main(["apply", "--criteria-from", str(root), str(root), "--store", str(other)]) == 0
    capsys.readouterr()
    published = tmp_path / "published"
    published.mkdir()
    np.save(published / "dot_product_featurecriteria.npy", np.array([1.0, np.nan]))
    for target in (other / "rois.csv", published / "rois.csv"):
        before = _hashes(top)
        assert main(["export", str(root), "-o", str(target)]) == 2
        assert "is a cellector store" in capsys.readouterr().err
        assert _hashes(top) == before


def test_a_users_own_export_is_replaced_atomically(lab, capsys):
    top, root = lab
    out = top / "analysis" / "red.csv"
    assert main(["export", str(root), "-o", str(out)]) == 0
    first = out.read_text()
    m = CellectorManager.from_folder(root)
    m.update_manual_labels([3], [False])
    m.save_all()
    recording = _hashes(root.parent)
    assert main(["export", str(root), "-o", str(out)]) == 0
    assert out.read_text() != first and sorted(os.listdir(out.parent)) == ["red.csv"]  # no temporary left
    assert {k: v for k, v in _hashes(root.parent).items() if "cellector" not in k} == {
        k: v for k, v in recording.items() if "cellector" not in k
    }
    capsys.readouterr()


def test_a_suite2p_file_name_is_refused_anywhere(tmp_path):
    for name in ("stat.npy", "Fneu_chan2.npy", "spks.npy", "data_chan2.bin", "redcell.npy"):
        with pytest.raises(OutputPathError, match=f"{name} is a file name suite2p writes"):
            check_output_path(tmp_path / name)
    assert check_output_path(tmp_path / "Features.npy") == tmp_path / "Features.npy"  # only suite2p's own names


def test_the_python_job_refuses_too(lab):
    top, root = lab
    before = _hashes(top)
    result = run_job(
        SessionJob("export", str(root), {}, {"format": "npy", "output": str(root / "plane0" / "stat.npy")})
    )
    assert not result.ok and "refusing to write" in result.message and "\n" not in result.message
    assert _hashes(top) == before
