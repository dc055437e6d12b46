"""The documentation: every command and Python snippet in it runs and prints what it
says, the screenshots come from the repo's script, and the site builds without warnings."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import console_script

REPO = Path(__file__).resolve().parents[2]
PAGES = [
    "index.md",
    "window.md",
    "features.md",
    "cutoffs.md",
    "study.md",
    "files.md",
    "scripting.md",
    "compatibility.md",
    "data-safety.md",
    "benchmarks.md",
]
_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def _blocks(kind):
    for page in PAGES:
        for lang, body in _BLOCK.findall((REPO / "docs" / page).read_text()):
            if lang == kind:
                yield page, body


def _console_commands():
    """(page, command, expected output lines) for every ``$ `` line of the console blocks."""
    out = []
    for page, body in _blocks("console"):
        for line in body.splitlines():
            if line.startswith("$ "):
                out.append([page, line[2:], []])
            elif line.strip():
                out[-1][2].append(line)
    return out


def _run_gui_command(argv, make_napari_viewer):
    from cellector_gui import build_window
    from cellector_gui._main import build_parser

    args = build_parser().parse_args(argv)
    viewer, widget = build_window(
        args.folders,
        viewer=make_napari_viewer(),
        reference_key=args.reference,
        functional_key=args.functional,
        iscell_only=args.iscell_only,
        recover=False,
    )
    assert widget.manager is not None and widget.cards
    return viewer, widget


def test_every_command_and_snippet_in_the_docs(tmp_path, monkeypatch, make_napari_viewer, qtbot):
    monkeypatch.chdir(tmp_path)
    outputs = {}
    viewer = widget = None
    commands = _console_commands()
    assert len(commands) >= 10
    for page, command, expected in commands:
        argv = shlex.split(command)
        if command not in outputs:
            if argv[0] == "cellector":
                r = subprocess.run([console_script(argv[0]), *argv[1:]], capture_output=True, text=True)
                assert r.returncode == 0, f"{page}: `{command}` failed: {r.stderr}"
                outputs[command] = r.stdout
            elif argv[0] == "cellector-gui":
                viewer, widget = _run_gui_command(argv[1:], make_napari_viewer)
                outputs[command] = ""
            else:
                pytest.fail(f"{page}: no test knows how to run `{command}`")
        for line in expected:
            assert line in outputs[command].splitlines(), f"{page}: `{command}` did not print {line!r}"
    for page, body in _blocks("python"):
        namespace = {"viewer": viewer}
        exec(compile(body, f"<{page}>", "exec"), namespace)
    # the console snippet of window.md really moved the slider
    assert widget.manager.criteria["corr_coef"] == (0.8, None)
    assert widget.cards["corr_coef"].slider.value()[0] == pytest.approx(0.8)
    widget.manager.mark_saved()
    widget.unbind()


def test_napari_route_in_the_docs(tmp_path, make_napari_viewer, qtbot):
    """``napari demo/suite2p --plugin cellector`` as the docs say it."""
    from cellector.io.datasets import make_suite2p_folder

    text = (REPO / "docs" / "index.md").read_text()
    assert "napari demo/suite2p --plugin cellector" in text
    root = make_suite2p_folder(tmp_path / "demo", n_planes=1, n_rois=20, shape=(64, 64)).root
    viewer = make_napari_viewer()
    layers = viewer.open(str(root), plugin="cellector")
    assert layers[0].name == "reference"
    from .test_plugin import _dock

    dock = _dock(viewer, qtbot)  # the curation dock opens and attaches
    assert dock.inner.manager.num_rois == 20
    dock.inner.unbind()


def test_readme_commands_are_the_ci_commands():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    lines = [line.strip() for line in ci.splitlines()]
    bash = [body.strip() for lang, body in _BLOCK.findall(readme) if lang == "bash"]
    assert bash[0].endswith("cellector-gui --demo") and "scripts/install_system_deps.sh" in bash[0]
    assert bash[1] in lines  # CI runs exactly the README's test command ...
    newest = ci.index('python3 -m venv "$work/newest"')
    assert newest < ci.index('source "$work/newest/bin/activate"') < ci.index(bash[1])  # ... in a new venv
    assert 'python3 -m pip install -c "$work/minimum.txt" -e ".[test]"' in lines  # and at the oldest versions
    index = (REPO / "docs" / "index.md").read_text()
    assert bash[0] in index


def test_screenshots_come_from_the_script(tmp_path):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from draw_rooms import draw_rooms
        from make_screenshots import make_screenshots
        from plot_guided import plot_guided
    finally:
        sys.path.pop(0)
    made = {p.name for p in make_screenshots(tmp_path)} | {p.name for p in plot_guided(tmp_path)}
    made |= {p.name for p in draw_rooms(tmp_path)}
    for p in made:
        assert (tmp_path / p).stat().st_size > 5_000
    referenced = set()
    for page in [*PAGES, "sharing.md", "architecture.md", "../README.md"]:
        referenced |= set(re.findall(r"images/([\w-]+\.png)", (REPO / "docs" / page).read_text()))
    assert referenced and referenced <= made  # every image in the docs is made by the script
    assert referenced <= {p.name for p in (REPO / "docs" / "images").iterdir()}


def test_docs_build_without_warnings(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "index.html").read_text().count("compute_features") > 0


def test_benchmark_scripts_run(tmp_path):
    """The benchmark commands of docs/benchmarks.md (smallest size) print their table rows."""
    text = (REPO / "docs" / "benchmarks.md").read_text()
    for script in ("bench_features.py", "bench_gui.py"):
        assert f"benchmarks/{script} --data" in text
        r = subprocess.run(
            [sys.executable, str(REPO / "benchmarks" / script), "1000", "--data", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert r.returncode == 0, r.stderr[-2000:]
        row = [line.split() for line in r.stdout.splitlines() if line.split()[:1] == ["1000"]]
        assert row and all(float(c.split("/")[0]) > 0 for c in row[0][1:5]), r.stdout
    assert "benchmarks/bench_sessions.py --data" in text
    r = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "bench_sessions.py"),
            "--sessions",
            "2",
            "--rois",
            "200",
            "--data",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    rows = {line[:28].strip(): line[28:].split() for line in r.stdout.splitlines()[2:]}
    assert set(rows) == {"serial (1 process)", "--workers 2", "LocalCluster (2 workers)"}, r.stdout
    assert all(float(v[1]) > 0 for v in rows.values())  # sessions per minute
