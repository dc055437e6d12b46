"""Many sessions: one job per suite2p folder, run here, in worker processes, or on a Dask cluster.

A job never raises for bad input: it returns a :class:`SessionResult` that names the
folder and says what happened, so one broken session never stops the others. Jobs are
plain data (picklable), so the same function runs in this process, in a
``ProcessPoolExecutor`` (``--workers N``) or on a ``dask.distributed`` cluster
(``--scheduler ADDRESS``), with byte-identical results.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from cellector._shared.memory import reusable_heap

__all__ = ["COMMANDS", "Outcome", "SessionJob", "SessionResult", "one_line", "run_job", "run_jobs", "session_store"]

COMMANDS = ("compute", "apply", "export")


@dataclass(frozen=True)
class SessionJob:
    """One command on one suite2p folder.

    Attributes
    ----------
    command : str
        ``"compute"``, ``"apply"`` or ``"export"``, or another package's runner as
        ``"package.module:function"`` (see :func:`run_job`).
    folder : str
        The suite2p folder.
    load : dict
        ``reference_key``, ``functional_key``, ``iscell_only``, ``store_dir``.
    options : dict
        ``criteria`` for apply; ``format`` and ``output`` for export.
    """

    command: str
    folder: str
    load: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionResult:
    """What one job did: ``ok``, a one-line ``message``, whether it was ``skipped`` (up to date), and ``data``.

    ``data`` is whatever the runner hands back besides the line (plain, picklable values:
    the report's index row, say).
    """

    folder: str
    ok: bool
    message: str
    skipped: bool = False
    data: dict[str, Any] = field(default_factory=dict)


#: What a runner returns: ok, the one-line message, skipped (up to date), data.
Outcome = tuple[bool, str, bool, dict[str, Any]]


def session_store(base: str | Path, root: str | Path) -> Path:
    """Return ``base/<name>-<hash>``: one session's store inside a ``--store`` folder shared by many."""
    path = Path(root).expanduser().resolve()
    key = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    return Path(base) / f"{path.parent.name}-{path.name}-{key}"


def one_line(exc: BaseException) -> str:
    """Return the message of ``exc`` on one line (OS errors as 'file: reason')."""
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        text = str(exc)
    return " ".join(text.split())


def run_job(job: SessionJob, progress: Callable[[int, int], None] | None = None) -> SessionResult:
    """Run one job; bad input (unreadable folder, corrupt files, ...) becomes a failed result.

    ``job.command`` is one of :data:`COMMANDS`, or ``"package.module:function"``: a runner
    of another package (the window's report, say), imported where the job runs, called as
    ``function(job, progress)`` and returning an :data:`Outcome`. The core never imports
    that package itself.
    """
    try:
        ok, message, skipped, data = _runner(job.command)(job, progress)
    except (ValueError, OSError) as exc:
        return SessionResult(job.folder, False, one_line(exc))
    return SessionResult(job.folder, ok, message, skipped, data)


_PLUGGED = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def _runner(command: str) -> Callable[[SessionJob, Any], Outcome]:
    """Return the runner of a command: ours by name, or another package's by ``module:function``."""
    if command in _RUNNERS:
        return _RUNNERS[command]
    if _PLUGGED.match(command) is None:
        raise ValueError(f"unknown command {command!r}: one of {', '.join(COMMANDS)}, or module:function")
    module, _, name = command.partition(":")
    return getattr(importlib.import_module(module), name)


def _compute(job: SessionJob, progress: Callable[[int, int], None] | None) -> Outcome:
    from cellector.features.compute import run_with_progress
    from cellector.roi_processor.create import create_from_suite2p

    rp = create_from_suite2p(job.folder, autocompute=False, **job.load)
    note = f" ({rp.store_note})" if rp.store_note else ""
    notes = _notes(rp.session)
    if not rp.load_saved_features():
        return True, f"{rp.num_rois} ROIs, features up to date in {rp.store}{note}", True, notes
    run_with_progress(rp.iter_compute(), progress)
    return True, f"{rp.num_rois} ROIs, features: {', '.join(rp.features)}; saved to {rp.store}{note}", False, notes


def _notes(session: Any) -> dict[str, Any]:
    """Return the session's notes for the user (a feature not computed, and why), as a result's ``data``."""
    messages = list(getattr(session, "messages", None) or [])
    return {"notes": messages} if messages else {}


def _apply(job: SessionJob, progress: Callable[[int, int], None] | None) -> Outcome:
    from cellector.manager import CellectorManager
    from cellector.study.propagate import apply_criteria

    m = CellectorManager.from_folder(job.folder, progress=progress, **job.load)
    origin = job.options.get("origin", "from another session")
    return True, apply_criteria(m, job.options["criteria"], origin), False, _notes(m.roi_processor.session)


def _export(job: SessionJob, progress: Callable[[int, int], None] | None) -> Outcome:
    from cellector.io.outputs import check_output_path
    from cellector.io.store import atomic_save_npy, atomic_write_text
    from cellector.manager import CellectorManager

    given = job.options.get("output")
    out_given = check_output_path(given) if given else None  # before reading: a refused path costs nothing
    m = CellectorManager.from_folder(job.folder, progress=progress, **job.load)
    s = m.roi_processor.session
    assert s is not None and m.store_dir is not None  # from_folder always reads a suite2p session
    table: dict[str, np.ndarray] = {"plane": np.array(s.planes)[s.roi_plane], "suite2p_index": s.suite2p_index}
    table.update(m.features)
    ms = m.manual_selection
    table.update({"manual_label": ms[0], "manual_active": ms[1], "selected": m.compute_idx_selected()})
    fmt = job.options.get("format", "csv")
    notes = _notes(s)
    if fmt in ("nwb", "redcell"):
        return True, _export_shared(m, fmt, out_given, job.options), False, notes
    out = out_given if out_given is not None else m.store_dir / f"rois.{fmt}"
    if fmt == "csv":
        atomic_write_text(out, _csv(table))
    else:
        rec = np.empty(m.num_rois, dtype=[(k, np.asarray(v).dtype) for k, v in table.items()])
        for k, v in table.items():
            rec[k] = v
        atomic_save_npy(out, rec)
    active = [k for k, b in m.criteria.items() if b != (None, None)]
    how = (
        f"cutoffs on {', '.join(active)}"
        if active
        else "no cutoffs set: every ROI meets the criteria, only manual labels deselect"
    )
    return True, f"wrote {out} ({m.num_rois} ROIs, {int(table['selected'].sum())} selected; {how})", False, notes


def _export_shared(m, fmt: str, out: Path | None, options: dict) -> str:
    """NWB or suite2p-format labels (:mod:`cellector.export.files`); the result line."""
    from cellector.export.files import to_redcell
    from cellector.export.nwb import missing_for_dandi, write_nwb
    from cellector.export.nwb_metadata import Metadata, read_metadata

    n = int(m.compute_idx_selected().sum())
    if fmt == "redcell":
        files = to_redcell(m)
        return f"wrote {', '.join(map(str, files))} ({m.num_rois} ROIs, {n} red; column 0 decision, 1 score)"
    meta = read_metadata(options["metadata"]) if options.get("metadata") else Metadata()
    into = options.get("into")
    written = write_nwb(m, out if out is not None else m.store_dir / "cellector.export.nwb", meta, into)
    line = f"wrote {written} ({m.num_rois} ROIs, {n} red{f'; columns added to a copy of {into}' if into else ''})"
    missing = missing_for_dandi(meta) if into is None else []
    return line + (f"; DANDI will ask for metadata: {', '.join(missing)} (--metadata META.yaml)" if missing else "")


def _csv(table: dict[str, np.ndarray]) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(table))
    for row in zip(*table.values(), strict=True):
        w.writerow([str(int(v)) if isinstance(v, (bool, np.bool_)) else str(v) for v in row])
    return buf.getvalue()


