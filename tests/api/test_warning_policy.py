"""The suite's warning policy: our deprecations fail a run, the world's are only shown.

Each case runs a real pytest in a subprocess with this repository's configuration
(pyproject.toml's ``filterwarnings``) on a one-test file that raises a warning
attributed to a given module, and reads the outcome.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_TEST = """
import warnings

def test_it():
    warnings.warn_explicit({message!r}, {category}, "{module}.py", 1, module={module!r})
"""


def _outcome(tmp_path: Path, module: str, category: str = "DeprecationWarning") -> tuple[int, str]:
    test = tmp_path / "test_one.py"
    test.write_text(_TEST.format(message=f"old API in {module}", category=category, module=module))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-q",
            str(test),
        ],
        capture_output=True,
        # no plugins (napari's would import npe2 and add its own warnings to the count)
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "module", ["cellector", "cellector.features.compute", "cellector_gui._dock.widget", "tests.api.x"]
)
@pytest.mark.parametrize("category", ["DeprecationWarning", "PendingDeprecationWarning", "FutureWarning"])
def test_our_deprecations_fail_the_run(tmp_path, module, category):
    rc, out = _outcome(tmp_path, module, category)
    assert rc == 1 and "1 failed" in out, out
    assert f"old API in {module}" in out


@pytest.mark.parametrize("module", ["npe2.manifest.schema", "pydantic.fields", "vispy.gloo", "cellectorx", "napari"])
def test_third_party_deprecations_are_shown_not_failed(tmp_path, module):
    rc, out = _outcome(tmp_path, module)
    assert rc == 0 and "1 passed, 1 warning" in out, out
    assert f"old API in {module}" in out  # in the warnings summary


def test_pydantic_style_subclass_from_a_dependency_is_shown(tmp_path):
    """The case that broke a fresh install: a DeprecationWarning subclass raised inside a dependency."""
    subclass = "type('PydanticDeprecatedSince20', (DeprecationWarning,), {})"
    rc, out = _outcome(tmp_path, "npe2._package_metadata", subclass)
    assert rc == 0 and "PydanticDeprecatedSince20" in out, out


def test_other_warnings_stay_errors_everywhere(tmp_path):
    rc, out = _outcome(tmp_path, "napari.layers", "RuntimeWarning")
    assert rc == 1 and "1 failed" in out, out
