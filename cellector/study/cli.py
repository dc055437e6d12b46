"""The ``cellector`` command: headless batch work (never imports Qt).

Exit codes: 0 ok, 2 bad input (one line on stderr; with several folders, one line per
failing folder and a summary), 1 internal error.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cellector._shared.version import __version__
from cellector.study.batch import SessionJob, one_line, run_job, run_jobs, session_store

__all__ = ["DEMO_CRITERIA", "build_parser", "main"]

#: The criteria of the demo's worked example (see docs/cutoffs.md).
DEMO_CRITERIA = {"dot_product": (500.0, None), "corr_coef": (0.8, None)}
#: The functional image used when --functional is not given.
DEFAULT_FUNCTIONAL = "meanImg"


class _Progress:
    """A one-line text progress bar on a terminal's stderr (logs get the result lines only)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.finished = False

    def __call__(self, done: int, total: int) -> None:
        if self.finished or not sys.stderr.isatty():
            return
        width = 30
        k = int(width * done / max(total, 1))
        self.finished = done == total
        end = "\n" if self.finished else ""
        print(f"\r{self.label} [{'#' * k}{'.' * (width - k)}] {done}/{total}", end=end, file=sys.stderr)


def _load_kwargs(args: argparse.Namespace, folder: Path | None = None) -> dict:
    """Return the reading options of a command, with each folder's store when ``--store`` is given."""
    kwargs = {
        "reference_key": args.reference,
        "functional_key": DEFAULT_FUNCTIONAL if args.functional is None else args.functional,
        "functional_required": args.functional is not None,  # a key the user named is never dropped quietly
        "iscell_only": args.iscell_only,
    }
    store = getattr(args, "store", None)
    if store is not None:
        many = len(getattr(args, "folders", [])) > 1
        kwargs["store_dir"] = session_store(store, folder) if (many and folder is not None) else store
    return kwargs


def _add_store_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        type=Path,
        metavar="DIR",
        help="keep the cellector state in DIR instead of <suite2p>/cellector (with several folders: "
        "DIR/<name>-<hash> each); a folder you cannot write uses your cache folder by default",
    )


def _add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--reference", default="meanImg_chan2", metavar="KEY", help="reference image key (default meanImg_chan2)"
    )
    p.add_argument(
        "--functional",
        metavar="KEY",
        help=f"functional image key (default {DEFAULT_FUNCTIONAL}, skipped with a note where it is not usable)",
    )
    p.add_argument("--iscell-only", action="store_true", help="process only suite2p cells (iscell[:, 0] == 1)")
    _add_store_option(p)


def _add_batch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("folders", nargs="+", type=Path, metavar="FOLDER")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="sessions in parallel processes (default 1)")
    p.add_argument(
        "--scheduler", metavar="ADDRESS", help="run the sessions on this dask.distributed scheduler (tcp://host:8786)"
    )
    _add_input_options(p)


def _run_batch(args: argparse.Namespace, command: str, options: dict) -> int:
    """Run ``command`` on every folder; one line per folder, a summary, exit 2 if any failed."""
    jobs = [SessionJob(command, str(f), _load_kwargs(args, f), options) for f in args.folders]
    if len(jobs) == 1 and args.scheduler is None:
        # a bar for the long part of one session: computing features
        results = [run_job(jobs[0], progress=_Progress(jobs[0].folder) if command == "compute" else None)]
    else:
        results = run_jobs(jobs, args.workers, args.scheduler, progress=_Progress(f"{len(jobs)} sessions"))
    for r in results:
        for note in r.data.get("notes", []):
            print(f"cellector: note: {r.folder}: {note}", file=sys.stderr)
        if r.ok:
            print(f"{'skip' if r.skipped else 'ok  '} {r.folder}: {r.message}")
        else:
            print(f"cellector: error: {r.folder}: {r.message}", file=sys.stderr)
    failed = [r.folder for r in results if not r.ok]
    if len(results) > 1:
        skipped = sum(r.skipped for r in results)
        summary = f"{len(results) - len(failed)} succeeded ({skipped} up to date), {len(failed)} failed"
        print(summary + (f": {', '.join(failed)}" if failed else ""))
    return 2 if failed else 0


def cmd_compute(args: argparse.Namespace) -> int:
    return _run_batch(args, "compute", {})


def cmd_apply(args: argparse.Namespace) -> int:
    from cellector.io.ownership import check_own
    from cellector.io.store import load_state, resolve_store
    from cellector.io.suite2p import find_planes, read_identity

    root, _ = find_planes(args.criteria_from)
    where, _ = resolve_store(root, args.criteria_store, create=False)  # SRC is only read
    state = load_state(where)
    covered = (state["metadata"] or {}).get("covered")
    check_own(state, read_identity(root, "iscell" if covered == "iscell" else "all"), where)  # SRC's own cutoffs
    criteria = state["criteria"]
    if not criteria:
        raise ValueError(f"{where} holds no saved criteria to apply")
    return _run_batch(args, "apply", {"criteria": criteria, "origin": f"from {root}"})


