"""The ``cellector`` command on synthetic and real suite2p folders: outputs and exit codes."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from cellector.io.datasets import make_suite2p_folder
from cellector.io.store import load_state
from cellector.manager import CellectorManager
from cellector.study import cli
from cellector.study.cli import main

from ..conftest import console_script


def _run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_demo_writes_a_session_and_a_worked_example(tmp_path, capsys):
    rc, out, err = _run(capsys, "demo", tmp_path / "demo", "--planes", 2, "--rois", 80, "--seed", 1)
    assert rc == 0, err
    root = tmp_path / "demo" / "suite2p"
    st = load_state(root)
    assert st["criteria"]["dot_product"] == cli.DEMO_CRITERIA["dot_product"]
    assert st["criteria"]["corr_coef"] == cli.DEMO_CRITERIA["corr_coef"]
    # the printed counts are those of the saved selection against the ground truth
    truth = np.concatenate(
        [np.load(tmp_path / "demo" / "ground_truth" / f"plane{z}_roi_truth.npz")["truth_red"] for z in range(2)]
    )
    sel = st["idx_selected"]
    assert f"select {int(sel.sum())} ROIs: {int((sel & truth).sum())} of {int(truth.sum())} true red" in out
    assert (sel & truth).sum() > 0.6 * truth.sum() and (sel & ~truth).sum() < 0.1 * sel.sum()


def test_info_on_real_and_synthetic_folders(real_copy, synthetic, capsys):
    rc, out, _ = _run(capsys, "info", real_copy("suite2p-1.1-2planes"))
    assert rc == 0
    assert "plane0:" in out and "plane1:" in out and "meanImg_chan2" in out and "red_s2p: yes" in out
    assert "saved features: none" in out
    rc, out, _ = _run(capsys, "info", synthetic.root)
    assert rc == 0 and f"ROIs processed: {sum(synthetic.n_rois)} (all)" in out
    rc, out, _ = _run(capsys, "info", synthetic.root, "--iscell-only")
    iscell = sum(int(np.load(synthetic.root / f"plane{z}" / "iscell.npy")[:, 0].sum()) for z in range(2))
    assert rc == 0 and f"ROIs processed: {iscell} (iscell)" in out


def test_compute_caches_with_provenance(real_copy, capsys):
    root = real_copy("suite2p-0.14-1plane")
    rc, out, err = _run(capsys, "compute", root)
    assert rc == 0, err
    assert "61 ROIs" in out and "phase_corr" in out and err == ""  # no bar in a log
    meta = json.loads((root / "cellector" / "cellector.json").read_text())
    assert meta["n_rois"] == 61 and meta["features"]["phase_corr"]["parameters"]["centered_width"] == 40
    f = root / "cellector" / "phase_corr_feature.npy"
    stamp = f.stat().st_mtime_ns
    values = np.load(f)
    rc, _, _ = _run(capsys, "compute", root)
    assert rc == 0 and f.stat().st_mtime_ns == stamp  # reused, not rewritten
    m = CellectorManager.from_folder(root)
    np.testing.assert_array_equal(m.features["phase_corr"], values)


def test_single_channel_folder_needs_a_key(real_copy, capsys):
    root = real_copy("real-fissa-1plane")
    rc, _, err = _run(capsys, "compute", root)
    assert rc == 2 and err.count("\n") == 1 and "single-channel" in err and "--reference KEY" in err
    rc, out, _ = _run(capsys, "compute", root, "--reference", "meanImg")
    assert rc == 0 and "23 ROIs" in out
    assert not (root / "cellector" / "red_s2p_feature.npy").exists()


def test_apply_propagates_and_reports_each_target(tmp_path, real_copy, capsys):
    src = make_suite2p_folder(tmp_path / "src", n_planes=1, n_rois=40, shape=(96, 96), seed=2).root
    m = CellectorManager.from_folder(src)
    m.update_criteria("dot_product", [100.0, None])
    m.update_criteria("corr_coef", [None, 0.95])
    m.save_all()
    good = make_suite2p_folder(tmp_path / "t1", n_planes=2, n_rois=30, shape=(96, 96), seed=9).root
    real = real_copy("suite2p-1.1-2planes")
    bad = tmp_path / "not_suite2p"
    bad.mkdir()
    rc, out, err = _run(capsys, "apply", "--criteria-from", src, good, bad, real)
    assert rc == 2  # one target failed, the others went on
    lines = out.splitlines()
    assert lines[0].startswith(f"ok   {good}") and lines[1].startswith(f"ok   {real}")
    assert lines[-1] == f"2 succeeded (0 up to date), 1 failed: {bad}"
    assert err.startswith(f"cellector: error: {bad}: ") and "not a suite2p" in err and err.count("\n") == 1
    for target in (good, real):
        st = load_state(target)
        assert st["criteria"]["dot_product"] == (100.0, None) and st["criteria"]["corr_coef"] == (None, 0.95)
        t = CellectorManager.from_folder(target)
        expected = (t.features["dot_product"] >= 100) & (t.features["corr_coef"] <= 0.95)
        np.testing.assert_array_equal(st["idx_selected"], expected)
        assert f"{int(expected.sum())} of {t.num_rois} selected" in out
        assert st["metadata"]["criteria_origin"] == f"from {src}" and t.criteria_origin == f"from {src}"
    rc, out, _ = _run(capsys, "apply", "--criteria-from", src, good)
    assert rc == 0 and out.startswith(f"ok   {good}: ") and len(out.splitlines()) == 1


def test_export_csv_and_npy(synthetic, capsys, tmp_path):
    m = CellectorManager.from_folder(synthetic.root)
    m.update_criteria("phase_corr", [0.002, None])
    m.update_manual_labels([5, 70], [True, False])
    m.save_all()
    rc, out, _ = _run(capsys, "export", synthetic.root)
    assert rc == 0
    path = synthetic.root / "cellector" / "rois.csv"
    assert (
        f"wrote {path} ({m.num_rois} ROIs, {int(m.compute_idx_selected().sum())} selected; cutoffs on phase_corr)"
        in out
    )
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == m.num_rois
    assert list(rows[0]) == ["plane", "suite2p_index", *m.features, "manual_label", "manual_active", "selected"]
    selected = np.array([r["selected"] == "1" for r in rows])
    np.testing.assert_array_equal(selected, np.load(synthetic.root / "cellector" / "idx_selected.npy"))
    n0 = synthetic.n_rois[0]
    assert rows[70]["plane"] == "plane1" and rows[70]["suite2p_index"] == str(70 - n0)
    assert rows[5]["manual_active"] == "1" and rows[5]["manual_label"] == "1" and rows[5]["selected"] == "1"
    assert float(rows[3]["phase_corr"]) == pytest.approx(float(m.features["phase_corr"][3]), rel=1e-12)
    rc, _, _ = _run(capsys, "export", synthetic.root, "--format", "npy", "-o", tmp_path / "t.npy")
    rec = np.load(tmp_path / "t.npy", allow_pickle=False)
    assert rc == 0 and rec.shape == (m.num_rois,) and rec["selected"].sum() == selected.sum()
    np.testing.assert_array_equal(rec["phase_corr"], m.features["phase_corr"])


def test_migrate_legacy_names(synthetic, capsys):
    folder = synthetic.root / "cellector"
    folder.mkdir()
    n = sum(synthetic.n_rois)
    np.save(folder / "targetcell.npy", np.ones(n, bool))
    np.save(folder / "manual_selection.npy", np.zeros((n, 2), bool))
    np.save(folder / "corr_coef_criteria.npy", np.array([0.2, 0.9]))
    rc, out, _ = _run(capsys, "migrate", synthetic.root)
    assert rc == 0 and "moved targetcell.npy -> idx_selected.npy" in out and "rewrote (N, 2) as (2, N)" in out
    assert np.load(folder / "manual_selection.npy").shape == (2, n)
    assert not (folder / "targetcell.npy").exists() and not (folder / "corr_coef_criteria.npy").exists()
    assert np.load(folder / ".previous" / "targetcell.npy").all()  # the folder as it was is kept
    assert load_state(synthetic.root)["criteria"]["corr_coef"] == (0.2, 0.9)
    rc, out, _ = _run(capsys, "migrate", synthetic.root)
    assert rc == 0 and "nothing to migrate" in out
    np.save(folder / "dot_product.npy", np.arange(n, dtype=float))
    rc, out, _ = _run(capsys, "migrate", "--keep-old", synthetic.root)
    assert "copied dot_product.npy -> dot_product_feature.npy (kept dot_product.npy)" in out
    assert (folder / "dot_product.npy").is_file() and (folder / "dot_product_feature.npy").is_file()


def test_internal_error_is_exit_1(monkeypatch, synthetic, capsys):
    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "cmd_info", broken)
    rc, _, err = _run(capsys, "info", synthetic.root)
    assert rc == 1 and err == "cellector: internal error: RuntimeError: boom (please report this)\n"


def test_console_scripts_help_and_headless_import(tmp_path, synthetic):
    for exe in ("cellector", "cellector-gui"):
        r = subprocess.run([console_script(exe), "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "usage:" in r.stdout
    # the core and its command never import a GUI toolkit
    code = (
        "import sys; from cellector.study.cli import main; import cellector.utils, cellector.manager; "
        f"rc = main(['info', {str(synthetic.root)!r}]); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('qtpy', 'PyQt5', 'PyQt6', 'PySide2', 'PySide6', "
        "'napari', 'magicgui', 'superqt', 'vispy', 'matplotlib')]; print(rc, bad)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.stdout.strip().splitlines()[-1] == "0 []", r.stderr


def test_progress_bar_on_a_terminal_ends_once(monkeypatch):
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    bar = cli._Progress("s")
    for step in [(0, 4), (2, 4), (4, 4), (4, 4)]:  # a finished session reports 4/4 twice
        bar(*step)
    text = tty.getvalue()
    assert text.count("4/4") == 1 and text.endswith("] 4/4\n") and text.count("\n") == 1
