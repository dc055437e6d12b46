"""The window on a colleague's read-only folder, for a user whose HOME cannot be written.

Run as another user (as tests/io/test_lab_folders.py does): napari and matplotlib
must find writable caches elsewhere, the window must open and show the saved state, and
nothing may be written outside the temporary folder.
"""

import os
import subprocess
import sys

import numpy as np

from cellector.manager import CellectorManager

from ..conftest import tree_hashes
from ..io.test_lab_folders import AS_ROOT, _give_away, _nobody_env, _restore

# Opens the window, then reports what it shows once Qt is idle, and quits.
_LOOK = """
import sys
from cellector_gui import _main  # imports no napari: the command places the caches first

def widget():
    from qtpy.QtWidgets import QApplication
    from cellector_gui._dock.widget import CellectorWidget

    found = [w for w in QApplication.instance().allWidgets() if isinstance(w, CellectorWidget)]
    return found[0] if found else None

def report():
    from qtpy.QtWidgets import QApplication

    m = widget().manager
    print("shown", int(m.compute_idx_selected().sum()), m.store_note)
    QApplication.instance().quit()

def wait():
    from qtpy.QtCore import QTimer

    w = widget()
    QTimer.singleShot(200, wait) if w is None or w.manager is None else QTimer.singleShot(500, report)

def build_window(*args, **kwargs):  # the window as main builds it; then run the event loop with a probe
    import napari
    from qtpy.QtCore import QTimer

    built = original(*args, **kwargs)
    run = napari.run
    napari.run = lambda: (QTimer.singleShot(0, wait), run())
    return built

original = _main.build_window
_main.build_window = build_window
sys.exit(_main.main(sys.argv[1:]))
"""


def test_the_window_opens_a_read_only_folder_without_a_writable_home(real_copy, tmp_path):
    root = real_copy("suite2p-0.14-1plane")
    m = CellectorManager.from_folder(root)
    m.update_criteria("dot_product", [float(np.nanmedian(m.features["dot_product"])), None])
    m.save_all()
    expected = int(m.compute_idx_selected().sum())
    env = _nobody_env(tmp_path)
    _give_away(root)
    before = tree_hashes(root.parent)
    try:
        cmd = [sys.executable, "-c", _LOOK, str(root)]
        if AS_ROOT:
            cmd = ["unshare", "--user", "--map-user=65534", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240)
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr and "Permission denied" not in r.stderr, r.stderr
        shown = r.stdout.strip().splitlines()[-1]
        # the saved selection is shown; the state it would save lies in the temporary folder, and the
        # note (which makes Save ask for a folder first) says the suite2p folder cannot be written
        assert shown.startswith(f"shown {expected} {root} cannot be written"), shown
        assert str(tmp_path / "temp") in shown, shown
        assert tree_hashes(root.parent) == before
        assert not os.path.exists(env["HOME"])
        written = {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*") if p.is_file()}
        assert written <= {"temp", root.parent.name}, written
    finally:
        _restore(root)
        _restore(tmp_path / "others")