def cmd_export(args: argparse.Namespace) -> int:
    if args.output is not None and len(args.folders) > 1:
        raise ValueError("-o/--output names one file: give one FOLDER (without it, each table goes to its store)")
    if (args.metadata is not None or args.into is not None) and args.format != "nwb":
        raise ValueError("--metadata and --into are options of --format nwb")
    if args.into is not None and len(args.folders) > 1:
        raise ValueError("--into names one NWB file: give one FOLDER")
    if args.format == "redcell" and args.output is not None:
        raise ValueError("--format redcell writes planeN/redcell_cellector.npy in each plane folder; it takes no -o")
    if args.metadata is not None:
        from cellector.export.nwb_metadata import read_metadata

        for notice in read_metadata(args.metadata).notices:  # bad metadata: one line before any session is read
            print(f"cellector: note: {args.metadata}: {notice}", file=sys.stderr)
    options = {"format": args.format, "output": args.output, "metadata": args.metadata, "into": args.into}
    return _run_batch(args, "export", options)


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from cellector.study.status import UNOPENABLE, find_sessions, session_status

    root = args.root
    if not Path(root).is_dir():
        raise ValueError(f"{root} is not a folder")
    sessions = find_sessions(root)
    if not sessions:
        raise ValueError(f"no suite2p session under {root} (looked for planeN folders holding stat.npy)")
    rows = [session_status(s, root) for s in sessions]
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        _print_status(rows)
    return 2 if any(r["state"] in UNOPENABLE for r in rows) else 0


def _print_status(rows: list[dict]) -> None:
    from cellector.study.status import estimate_text

    def cell(v: object) -> str:
        return "-" if v is None else str(v)

    table = [
        [
            r["path"],
            cell(r["planes"]),
            cell(r["rois"]),
            cell(r["selected"]),
            r["state"],
            (r["saved_at"] or "-").replace("T", " ")[:16],
            estimate_text(r["estimate"]) or "-",
        ]
        for r in rows
    ]
    head = ["session", "planes", "ROIs", "selected", "state", "last saved", "estimated when saved"]
    widths = [max(len(x) for x in col) for col in zip(head, *table, strict=True)]
    for line in (head, *table):
        print("  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)).rstrip())
    for r in rows:
        if r["error"]:
            print(f"error: {r['path']}: {r['error']}", file=sys.stderr)


def cmd_info(args: argparse.Namespace) -> int:
    from cellector.io.ownership import mismatch, state_lengths
    from cellector.io.store import load_state, resolve_store
    from cellector.io.suite2p import load_suite2p

    kwargs = _load_kwargs(args)
    store_dir = kwargs.pop("store_dir", None)
    s = load_suite2p(args.folder, **kwargs, fallback_reference=True)  # describe it anyway, say what to pass
    single = s.reference_note is not None
    where, note = resolve_store(s.root, store_dir, create=False)  # a command that only reads writes nothing
    st = load_state(where)
    print(f"folder: {s.root}")
    for plane, count in zip(s.planes, s.plane_counts, strict=True):
        print(f"  {plane}: {count} ROIs")
    print(f"ROIs processed: {s.rois.n_rois} ({s.covered})")
    print(f"frame: {s.rois.shape[1]} x {s.rois.shape[2]}, image keys: {', '.join(s.images)}")
    if single:
        print(
            f"reference: no '{args.reference}' image (a single-channel recording?); "
            f"choose one with --reference KEY, e.g. --reference {s.reference_key}"
        )
    else:
        print(f"reference: {s.reference_key}, functional: {s.functional_key}")
    print(f"red_s2p: {'yes' if s.red_s2p is not None else 'no (no redcell.npy)'}")
    print(f"state: {where}" + (f" ({note})" if note else ""))
    foreign = mismatch(st["metadata"], state_lengths(st), s.identity())
    if foreign:
        # nothing of another folder's state is shown as this one's: not its cutoffs, labels or selection
        print(
            f"state: not this folder's ({foreign}); cellector uses none of it: "
            f"move {where} aside or give another --store DIR"
        )
    else:
        _print_state(st)
    for line in s.messages + st["notes"]:
        print(f"note: {line}")
    if "idx_selected.npy" in st["changed_outside"] and not foreign:
        print(
            "note: on opening, cellector keeps the saved cutoffs and makes the ROIs where idx_selected.npy differs "
            "manual labels, so the selection used is the file's"
        )
    return 0


def _print_state(st: dict) -> None:
    print(f"saved features: {', '.join(st['features']) or 'none'}")
    crit = ", ".join(f"{k} [{_fmt(v[0])}, {_fmt(v[1])}]" for k, v in st["criteria"].items() if v != (None, None))
    print(f"saved criteria: {crit or 'none (no cutoffs set)'}")
    if st["manual_selection"] is not None:
        print(f"manual labels: {int(st['manual_selection'][1].sum())} active")
    if st["idx_selected"] is not None:
        print(f"selected: {int(st['idx_selected'].sum())} of {st['idx_selected'].size}")


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:g}"


