"""``cellector report`` (and its alias ``cellector-report``): a figure per session and an index.html."""

import numpy as np
import pytest

from cellector_gui.report import main

from ..conftest import curated, tree_hashes


def _report(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_report_figures_and_index(real_copy, tmp_path, capsys):
    import matplotlib.image as mpimg
    from matplotlib.colors import to_rgba

    from cellector_gui._viewer.palette import DECISION_COLORS
    from cellector_gui.report import _outlines

    one, two = real_copy("suite2p-0.14-1plane"), real_copy("suite2p-1.1-2planes")
    m1, m2 = curated(one), curated(two)
    broken = tmp_path / "broken" / "suite2p" / "plane0"
    broken.mkdir(parents=True)
    (broken / "stat.npy").write_bytes(b"not a numpy file")
    out = tmp_path / "report"
    rc, _stdout, err = _report(capsys, one, two, broken.parent, "-o", out)
    assert rc == 2 and err.count("\n") == 1 and str(broken.parent) in err  # the broken one is named, the rest go on
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == 2 and len(list(out.glob("*.pdf"))) == 2
    for png in pngs:
        h, w = mpimg.imread(png).shape[:2]
        assert w >= 1000 and h >= 700
        assert png.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    index = (out / "index.html").read_text()
    for m in (m1, m2):
        assert f"<td>{int(m.compute_idx_selected().sum())} of {m.num_rois}</td>" in index
    assert "dot_product &gt;= " in index and "error: " in index and str(broken.parent) in index
    assert "http" not in index  # offline: nothing fetched from the internet
    # the outlines: each ROI's edge in its decision's colour, manual overrides in theirs
    label, active = m2.manual_selection
    rgba = _outlines(m2, 0)
    rois, selected = m2.roi_processor.rois, m2.compute_idx_selected()
    for i in np.flatnonzero(m2.roi_processor.session.roi_plane == 0)[:15]:
        y, x = rois.ypix[rois.ptr[i] : rois.ptr[i + 1]], rois.xpix[rois.ptr[i] : rois.ptr[i + 1]]
        k = int(np.argmin(y))  # the ROI's top pixel is on its edge
        kind = (
            ("manually red" if label[i] else "manually not red")
            if active[i]
            else ("selected" if selected[i] else "rejected")
        )
        if (rgba[y[k], x[k]] > 0).any():  # not covered by a later ROI
            assert tuple(rgba[y[k], x[k]]) == to_rgba(DECISION_COLORS[kind]), i


def test_report_into_a_recording_is_refused(real_copy, capsys):
    root = real_copy("suite2p-0.14-1plane")
    before = tree_hashes(root)
    rc, _stdout, err = _report(capsys, root, "-o", root / "plane0" / "report")
    assert rc == 2 and err.count("\n") == 1 and "refusing to write" in err
    assert tree_hashes(root) == before


def _rows(index: str) -> list[str]:
    return [line for line in index.splitlines() if line.startswith("<tr><td>")]


def test_report_in_worker_processes_and_on_a_dask_cluster_is_the_same(real_copy, tmp_path, capsys):
    """``--workers 2`` and ``--scheduler`` draw the same figures and index rows as one after the other."""
    from dask.distributed import LocalCluster

    one, two = real_copy("suite2p-0.14-1plane"), real_copy("suite2p-1.1-2planes")
    curated(one), curated(two)
    serial, parallel, cluster = tmp_path / "serial", tmp_path / "parallel", tmp_path / "cluster"
    assert _report(capsys, one, two, "-o", serial)[0] == 0
    from cellector.study.cli import main as cellector

    # `cellector report`: the core's command line runs the subcommand the window's package registers
    rc = cellector(["report", str(one), str(two), "-o", str(parallel), "--workers", "2"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == "" and out.count("ok   ") == 2
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        rc, out, _err = _report(capsys, one, two, "-o", cluster, "--scheduler", c.scheduler_address)
    assert rc == 0 and out.count("ok   ") == 2
    reference = _rows((serial / "index.html").read_text())
    assert len(reference) == 2
    for folder in (parallel, cluster):
        assert _rows((folder / "index.html").read_text()) == reference  # the same rows, in the same order
        for png in serial.glob("*.png"):
            import matplotlib.image as mpimg

            other, first = mpimg.imread(folder / png.name), mpimg.imread(png)
            assert other.shape == first.shape
            # pixel for pixel, but for the minute the figure says it was drawn in (a clock may tick between
            # runs): any difference lies within one line of text
            rows = np.flatnonzero(np.any(other != first, axis=(1, 2)))
            assert rows.size == 0 or rows.max() - rows.min() < 20


def test_report_is_a_subcommand_of_cellector(capsys):
    from cellector.study.cli import build_parser, plugged_commands
    from cellector.study.cli import main as cellector

    assert plugged_commands()["report"].value == "cellector_gui.report:main"  # the entry point the package registers
    assert "report" in build_parser().format_help()
    with pytest.raises(SystemExit) as stop:  # -h: argparse prints the subcommand's own help and exits 0
        cellector(["report", "-h"])
    assert stop.value.code == 0 and "usage: cellector report" in capsys.readouterr().out
    assert cellector(["report", "/no/such/folder", "-o", "/tmp/never-written-report"]) == 2
    assert "cellector report: error: /no/such/folder" in capsys.readouterr().err


def test_a_runner_of_another_package_is_named_by_module_path(tmp_path):
    from cellector.study.batch import SessionJob, run_job

    bad = run_job(SessionJob("os.system; rm", str(tmp_path)))
    assert not bad.ok and "unknown command" in bad.message  # only module:function names are imported
    missing = run_job(SessionJob("cellector_gui.report:report_job", str(tmp_path), {}, {"output": "x", "name": "x"}))
    assert not missing.ok and "suite2p" in missing.message  # the runner ran, and said why in one line
