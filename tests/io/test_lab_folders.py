"""Real lab folders: never overwritten, shared with the lab, usable when read-only.

Unwritable folders are met the way a lab mate meets them: the folder belongs to another
user and the command runs as a user without write access. Under root (CI) that user is
"nobody" in a user namespace (``unshare``), where root's privileges do not apply; as a
normal user the folder is simply made read-only, which that user cannot bypass.
"""

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cellector.study.cli import main

AS_ROOT = os.geteuid() == 0
OTHER_UID = 12345  # the owner of a "colleague's" folder


def _tree(path: Path) -> dict[str, str]:
    """Every file under ``path`` with its sha1 and mode, and every folder."""
    out = {}
    for p in sorted(path.rglob("*")):
        key = str(p.relative_to(path))
        if p.is_file():
            out[key] = hashlib.sha1(p.read_bytes()).hexdigest() + oct(p.stat().st_mode)
        else:
            out[key] = "dir" + oct(p.stat().st_mode)
    return out


def _run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _modes(folder: Path) -> set[tuple[str, str]]:
    return {("d" if p.is_dir() else "f", oct(stat.S_IMODE(p.stat().st_mode))) for p in folder.rglob("*")}


@pytest.fixture
def umask():
    """Set the process umask for a test, restored after."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


# --------------------------------------------------------------------------- never overwrite


@pytest.mark.parametrize("target", ["parent", "suite2p", "plane"])
def test_demo_refuses_a_real_suite2p_folder(real_copy, capsys, target):
    root = real_copy("suite2p-0.14-1plane")
    out = {"parent": root.parent, "suite2p": root, "plane": root / "plane0"}[target]
    before = _tree(root.parent)
    rc, stdout, err = _run(capsys, "demo", out)
    assert rc == 2 and stdout == ""
    assert err.count("\n") == 1 and "is not a cellector demo folder: refusing to write over it" in err
    assert "holds a suite2p session" in err
    assert _tree(root.parent) == before  # nothing touched


def test_demo_refuses_other_folders_but_rewrites_its_own(tmp_path, capsys):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("x")
    rc, _, err = _run(capsys, "demo", other)
    assert rc == 2 and "is not empty and is not a cellector demo folder" in err
    assert sorted(p.name for p in other.iterdir()) == ["todo.txt"]
    rc, _, err = _run(capsys, "demo", tmp_path / "d", "--planes", 1, "--rois", 20)
    assert rc == 0, err
    rc, _, err = _run(capsys, "demo", tmp_path / "d", "--planes", 1, "--rois", 20, "--seed", 3)
    assert rc == 0, err  # its own earlier demo may be rewritten


# --------------------------------------------------------------------------- permissions


@pytest.mark.parametrize(("mask", "file_mode", "dir_mode"), [(0o022, "0o644", "0o755"), (0o002, "0o664", "0o775")])
def test_files_follow_the_umask(real_copy, capsys, umask, mask, file_mode, dir_mode):
    umask(mask)
    a = real_copy("suite2p-0.14-1plane")
    b = real_copy("suite2p-1.1-2planes")
    assert _run(capsys, "compute", a, b)[0] == 0
    from cellector.manager import CellectorManager

    m = CellectorManager.from_folder(a)
    m.update_criteria("dot_product", [90.0, None])
    m.save_all()  # what the window's Save calls
    assert _run(capsys, "apply", "--criteria-from", a, b)[0] == 0
    assert _run(capsys, "export", a, b)[0] == 0
    out = a.parent.parent / "exports" / "t.npy"  # -o may not point into a store: a folder of the user's
    assert _run(capsys, "export", a, "--format", "npy", "-o", out)[0] == 0
    for root in (a, b):
        assert _modes(root / "cellector") == {("f", file_mode), ("d", dir_mode)}, root
    assert _modes(out.parent) == {("f", file_mode)}


def _as_other_user(code: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run Python code as a user who does not own the test's folders (see the module docstring)."""
    cmd = [sys.executable, "-c", code]
    if AS_ROOT:
        if shutil.which("unshare") is None:
            pytest.fail("unshare (util-linux) is needed to run as another user")
        cmd = ["unshare", "--user", "--map-user=65534", *cmd]
    env = {**os.environ, **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def _give_away(folder: Path) -> None:
    """Make ``folder`` a colleague's: readable by all, writable by nobody here."""
    for p in [folder, *folder.rglob("*")]:
        if AS_ROOT:
            os.chown(p, OTHER_UID, OTHER_UID)
        p.chmod(0o755 if p.is_dir() else 0o644)
        if not AS_ROOT:
            p.chmod(0o555 if p.is_dir() else 0o444)


def _restore(folder: Path) -> None:
    for p in [folder, *folder.rglob("*")]:
        if AS_ROOT:
            os.chown(p, 0, 0)
        p.chmod(0o755 if p.is_dir() else 0o644)


def test_a_state_saved_by_one_user_is_read_by_another(real_copy, umask):
    umask(0o022)
    root = real_copy("suite2p-1.1-2planes")
    from cellector.manager import CellectorManager

    m = CellectorManager.from_folder(root)
    m.update_criteria("corr_coef", [0.5, None])
    m.flip(3)
    m.save_all()
    expected = m.compute_idx_selected()
    _give_away(root)
    try:
        code = (
            "import numpy as np; from cellector.io import load_idx_selected; "
            "from cellector.manager import CellectorManager; "
            f"m = CellectorManager.from_folder({str(root)!r}); "
            f"print(m.criteria['corr_coef'], m.manual_selection[1].sum(), load_idx_selected({str(root)!r}).sum())"
        )
        r = _as_other_user(code, {"XDG_CACHE_HOME": str(root.parent / "cache")})
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["(0.5,", "None)", "1", str(int(expected.sum()))]
    finally:
        _restore(root)


def test_a_read_only_folder_opens_and_is_never_written(real_copy, tmp_path):
    root = real_copy("suite2p-0.14-1plane")
    cache = tmp_path / "cache"
    cache.mkdir()
    store = tmp_path / "mystore"
    _give_away(root)
    before = _tree(root.parent)
    try:
        probe = _as_other_user(f"import os; print(os.access({str(root)!r}, os.W_OK))")
        assert probe.stdout.strip() == "False"  # really unwritable for that user
        args = f"'compute', {str(root)!r}, '--store', {str(store)!r}"
        compute = f"import sys; from cellector.study.cli import main; sys.exit(main([{args}]))"
        r = _as_other_user(compute)
        assert r.returncode == 0, r.stderr
        assert f"saved to {store}" in r.stdout
        # without --store: the state goes to the user's cache folder, and the command says so
        env = {"XDG_CACHE_HOME": str(cache)}
        r = _as_other_user(compute.replace(f", '--store', {str(store)!r}", ""), env)
        assert r.returncode == 0, r.stderr
        assert "cannot be written: the cellector state is kept in " + str(cache / "cellector" / "stores") in r.stdout
        # the manager works there too: labels journal and save into the fallback store
        code = (
            "from cellector.manager import CellectorManager; "
            f"m = CellectorManager.from_folder({str(root)!r}); m.flip(2); "
            "print(m.store_dir, m.pending_journal()); m.save_all(); print(m.pending_journal())"
        )
        r = _as_other_user(code, env)
        assert r.returncode == 0, r.stderr
        where, journalled, after = r.stdout.split()
        assert where.startswith(str(cache / "cellector" / "stores")) and (journalled, after) == ("1", "0")
        assert np.load(Path(where) / "manual_selection.npy")[1, 2]
        assert _tree(root.parent) == before  # byte for byte, modes included
    finally:
        _restore(root)


def test_a_read_only_folder_with_an_earlier_state_keeps_it(real_copy, tmp_path, capsys):
    from cellector.manager import CellectorManager

    root = real_copy("suite2p-0.14-1plane")
    m = CellectorManager.from_folder(root)
    m.update_criteria("dot_product", [90.0, None])
    m.save_all()
    _give_away(root)
    before = _tree(root.parent)
    try:
        env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
        code = (
            "from cellector.manager import CellectorManager; "
            f"m = CellectorManager.from_folder({str(root)!r}); print(m.criteria['dot_product']); "
            "m.update_criteria('corr_coef', [0.2, None]); print(m.save_all())"
        )
        r = _as_other_user(code, env)
        assert r.returncode == 0, r.stderr
        crit, where = r.stdout.splitlines()
        assert crit == "(90.0, None)"  # the earlier state was carried into the user's store
        assert where.startswith(str(tmp_path / "cache"))
        assert _tree(root.parent) == before
    finally:
        _restore(root)


def _read_only_install(tmp_path: Path) -> Path:
    """Copy the cellector package, without compiled caches, into a folder nobody may write."""
    import cellector

    site = tmp_path / "site"
    shutil.copytree(Path(cellector.__file__).parent, site / "cellector", ignore=shutil.ignore_patterns("__pycache__"))
    for p in [site, *site.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)  # the owner's bits too: under unshare we are the owner
    return site


def _homeless(tmp_path: Path, site: Path, home: str) -> dict[str, str]:
    """Environment of a user whose HOME cannot be written, running the read-only install."""
    locked = tmp_path / "locked"
    locked.mkdir(exist_ok=True)
    locked.chmod(0o555)
    temp = tmp_path / "temp"
    temp.mkdir(exist_ok=True)
    temp.chmod(0o777)
    user_home = locked if home == "read-only" else locked / "missing"
    return {
        "PYTHONPATH": str(site),
        "HOME": str(user_home),
        "XDG_CACHE_HOME": str(user_home / ".cache"),
        "TMPDIR": str(temp),
    }


def _cli(*args: object) -> str:
    """Code running ``cellector ARGS`` that first prints which cellector it imported."""
    run = f"from cellector.study.cli import main; sys.exit(main({[str(a) for a in args]!r}))"
    return f"import sys, cellector; print(cellector.__file__); {run}"


@pytest.mark.parametrize("home", ["read-only", "missing"])
def test_commands_work_when_home_cannot_be_written(real_copy, tmp_path, home):
    root = real_copy("suite2p-0.14-1plane")
    for p in [root.parent, *root.parent.rglob("*")]:
        p.chmod(0o777 if p.is_dir() else 0o666)  # the session itself is the user's to write
    site = _read_only_install(tmp_path)
    env = _homeless(tmp_path, site, home)
    r = _as_other_user(_cli("compute", root), env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == str(site / "cellector" / "__init__.py")  # the read-only copy ran
    cache = Path(env["TMPDIR"]) / f"cellector-numba-{65534 if AS_ROOT else os.getuid()}"
    note = f"cellector: note: {env['XDG_CACHE_HOME']}/numba is not writable; compiled code is cached in {cache}"
    assert r.stderr == ""  # where compiled code goes is said only when asked (-v)
    assert any(cache.rglob("*.nbi"))  # numba's index files landed in the private folder
    r = _as_other_user(_cli("-v", "info", root), env, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr.splitlines() == [note]
    assert "saved features: corr_coef" in r.stdout
    assert not list(site.rglob("__pycache__"))  # nothing written into the install


def test_commands_work_when_nothing_can_be_cached(real_copy, tmp_path):
    root = real_copy("suite2p-0.14-1plane")
    assert main(["compute", str(root)]) == 0  # features saved: info only imports the compiled code
    site = _read_only_install(tmp_path)
    env = _homeless(tmp_path, site, "read-only")
    # the temporary folder is shared: a link planted where the private cache would go is not followed
    planted = Path(env["TMPDIR"]) / f"cellector-numba-{65534 if AS_ROOT else os.getuid()}"
    planted.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    r = _as_other_user(_cli("--verbose", "info", root), env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == [
        f"cellector: note: {env['XDG_CACHE_HOME']}/numba is not writable and {planted} cannot be used; "
        "compiled code is not cached, so each run compiles again"
    ]
    assert not (tmp_path / "elsewhere").exists()
    assert "saved features: corr_coef" in r.stdout


# --------------------------------------------------------------------------- many folders


def test_compute_goes_on_past_a_bad_folder(real_copy, tmp_path, capsys):
    a = real_copy("suite2p-0.14-1plane")
    bad = tmp_path / "broken" / "suite2p"
    (bad / "plane0").mkdir(parents=True)
    (bad / "plane0" / "stat.npy").write_bytes(b"not a numpy file")
    c = real_copy("suite2p-1.1-2planes")
    rc, out, err = _run(capsys, "compute", a, bad, c)
    assert rc == 2
    assert [line.split()[0] for line in out.splitlines()[:2]] == ["ok", "ok"]
    assert out.splitlines()[-1] == f"2 succeeded (0 up to date), 1 failed: {bad}"
    assert err.count("\n") == 1 and err.startswith(f"cellector: error: {bad}: ")
    rc, out, _ = _run(capsys, "compute", a, c)
    assert rc == 0 and out.splitlines()[-1] == "2 succeeded (2 up to date), 0 failed"  # a rerun resumes


def test_info_describes_a_single_channel_folder(real_copy, capsys):
    rc, out, err = _run(capsys, "info", real_copy("real-fissa-1plane"))
    assert rc == 0, err
    assert "plane0: 23 ROIs" in out and "image keys: " in out and "meanImg" in out
    assert "no 'meanImg_chan2' image (a single-channel recording?)" in out and "--reference " in out
    assert "red_s2p: no" in out


def test_export_says_when_no_cutoffs_are_set(synthetic, capsys):
    rc, out, _ = _run(capsys, "export", synthetic.root)
    assert rc == 0 and "no cutoffs set: every ROI meets the criteria, only manual labels deselect" in out


def test_store_option_on_a_single_folder(synthetic, tmp_path, capsys):
    store = tmp_path / "elsewhere"
    rc, out, _ = _run(capsys, "compute", synthetic.root, "--store", store)
    assert rc == 0 and (store / "dot_product_feature.npy").is_file()
    assert not (synthetic.root / "cellector").exists()
    rc, out, _ = _run(capsys, "info", synthetic.root, "--store", store)
    assert f"state: {store}" in out and "saved features: " in out and "dot_product" in out


# --------------------------------------------------------------------------- no writable home, a read-only folder


def _nobody_env(tmp_path: Path) -> dict[str, str]:
    """A user whose HOME does not exist and cannot be made, with no XDG_CACHE_HOME, and a temporary folder.

    HOME lies in a folder of another user (as ``/nonexistent`` lies in root's ``/``):
    under ``unshare`` root's own folders would count as ours.
    """
    temp = tmp_path / "temp"
    temp.mkdir(exist_ok=True)
    temp.chmod(0o777)
    others = tmp_path / "others"
    others.mkdir(exist_ok=True)
    if AS_ROOT:
        os.chown(others, OTHER_UID, OTHER_UID)
    others.chmod(0o755 if AS_ROOT else 0o555)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "MPLCONFIGDIR"))}
    return {**env, "HOME": str(others / "nonexistent"), "TMPDIR": str(temp)}


def _as_nobody(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", code]
    if AS_ROOT:
        cmd = ["unshare", "--user", "--map-user=65534", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def _command(module: str, *args: object) -> str:
    return f"import sys; from {module} import main; sys.exit(main({[str(a) for a in args]!r}))"


def test_a_read_only_folder_is_read_by_a_user_with_no_writable_home(real_copy, tmp_path):
    from cellector.manager import CellectorManager

    root = real_copy("suite2p-1.1-2planes")
    m = CellectorManager.from_folder(root)
    m.update_criteria("dot_product", [float(np.nanmedian(m.features["dot_product"])), None])
    m.flip(3)
    m.save_all()
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)
    env = _nobody_env(tmp_path)
    _give_away(root)
    before = _tree(root.parent)
    try:
        looks = {
            "info": _command("cellector.study.cli", "info", root),
            "status": _command("cellector.study.cli", "status", root.parent),
            "export": _command("cellector.study.cli", "export", root, "-o", out / "rois.csv"),
            "report": _command("cellector_gui.report", root, "-o", out / "report"),
        }
        for name, code in looks.items():
            r = _as_nobody(code, env, cwd=tmp_path)
            assert r.returncode == 0, (name, r.stderr)
            assert r.stderr == "", (name, r.stderr)  # no note about caches, no traceback
        r = _as_nobody(looks["info"], env, cwd=tmp_path)
        assert "saved criteria: dot_product [" in r.stdout and "manual labels: 1 active" in r.stdout
        rows = (out / "rois.csv").read_text().splitlines()
        assert len(rows) == 62 and rows[0].startswith("plane,suite2p_index")
        assert (out / "report" / "index.html").is_file()
        # commands that must write, with nowhere to write: one line naming where and the flag that fixes it
        for args in (
            ("compute", root, "--reference", "meanImg"),  # other features than the cached ones: to be saved
            ("apply", "--criteria-from", root, root),
        ):
            r = _as_nobody(_command("cellector.study.cli", *args), env, cwd=tmp_path)
            assert r.returncode == 2 and r.stderr.count("\n") == 1, (args, r.stderr)
            assert "cannot be written" in r.stderr and "--store DIR" in r.stderr and "Traceback" not in r.stderr
        assert _tree(root.parent) == before  # byte for byte, modes included
        written = {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*") if p.is_file()}
        assert written <= {"temp", "out", root.parent.name}, written
        assert not Path(env["HOME"]).exists()
    finally:
        _restore(root)
        _restore(Path(env["HOME"]).parent)