def cmd_migrate(args: argparse.Namespace) -> int:
    from cellector.io.store import StoreDir, migrate, read_metadata, store_path
    from cellector.io.suite2p import find_planes, read_identity

    for folder in args.folders:
        root, _ = find_planes(folder)
        where = StoreDir(store_path(root) if args.store is None else args.store)
        covered = (read_metadata(where) or {}).get("covered")
        here = read_identity(root, "iscell" if covered == "iscell" else "all")
        done = migrate(where, remove_old=not args.keep_old, here=here)
        print(f"{root}: " + ("; ".join(done) if done else "nothing to migrate"))
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    from cellector.io.suite2p import find_planes
    from cellector.manager import CellectorManager

    m = CellectorManager.from_folder(args.folder, **_load_kwargs(args))
    session = m.roi_processor.session
    for note in session.messages if session is not None else []:  # a feature left out, and why
        print(f"cellector: note: {args.folder}: {note}", file=sys.stderr)
    m.guide_with_functional = args.with_functional
    carried = m.carry_labels_from(*(find_planes(f)[0] for f in args.carry_from))
    n = int(m.manual_selection[1].sum())
    s = m.suggestion()
    if s is None:
        print(
            f"{m.root_dir}: {n} active manual label(s); label at least one red and one non-red ROI "
            "(in the window: g steps through the most informative ROIs)"
        )
        return 0
    print(f"suggested from {n} manual labels{f' and {carried} carried over' if carried else ''}: {s.describe()}")
    for name, (lo, hi) in s.criteria.items():
        if (lo, hi) != (None, None):
            print(f"  {name}: [{_fmt(lo)}, {_fmt(hi)}]")
    mine = m.estimate_selection()
    if m.has_cutoffs and mine is not None:
        print(f"the saved cutoffs and labels ({int(m.compute_idx_selected().sum())} selected): {mine.describe()}")
    if args.apply:
        m.apply_suggested_criteria()
        folder = m.save_all()
        print(f"applied: {int(m.compute_idx_selected().sum())} of {m.num_rois} selected; saved to {folder}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from cellector.io.datasets import make_suite2p_folder
    from cellector.manager import CellectorManager

    session = make_suite2p_folder(args.out, n_planes=args.planes, n_rois=args.rois, seed=args.seed)
    m = CellectorManager.from_folder(session.root, store_dir=args.store)
    print(f"wrote a synthetic session to {session.root} ({sum(session.n_rois)} ROIs)")
    # A worked example: two cutoffs, compared to the ground truth the generator knows.
    m.update_criteria("dot_product", [DEMO_CRITERIA["dot_product"][0], None])
    m.update_criteria("corr_coef", [DEMO_CRITERIA["corr_coef"][0], None])
    sel = m.compute_idx_selected()
    truth = np.concatenate(session.truth_red)
    print(
        f"dot_product >= {DEMO_CRITERIA['dot_product'][0]:g} and corr_coef >= {DEMO_CRITERIA['corr_coef'][0]:g} "
        f"select {int(sel.sum())} ROIs: {int((sel & truth).sum())} of {int(truth.sum())} true red cells, "
        f"{int((sel & ~truth).sum())} false positives"
    )
    folder = m.save_all()
    print(f"saved to {folder}; open it with: cellector-gui {session.root}")
    return 0


#: Entry-point group through which other packages add ``cellector`` subcommands.
COMMAND_GROUP = "cellector.commands"


def plugged_commands() -> dict[str, Any]:
    """Return the subcommands other packages register in :data:`COMMAND_GROUP`, by name (not loaded yet).

    An entry point ``report = "cellector_gui.report:main"`` makes ``cellector report ARGS``
    run ``main([ARGS])``, which returns the exit code. The window's package registers
    ``report`` this way, so the core never imports it; the first line of the function's
    docstring is the command's help.
    """
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=COMMAND_GROUP)}


