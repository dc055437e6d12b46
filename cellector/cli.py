"""The ``cellector`` command: headless batch work (never imports Qt).

Exit codes: 0 ok, 2 bad input (one line on stderr), 1 internal error.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import __version__

__all__ = ["DEMO_CRITERIA", "main"]

#: The criteria of the demo's worked example (see docs/cutoffs.md).
DEMO_CRITERIA = {"dot_product": (500.0, None), "corr_coef": (0.8, None)}


class _Progress:
    """A one-line text progress bar on stderr."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, done: int, total: int) -> None:
        if sys.stderr.isatty() or done == total:
            width = 30
            k = int(width * done / max(total, 1))
            end = "\n" if done == total else ""
            print(f"\r{self.label} [{'#' * k}{'.' * (width - k)}] {done}/{total}", end=end, file=sys.stderr)


def _load_kwargs(args: argparse.Namespace) -> dict:
    return {"reference_key": args.reference, "functional_key": args.functional, "iscell_only": args.iscell_only}


def _add_input_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--reference", default="meanImg_chan2", metavar="KEY", help="reference image key (default meanImg_chan2)"
    )
    p.add_argument("--functional", default="meanImg", metavar="KEY", help="functional image key (default meanImg)")
    p.add_argument("--iscell-only", action="store_true", help="process only suite2p cells (iscell[:, 0] == 1)")


def cmd_compute(args: argparse.Namespace) -> int:
    from .io.base import create_from_suite2p

    for folder in args.folders:
        rp = create_from_suite2p(folder, autocompute=False, **_load_kwargs(args))
        rp.compute_features(progress=_Progress(str(folder)))
        print(f"{folder}: {rp.num_rois} ROIs, features: {', '.join(rp.features)}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .io.store import load_state
    from .io.suite2p import load_suite2p

    s = load_suite2p(args.folder, **_load_kwargs(args))
    st = load_state(s.root)
    print(f"folder: {s.root}")
    for plane, count in zip(s.planes, s.plane_counts, strict=False):
        print(f"  {plane}: {count} ROIs")
    print(f"ROIs processed: {s.rois.n_rois} ({s.covered})")
    print(f"frame: {s.rois.shape[1]} x {s.rois.shape[2]}, image keys: {', '.join(s.images)}")
    print(
        f"reference: {s.reference_key}, functional: {s.functional_key}, "
        f"red_s2p: {'yes' if s.red_s2p is not None else 'no'}"
    )
    print(f"saved features: {', '.join(st['features']) or 'none'}")
    crit = ", ".join(f"{k} [{_fmt(v[0])}, {_fmt(v[1])}]" for k, v in st["criteria"].items()) or "none"
    print(f"saved criteria: {crit}")
    if st["manual_selection"] is not None:
        print(f"manual labels: {int(st['manual_selection'][1].sum())} active")
    if st["idx_selected"] is not None:
        print(f"selected: {int(st['idx_selected'].sum())} of {st['idx_selected'].size}")
    for line in s.messages + st["notes"]:
        print(f"note: {line}")
    return 0


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:g}"


def cmd_apply(args: argparse.Namespace) -> int:
    from .io.operations import propagate_criteria

    results = propagate_criteria(args.criteria_from, *args.folders, **_load_kwargs(args))
    for r in results:
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.target}: {r.message}")
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed} succeeded, {failed} failed")
    return 2 if failed else 0


def cmd_export(args: argparse.Namespace) -> int:
    from .io.store import atomic_save_npy, atomic_write_text
    from .manager import CellectorManager

    m = CellectorManager.from_folder(args.folder, **_load_kwargs(args))
    s = m.roi_processor.session
    assert s is not None and m.root_dir is not None  # from_folder always reads a suite2p session
    table: dict[str, np.ndarray] = {"plane": np.array(s.planes)[s.roi_plane], "suite2p_index": s.suite2p_index}
    table.update(m.features)
    ms = m.manual_selection
    table.update({"manual_label": ms[0], "manual_active": ms[1], "selected": m.compute_idx_selected()})
    out = Path(args.output) if args.output else m.root_dir / "cellector" / f"rois.{args.format}"
    if args.format == "csv":
        buf = io.StringIO(newline="")
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(list(table))
        for row in zip(*table.values(), strict=False):
            w.writerow([_cell(v) for v in row])
        atomic_write_text(out, buf.getvalue())
    else:
        columns = {k: np.asarray(v) for k, v in table.items()}
        rec = np.empty(m.num_rois, dtype=[(k, v.dtype) for k, v in columns.items()])
        for k, v in columns.items():
            rec[k] = v
        atomic_save_npy(out, rec)
    print(f"wrote {out} ({m.num_rois} ROIs)")
    return 0


def _cell(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    return str(v)


def cmd_migrate(args: argparse.Namespace) -> int:
    from .io.store import migrate
    from .io.suite2p import find_planes

    for folder in args.folders:
        root, _ = find_planes(folder)
        done = migrate(root, remove_old=not args.keep_old)
        print(f"{root}: " + ("; ".join(done) if done else "nothing to migrate"))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .datasets import make_suite2p_folder
    from .manager import CellectorManager

    session = make_suite2p_folder(args.out, n_planes=args.planes, n_rois=args.rois, seed=args.seed)
    m = CellectorManager.from_folder(session.root)
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


def _one_line(exc: BaseException) -> str:
    """Return the message of ``exc`` on one line (OS errors as 'file: reason')."""
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    else:
        text = str(exc)
    return " ".join(text.split())


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for docs and tests)."""
    parser = argparse.ArgumentParser(
        prog="cellector", description="Find suite2p ROIs that carry a second fluorophore (headless)."
    )
    parser.add_argument("--version", action="version", version=f"cellector {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("compute", help="compute (or load cached) features of suite2p folders")
    p.add_argument("folders", nargs="+", type=Path)
    _add_input_options(p)
    p.set_defaults(func=cmd_compute)
    p = sub.add_parser("info", help="describe a suite2p folder and what cellector saved in it")
    p.add_argument("folder", type=Path)
    _add_input_options(p)
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("apply", help="copy criteria from one session to others and save their selection")
    p.add_argument("--criteria-from", required=True, type=Path, metavar="SRC")
    p.add_argument("folders", nargs="+", type=Path)
    _add_input_options(p)
    p.set_defaults(func=cmd_apply)
    p = sub.add_parser("export", help="write a per-ROI table (plane, index, features, labels, selected)")
    p.add_argument("folder", type=Path)
    p.add_argument("--format", choices=("csv", "npy"), default="csv")
    p.add_argument("-o", "--output", type=Path, help="output file (default <root>/cellector/rois.<format>)")
    _add_input_options(p)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("migrate", help="rename legacy file names of the published cellector")
    p.add_argument("folders", nargs="+", type=Path)
    p.add_argument("--keep-old", action="store_true", help="copy to the new names and keep the legacy files")
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("demo", help="write a synthetic session, compute features and save a worked example")
    p.add_argument("out", type=Path)
    p.add_argument("--planes", type=int, default=2)
    p.add_argument("--rois", type=int, default=300, help="ROIs per plane")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:  # bad input: Suite2pError, StoreError, unsafe pickle, I/O
        print(f"cellector: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cellector: interrupted", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"cellector: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
