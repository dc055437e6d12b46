"""A report per session: one figure of the red decision (PNG and PDF) and an ``index.html``.

The figure (16 x 10 in at 100 dpi: 1600 x 1000 px) shows, for a lab notebook or a
paper's supplement:

- the red reference of each plane (up to four) with every ROI's outline coloured by its
  decision: selected, rejected, and manual overrides marked in their own colours;
- each feature's histogram (all ROIs gray, selected ROIs blue) with its cutoffs;
- the counts per plane, the criteria, the manual labels, the guidance suggestion when
  there is one, the folder and cellector's version.

``index.html`` has a thumbnail and a row per session (selected count, cutoffs, last
saved); it is self-contained (no fonts, scripts or styles from the internet). Drawn with
matplotlib's Agg canvas: no display needed. It lives beside the window (the headless core
never imports matplotlib); ``cellector-report FOLDER... -o DIR`` runs it.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from cellector.study.batch import Outcome, SessionJob
from cellector_gui._viewer.palette import DECISION_COLORS

__all__ = ["figure_of", "main", "save_figure", "write_reports"]
MAX_PLANES = 4  # planes drawn; the counts cover all of them


def _outlines(manager, z: int) -> np.ndarray:
    """RGBA image of plane ``z``: each ROI's edge pixels in its decision's colour."""
    from matplotlib.colors import to_rgba

    rois = manager.roi_processor.rois
    _, ly, lx = rois.shape
    owner = np.zeros((ly, lx), np.int64)  # 1 + the ROI drawn at each pixel (later ROIs on top, as suite2p)
    on = rois.zpix == z
    index = np.repeat(np.arange(rois.n_rois), np.diff(rois.ptr))
    owner[rois.ypix[on], rois.xpix[on]] = index[on] + 1
    padded = np.pad(owner, 1)
    edge = (owner > 0) & (
        (padded[:-2, 1:-1] != owner)
        | (padded[2:, 1:-1] != owner)
        | (padded[1:-1, :-2] != owner)
        | (padded[1:-1, 2:] != owner)
    )
    label, active = manager.manual_selection
    selected = manager.compute_idx_selected()
    cls = np.where(active, np.where(label, 2, 3), np.where(selected, 0, 1))
    palette = np.array([to_rgba(c) for c in DECISION_COLORS.values()])
    rgba = np.zeros((ly, lx, 4))
    rgba[edge] = palette[cls[owner[edge] - 1]]
    return rgba


def _reference_panel(ax, manager, z: int, plane: str) -> None:
    from matplotlib.colors import LinearSegmentedColormap

    image = manager.roi_processor.reference[z]
    finite = image[np.isfinite(image)]
    lo, hi = np.percentile(finite, [0.5, 99.8]) if finite.size else (0.0, 1.0)
    ax.imshow(
        image,
        cmap=LinearSegmentedColormap.from_list("red", ["black", "#ff2020"]),
        vmin=lo,
        vmax=max(hi, lo + 1e-9),
        interpolation="nearest",
    )
    ax.imshow(_outlines(manager, z), interpolation="nearest")
    ax.set_title(plane, fontsize=10)
    ax.set_axis_off()


def _histogram_panel(ax, manager, name: str, selected: np.ndarray) -> None:
    values = manager.features[name]
    finite = np.isfinite(values)
    edges = np.histogram_bin_edges(values[finite], bins=50) if finite.any() else np.linspace(0, 1, 51)
    ax.hist(values[finite], edges, color="#9a9a9a", label="all")
    ax.hist(values[finite & selected], edges, color=DECISION_COLORS["selected"], label="selected")
    for cut in manager.criteria.get(name, (None, None)):
        if cut is not None:
            ax.axvline(cut, color="#E69F00", lw=1.5)
    nan = int((~finite).sum())
    ax.set_title(name + (f" ({nan} NaN)" if nan else ""), fontsize=9)
    ax.tick_params(labelsize=7)
    ax.set_yticks([])


def _summary(manager) -> str:
    from cellector._shared.version import __version__

    s = manager.roi_processor.session
    selected = manager.compute_idx_selected()
    lines = [f"{int(selected.sum())} of {manager.num_rois} ROIs selected (red)"]
    lines += [f"  {p}: {k} of {n}" for p, k, n in manager.selected_per_plane(selected)]
    active = {k: b for k, b in manager.criteria.items() if b != (None, None)}
    lines.append("criteria: " + ("; ".join(_bounds_text(k, b) for k, b in active.items()) if active else "none set"))
    label, on = manager.manual_selection
    lines.append(f"manual labels: {int((on & label).sum())} red, {int((on & ~label).sum())} not red")
    suggestion = manager.suggestion()
    if suggestion is not None:
        lines.append(f"guidance: {suggestion.describe()}")
    lines.append(f"reference: {s.reference_key if s is not None else 'given array'}")
    lines.append(f"folder: {Path(manager.root_dir).absolute()}")
    lines.append(f"cellector {__version__}, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    return "\n".join(lines)


def _bounds_text(name: str, bounds) -> str:
    lo, hi = bounds
    if lo is not None and hi is not None:
        return f"{lo:.4g} <= {name} <= {hi:.4g}"
    return f"{name} >= {lo:.4g}" if lo is not None else f"{name} <= {hi:.4g}"


def figure_of(manager):
    """Return the session's report figure (a matplotlib ``Figure`` on an Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    planes = manager.plane_names()[:MAX_PLANES]
    names = list(manager.features)
    fig = Figure(figsize=(16, 10), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 1, height_ratios=[1.35, 1])
    top, bottom = fig.add_subfigure(grid[0]), fig.add_subfigure(grid[1])
    axes = top.subplots(1, len(planes) + 1, gridspec_kw={"width_ratios": [1] * len(planes) + [0.9]}, squeeze=False)[0]
    for z, plane in enumerate(planes):
        _reference_panel(axes[z], manager, z, plane)
    text = axes[-1]
    text.set_axis_off()
    text.text(0, 1, _summary(manager), va="top", ha="left", fontsize=9, family="monospace", wrap=True)
    handles = [Line2D([], [], color=c, lw=3, label=k) for k, c in DECISION_COLORS.items()]
    legend = text.legend(
        handles=handles,
        loc="lower left",
        fontsize=8,
        title="ROI outlines",
        facecolor="#202020",
        labelcolor="white",
        edgecolor="#202020",
    )  # dark, as behind the outlines
    legend.get_title().set_color("white")
    cols = min(4, max(1, len(names)))
    hist_axes = bottom.subplots(max(1, -(-len(names) // cols)), cols, squeeze=False).ravel()
    selected = manager.compute_idx_selected()
    for ax, name in zip(hist_axes, names, strict=False):
        _histogram_panel(ax, manager, name, selected)
    for ax in hist_axes[len(names) :]:
        ax.set_axis_off()
    fig.suptitle(f"cellector: red ROIs of {Path(manager.root_dir).absolute()}", fontsize=12)
    return fig


def save_figure(manager, path: str | Path) -> list[Path]:
    """Write the report figure as ``path`` with suffix .png and .pdf (atomically); returns both files."""
    from cellector.io.outputs import check_output_path
    from cellector.io.store import atomic_replace_with

    base = Path(path)
    if base.suffix.lower() in (".png", ".pdf"):  # "figure.png" names both files
        base = base.with_suffix("")
    targets = [check_output_path(base.parent / f"{base.name}{s}") for s in (".png", ".pdf")]
    fig = figure_of(manager)
    for out in targets:
        atomic_replace_with(out, lambda tmp, out=out: fig.savefig(tmp, format=out.suffix[1:]))
    return targets


def names_for(roots: list) -> list[str]:
    """Return a file name per session (its last path parts), unique within the report."""
    taken: set[str] = set()
    out = []
    for root in roots:
        parts = [p for p in Path(root).absolute().parts[-3:] if p not in ("/", "")]
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", "_".join(parts)).strip("_") or "session"
        name, k = slug, 2
        while name in taken:
            name, k = f"{slug}_{k}", k + 1
        taken.add(name)
        out.append(name)
    return out


def report_files(folder: str | Path, names: list[str]) -> list[Path]:
    """Every file a report writes (``index.html``, each ``NAME.png``/``.pdf``), each checked first."""
    from cellector.io.outputs import check_output_path

    files = [Path(folder) / "index.html"] + [Path(folder) / f"{n}{s}" for n in names for s in (".png", ".pdf")]
    return [check_output_path(f) for f in files]


def last_saved(store: str | Path | None) -> str:
    """When the selection analysis code reads was last written (``idx_selected.npy``), or "not saved"."""
    f = None if store is None else Path(store) / "idx_selected.npy"
    if f is None or not f.is_file():
        return "not saved"
    return f"{datetime.fromtimestamp(f.stat().st_mtime).astimezone():%Y-%m-%d %H:%M}"


def index_row(
    name: str,
    root: str | Path,
    selected: int | None,
    rois: int | None,
    criteria: dict,
    saved: str,
    error: str | None = None,
) -> str:
    """One row of ``index.html``: thumbnail, session, selected count, cutoffs, last saved (or the error)."""
    if error is not None:
        cells = ["", html.escape(str(root)), "", html.escape(f"error: {error}"), ""]
    else:
        active = {k: b for k, b in criteria.items() if tuple(b) != (None, None)}
        cutoffs = "; ".join(_bounds_text(k, b) for k, b in active.items()) or "none"
        alt = html.escape(f"report of {root}")
        cells = [
            f'<a href="{name}.pdf"><img src="{name}.png" width="240" alt="{alt}"></a>',
            html.escape(str(root)),
            "not saved" if selected is None else f"{selected} of {rois}",
            html.escape(cutoffs),
            html.escape(saved),
        ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def write_index(folder: str | Path, rows: list[str]) -> Path:
    """Write ``index.html`` (self-contained) with these rows; returns its path."""
    from cellector.io.store import atomic_write_text

    index = Path(folder) / "index.html"
    when = f"{datetime.now().astimezone():%Y-%m-%d %H:%M}"
    atomic_write_text(index, _PAGE.format(count=len(rows), when=when, rows="\n".join(rows)))
    return index


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cellector report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #bbb; padding: 6px 10px; vertical-align: top; text-align: left; }}
th {{ background: #eee; }}
</style></head><body>
<h1>cellector report</h1>
<p>{count} session(s), written {when}. Click a thumbnail for the PDF.</p>
<table>
<tr><th>figure</th><th>session</th><th>selected</th><th>cutoffs</th><th>last saved</th></tr>
{rows}
</table></body></html>
"""


def write_reports(managers: list, output_dir: str | Path) -> Path:
    """Write each session's figure (``NAME.png``, ``NAME.pdf``) and ``index.html`` into ``output_dir``.

    Returns the index's path. Every file is checked first
    (:func:`cellector.io.outputs.check_output_path`) and written atomically.
    """
    names = names_for([m.root_dir for m in managers])
    report_files(output_dir, names)
    rows = []
    for m, name in zip(managers, names, strict=True):
        save_figure(m, Path(output_dir) / name)
        n = int(m.compute_idx_selected().sum())
        rows.append(index_row(name, m.root_dir, n, m.num_rois, m.criteria, last_saved(m.store_dir)))
    return write_index(output_dir, rows)


def report_job(job: SessionJob, progress: Any = None) -> Outcome:
    """One session's figure as a :mod:`cellector.study.batch` job (``cellector_gui.report:report_job``).

    ``job.options`` holds ``output`` (the report folder) and ``name`` (the figure's file
    name). Runs wherever the job runs: here, in a worker process, on a dask worker.
    Returns the line to print and, as data, the session's row of ``index.html``.
    """
    from cellector.manager import CellectorManager

    m = CellectorManager.from_folder(job.folder, progress=progress, **job.load)
    name = job.options["name"]
    files = save_figure(m, Path(job.options["output"]) / name)
    n = int(m.compute_idx_selected().sum())
    row = index_row(name, job.folder, n, m.num_rois, m.criteria, last_saved(m.store_dir))
    return True, f"wrote {', '.join(map(str, files))} ({n} of {m.num_rois} selected)", False, {"row": row}


def main(argv: list[str] | None = None) -> int:
    """``cellector report FOLDER... -o DIR [--workers N | --scheduler ADDRESS]``: a figure per session, index.html.

    Also installed as ``cellector-report``.

    Exit 2 when any session failed (each named on stderr, in one line; its row in the
    index says why); the others are reported.
    """
    import argparse
    import sys

    from cellector.study.batch import run_jobs
    from cellector_gui._viewer.caches import use_writable_caches

    use_writable_caches()  # before matplotlib is imported: a HOME that cannot be written is no error
    p = argparse.ArgumentParser(prog="cellector report", description="A figure per session and an index.html.")
    p.add_argument("folders", nargs="+", type=Path, metavar="FOLDER")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="folder for the report")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="sessions in parallel processes (default 1)")
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="draw the sessions on this dask.distributed scheduler (tcp://host:8786)"
    )
    args = p.parse_args(argv)
    names = names_for(args.folders)
    try:
        report_files(args.output, names)  # every output path checked before any session is read
        jobs = [
            SessionJob(_RUNNER, str(f), {}, {"output": str(args.output), "name": n})
            for f, n in zip(args.folders, names, strict=True)
        ]
        results = run_jobs(jobs, args.workers, args.scheduler)
    except ValueError as exc:
        print(f"cellector report: error: {exc}", file=sys.stderr)
        return 2
    rows = []
    for r, name in zip(results, names, strict=True):
        if r.ok:
            print(f"ok   {r.folder}: {r.message}")
            rows.append(r.data["row"])
        else:
            print(f"cellector report: error: {r.folder}: {r.message}", file=sys.stderr)
            rows.append(index_row(name, r.folder, None, None, {}, "", error=r.message))
    print(f"wrote {write_index(args.output, rows)}")
    return 2 if any(not r.ok for r in results) else 0


#: The report's job, as :mod:`cellector.study.batch` runs another package's runner.
_RUNNER = "cellector_gui.report:report_job"
