"""Shared fixtures: copies of the real suite2p folders and synthetic sessions."""

import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parent / "data"


def console_script(name: str) -> str:
    """Path of an installed console script, next to this interpreter (no activated venv needed)."""
    path = Path(sys.executable).parent / name
    if not path.is_file():
        pytest.fail(f"console script {name} is not installed next to {sys.executable}")
    return str(path)


REAL_FOLDERS = ["suite2p-0.14-1plane", "suite2p-1.1-2planes", "real-fissa-1plane"]


def _data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"test data folder {DATA} is missing (it ships with the repository)")
    return DATA


@pytest.fixture
def real_copy(tmp_path):
    """Return a function copying one of tests/data's genuine suite2p folders into tmp and giving its suite2p dir."""

    def copy(name: str) -> Path:
        dst = tmp_path / name
        shutil.copytree(_data_dir() / name, dst)
        return dst / "suite2p"

    return copy


@pytest.fixture
def synthetic(tmp_path):
    """A small 2-plane synthetic suite2p folder (fresh per test)."""
    from cellector.io.datasets import make_suite2p_folder

    return make_suite2p_folder(tmp_path / "synth", n_planes=2, n_rois=60, shape=(128, 128), seed=5)


@pytest.fixture(autouse=True, scope="session")
def _private_user_cache(tmp_path_factory):
    """Keep what cellector caches per user (band-pass kernels, fallback stores) out of the real home."""
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("user-cache"))
    yield
    if old is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = old


def tree_hashes(path: Path) -> dict[str, str]:
    """SHA-1 of every file below ``path`` (to check that nothing in a recording was touched)."""
    return {
        str(p.relative_to(path)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def curated(root: Path):
    """A curated state on a genuine folder: cutoffs on two features and two manual labels, saved."""
    from cellector.manager import CellectorManager

    m = CellectorManager.from_folder(root)
    m.update_criteria("dot_product", [float(np.nanmedian(m.features["dot_product"])), None])
    m.update_criteria("corr_coef", [0.2, None])
    off = int(np.flatnonzero(m.compute_idx_selected())[0])
    on = int(np.flatnonzero(~m.compute_idx_selected())[0])
    m.update_manual_labels([off, on], [False, True])
    m.save_all()
    return m