_RUNNERS: dict[str, Callable[[SessionJob, Any], Outcome]] = {
    "compute": _compute,
    "apply": _apply,
    "export": _export,
}


def _limit_threads() -> None:
    """Worker processes share the cores: one thread each for the features (chunks and FFTs)."""
    os.environ.setdefault("CELLECTOR_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _local(jobs: Sequence[SessionJob], workers: int) -> Iterator[tuple[int, SessionResult]]:
    ctx = get_context("forkserver" if "forkserver" in _methods() else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_limit_threads) as pool:
        futures = {pool.submit(run_job, job): i for i, job in enumerate(jobs)}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()


def _methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()


def _dask(jobs: Sequence[SessionJob], scheduler: str) -> Iterator[tuple[int, SessionResult]]:
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise ValueError('--scheduler needs dask.distributed: pip install "cellector[cluster]"') from None
    with Client(scheduler) as client:
        futures = client.map(_dask_job, list(jobs), pure=False)
        index = {fut.key: i for i, fut in enumerate(futures)}
        for fut in dask_completed(futures):
            yield index[fut.key], fut.result()


def _dask_job(job: SessionJob) -> SessionResult:
    """:func:`run_job` on a dask worker, with the worker's threads for the features.

    A worker started with ``--nthreads 1`` (or ``threads_per_worker=1``) shares its
    machine with others; the features then use one thread unless the worker's
    environment sets ``CELLECTOR_THREADS``.
    """
    from dask.distributed import get_worker

    os.environ.setdefault("CELLECTOR_THREADS", str(get_worker().state.nthreads))
    with reusable_heap():  # the nanny pins malloc's trim threshold: see _memory
        return run_job(job)


def run_jobs(
    jobs: Iterable[SessionJob],
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SessionResult]:
    """Run every job and return the results in the jobs' order.

    Parameters
    ----------
    jobs : iterable of SessionJob
        One per suite2p folder.
    workers : int
        Worker processes on this machine (1: run here, one after another).
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler (``tcp://host:8786``); the
        jobs then run on its workers.
    progress : callable, optional
        ``progress(done, total)`` over sessions.
    """
    todo = list(jobs)
    if workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    results: Iterable[tuple[int, SessionResult]]
    if scheduler is not None:
        results = _dask(todo, scheduler)
    elif workers > 1 and len(todo) > 1:
        results = _local(todo, min(workers, len(todo)))
    else:
        results = ((i, run_job(job)) for i, job in enumerate(todo))
    out: list[SessionResult | None] = [None] * len(todo)
    for done, (i, result) in enumerate(results, 1):
        out[i] = result
        if progress is not None:
            progress(done, len(todo))
    return [r for r in out if r is not None]
