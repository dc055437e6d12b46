"""``cellector status ROOT``: every session of a study, how far its curation went."""

import json
import shutil
from pathlib import Path

import numpy as np

from cellector.manager import CellectorManager
from cellector.study.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"


def _study(tmp_path: Path) -> Path:
    """A study folder: five genuine sessions at different depths, in every state but broken."""
    root = tmp_path / "study"
    for rel, name in [
        ("m1/day1", "suite2p-0.14-1plane"),
        ("m1/day2", "suite2p-1.1-2planes"),
        ("m1/day10", "suite2p-0.14-1plane"),
        ("m2/day1/fov2", "suite2p-1.1-2planes"),
        ("m2/day2", "suite2p-0.14-1plane"),
    ]:
        shutil.copytree(DATA / name / "suite2p", root / rel / "suite2p")
    m = CellectorManager.from_folder(root / "m1/day1/suite2p")  # saved
    m.update_criteria("dot_product", [30.0, None])
    m.save_all()
    m.flip(2)  # ...then edited in a window still open: journalled, not saved
    m = CellectorManager.from_folder(root / "m1/day2/suite2p")  # cutoffs only (a published-package save)
    m.update_criteria("corr_coef", [0.5, None])
    m.save_criteria()
    m = CellectorManager.from_folder(root / "m1/day10/suite2p")  # saved and clean, with labels of both kinds
    m.update_criteria("dot_product", [30.0, None])
    m.update_manual_labels([0, 1], True)
    m.update_manual_labels([2, 3], False)
    m.save_all()
    assert main(["compute", str(root / "m2/day1/fov2/suite2p")]) == 0  # features only; m2/day2 untouched
    return root


def test_status_json_rows(tmp_path, capsys):
    root = _study(tmp_path)
    capsys.readouterr()
    assert main(["status", str(root), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["path"] for r in rows] == [
        "m1/day1/suite2p",
        "m1/day2/suite2p",
        "m1/day10/suite2p",
        "m2/day1/fov2/suite2p",
        "m2/day2/suite2p",
    ]
    by = {r["path"]: r for r in rows}
    day10 = np.load(root / "m1/day10/suite2p/cellector/idx_selected.npy")
    again = CellectorManager.from_folder(root / "m1/day10/suite2p").estimate_selection()  # the saved state's
    estimate = {
        "precision": round(again.estimated_precision, 4),
        "recall": round(again.estimated_recall, 4),
        "f1": round(again.estimated_f1, 4),
        "f1_margin": round(again.f1_margin, 4),
        "labels": 4,
        "carried": 0,
    }
    assert by["m1/day10/suite2p"] | {"saved_at": None} == {
        "path": "m1/day10/suite2p",
        "planes": 1,
        "rois": 61,
        "selected": int(day10.sum()),
        "state": "saved",
        "saved_at": None,
        "criteria_origin": "set here",  # a cutoff set with update_criteria, as the window's slider does
        "estimate": estimate,  # how good the saved selection looked by the fit to its labels
        "error": None,
    }
    assert by["m1/day10/suite2p"]["saved_at"].startswith("20")
    assert by["m1/day1/suite2p"]["state"] == "changed since saved"
    assert by["m1/day2/suite2p"]["state"] == "cutoffs set" and by["m1/day2/suite2p"]["selected"] is None
    assert by["m2/day1/fov2/suite2p"] == {
        "path": "m2/day1/fov2/suite2p",
        "planes": 2,
        "rois": 61,
        "selected": None,
        "state": "features computed",
        "saved_at": None,
        "criteria_origin": None,
        "estimate": None,
        "error": None,
    }
    assert by["m2/day2/suite2p"]["state"] == "not started"


def test_status_table_and_a_broken_session(tmp_path, capsys):
    root = _study(tmp_path)
    bad = root / "m3" / "suite2p" / "plane0"
    bad.mkdir(parents=True)
    (bad / "stat.npy").write_bytes(b"junk")
    (root / "m3" / "notes.txt").write_text("not a session")
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["status", str(root)]) == 2  # listed, and the broken one makes it fail
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split("  ")[0] == "session" and lines[0].endswith("last saved        estimated when saved")
    day10 = next(line for line in lines if line.startswith("m1/day10/"))
    f1 = json.loads((root / "m1/day10/suite2p/cellector/cellector.json").read_text())["estimate"]["f1"]
    assert f"F1 {f1:.2f} ± " in day10 and day10.endswith("(4 labels)")
    assert next(line for line in lines if line.startswith("m2/day2/")).endswith("-")
    assert any(line.startswith("m3/suite2p") and "broken" in line for line in lines) and len(lines) == 7
    assert err.count("\n") == 1 and err.startswith("error: m3/suite2p: ") and "stat.npy" in err
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == before  # status writes nothing


def test_status_of_a_folder_without_sessions(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["status", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no suite2p session under" in err


def test_a_saved_estimate_in_words():
    from cellector.study.status import estimate_text

    assert estimate_text({"f1": 0.874, "f1_margin": 0.061, "labels": 12}) == "F1 0.87 ± 0.06 (12 labels)"
    assert estimate_text({"f1": 0.5, "f1_margin": 0.1, "labels": 1}) == "F1 0.50 ± 0.10 (1 label)"
    # none saved, or a file edited by hand: nothing is said, nothing fails
    assert estimate_text(None) is None
    assert estimate_text({"f1": "high", "f1_margin": 0.1, "labels": 3}) is None
    assert estimate_text({"f1": 0.9}) is None