def _add_plugged_commands(sub: Any) -> None:
    """List the plugged subcommands in the help (:func:`main` hands them their arguments itself)."""
    for name, ep in sorted(plugged_commands().items()):
        package = ep.value.partition(":")[0].split(".")[0]
        sub.add_parser(name, help=f"added by {package}: see cellector {name} -h", add_help=False)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for docs and tests)."""
    parser = argparse.ArgumentParser(
        prog="cellector", description="Find suite2p ROIs that carry a second fluorophore (headless)."
    )
    parser.add_argument("--version", action="version", version=f"cellector {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="say more on stderr (e.g. where compiled code is cached)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("compute", help="compute (or load cached) features of suite2p folders")
    _add_batch_options(p)
    p.set_defaults(func=cmd_compute)
    p = sub.add_parser("info", help="describe a suite2p folder and what cellector saved for it")
    p.add_argument("folder", type=Path)
    _add_input_options(p)
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("apply", help="copy criteria from one session to others and save their selection")
    p.add_argument("--criteria-from", required=True, type=Path, metavar="SRC")
    p.add_argument("--criteria-store", type=Path, metavar="DIR", help="where SRC's state is, if not SRC/cellector")
    _add_batch_options(p)
    p.set_defaults(func=cmd_apply)
    p = sub.add_parser(
        "export", help="write the decision: a per-ROI table (csv, npy), NWB, or suite2p-format labels (redcell)"
    )
    p.add_argument(
        "--format",
        choices=("csv", "npy", "nwb", "redcell"),
        default="csv",
        help="csv/npy: a per-ROI table; nwb: an NWB file; redcell: planeN/redcell_cellector.npy (suite2p's layout)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="output file, with one FOLDER (default <store>/rois.<format>, <store>/cellector.export.nwb)",
    )
    p.add_argument(
        "--metadata", type=Path, metavar="META.yaml", help="NWB metadata in neuroconv's layout (--format nwb)"
    )
    p.add_argument(
        "--into", type=Path, metavar="FILE.nwb", help="add the columns to this NWB file's ROI tables, written anew"
    )
    _add_batch_options(p)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("status", help="every suite2p session under a folder: ROIs, selected, state, last saved")
    p.add_argument("root", type=Path, metavar="ROOT", help="a folder holding suite2p sessions at any depth")
    p.add_argument("--json", action="store_true", help="one JSON object per session per line")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("suggest", help="cutoffs fitted to the saved manual labels (--apply saves them)")
    p.add_argument("folder", type=Path)
    p.add_argument("--apply", action="store_true", help="set the suggested cutoffs and save the state")
    p.add_argument(
        "--with-functional",
        action="store_true",
        help="let features of the functional image (functional_dot_product) take part; by default red evidence decides",
    )
    p.add_argument(
        "--carry-from",
        nargs="+",
        type=Path,
        default=[],
        metavar="FOLDER",
        help="seed the fit with the manual labels saved in these earlier sessions of the study",
    )
    _add_input_options(p)
    p.set_defaults(func=cmd_suggest)
    p = sub.add_parser("migrate", help="move legacy file names of the published cellector to the current ones")
    p.add_argument("folders", nargs="+", type=Path)
    p.add_argument("--keep-old", action="store_true", help="copy to the new names and keep the legacy files")
    _add_store_option(p)
    p.set_defaults(func=cmd_migrate)
    _add_plugged_commands(sub)
    p = sub.add_parser("demo", help="write a synthetic session, compute features and save a worked example")
    p.add_argument("out", type=Path)
    p.add_argument("--planes", type=int, default=2)
    p.add_argument("--rois", type=int, default=300, help="ROIs per plane")
    p.add_argument("--seed", type=int, default=0)
    _add_store_option(p)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    plugged = plugged_commands()
    if argv and argv[0] in plugged:  # another package's subcommand parses its own arguments
        return int(plugged[argv[0]].load()(argv[1:]))
    args = build_parser().parse_args(argv)
    if args.verbose:
        _log_to_stderr()
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:  # bad input: Suite2pError, StoreError, unsafe pickle, I/O
        print(f"cellector: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cellector: interrupted", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"cellector: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return 1


def _log_to_stderr() -> None:
    """Show the ``cellector`` logger's INFO lines on stderr, as they are."""
    import logging

    log = logging.getLogger("cellector")
    if not any(getattr(h, "_cellector_verbose", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._cellector_verbose = True  # type: ignore[attr-defined]  # one handler however often main runs
        log.addHandler(handler)
    log.setLevel(logging.INFO)


def console() -> None:
    """Run the installed ``cellector`` command: :func:`main`, then exit with its code.

    The process ends here, so every object is frozen out of the garbage collector
    first: the interpreter's final collections would otherwise walk all that numba and
    numpy created (0.15 s of exit; 0.03 s without them). Nothing is left to
    flush (every file is written and closed); objects are still finalised.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    console()
