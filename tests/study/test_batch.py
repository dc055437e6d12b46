"""Many sessions: in parallel processes and on a real dask LocalCluster, byte-identical to a serial run."""

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from cellector.io.datasets import make_suite2p_folder
from cellector.study.cli import main


def _sessions(base: Path) -> list[Path]:
    """Three small sessions and one broken one (its stat.npy is not a numpy file)."""
    roots = [
        make_suite2p_folder(base / f"s{i}", n_planes=1 + i % 2, n_rois=25, shape=(96, 96), seed=i).root
        for i in range(3)
    ]
    broken = base / "broken" / "suite2p"
    (broken / "plane0").mkdir(parents=True)
    (broken / "plane0" / "stat.npy").write_bytes(b"garbage")
    return [roots[0], broken, roots[1], roots[2]]


def _saved(roots: list[Path]) -> dict[str, str]:
    out = {}
    for root in roots:
        folder = root / "cellector"
        for f in sorted(folder.glob("*")) if folder.is_dir() else []:
            if f.is_file() and not f.name.startswith("."):
                out[f"{root.parent.name}/{f.name}"] = hashlib.sha1(f.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return _sessions(tmp_path_factory.mktemp("sessions"))


def _copy(template: list[Path], dst: Path) -> list[Path]:
    top = template[0].parents[1]
    shutil.copytree(top, dst)
    return [dst / r.relative_to(top) for r in template]


def _run(capsys, args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def _check_report(rc, out, err, roots):
    broken = roots[1]
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith(f"cellector: error: {broken}: ")
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["ok", "ok", "ok"]
    assert [line.split()[1].rstrip(":") for line in lines[:-1]] == [str(r) for r in roots if r != broken]
    assert lines[-1] == f"3 succeeded (0 up to date), 1 failed: {broken}"


def test_workers_and_cluster_equal_a_serial_run(template, tmp_path, capsys, cluster):
    serial = _copy(template, tmp_path / "serial")
    rc, out, err = _run(capsys, ["compute", *serial])
    _check_report(rc, out, err, serial)
    expected = _saved(serial)
    assert len(expected) == 3 * 8  # 7 features and cellector.json per session

    pool = _copy(template, tmp_path / "pool")
    rc, out, err = _run(capsys, ["compute", *pool, "--workers", "2"])
    _check_report(rc, out, err, pool)
    assert _saved(pool) == expected

    dask = _copy(template, tmp_path / "dask")
    rc, out, err = _run(capsys, ["compute", *dask, "--scheduler", cluster.scheduler_address])
    _check_report(rc, out, err, dask)
    assert _saved(dask) == expected
    from dask.distributed import Client

    with Client(cluster) as client:  # single-threaded workers computed with one feature thread
        threads = set(client.run(os.getenv, "CELLECTOR_THREADS").values())
    assert "1" in threads and threads <= {"1", None}  # None: a worker that got no session

    # a rerun after a crash resumes: up-to-date sessions are skipped, on the cluster too
    rc, out, _ = _run(capsys, ["compute", *dask, "--scheduler", cluster.scheduler_address])
    assert out.splitlines()[-1] == f"3 succeeded (3 up to date), 1 failed: {dask[1]}"
    assert _saved(dask) == expected


def test_apply_and_export_on_the_cluster(template, tmp_path, capsys, cluster):
    roots = _copy(template, tmp_path / "a")
    good = [r for r in roots if r != roots[1]]
    from cellector.manager import CellectorManager

    m = CellectorManager.from_folder(good[0])
    m.update_criteria("dot_product", [50.0, None])
    m.save_all()
    rc, out, err = _run(
        capsys, ["apply", "--criteria-from", good[0], *good[1:], "--scheduler", cluster.scheduler_address]
    )
    assert rc == 0, err
    assert out.splitlines()[-1] == "2 succeeded (0 up to date), 0 failed"
    rc, out, _ = _run(capsys, ["export", *good, "--workers", "2"])
    assert rc == 0 and all((r / "cellector" / "rois.csv").is_file() for r in good)
    for r in good[1:]:
        assert CellectorManager.from_folder(r).criteria["dot_product"] == (50.0, None)


def test_bad_workers_count_is_one_line(synthetic, capsys):
    rc, _, err = _run(capsys, ["compute", synthetic.root, synthetic.root, "--workers", "0"])
    assert rc == 2 and err == "cellector: error: --workers must be at least 1, got 0\n"
