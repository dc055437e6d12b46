"""``cellector-gui FOLDER... | --demo``: the curation window, on one session or on a whole study."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from cellector import __version__
from cellector_gui._dock.loader import Source, folder_of, read_session

__all__ = ["ICON", "build_window", "main"]

ICON = Path(__file__).parent / "icons" / "cellector.png"


def build_window(
    path: Source | Sequence[str | Path],
    show: bool = False,
    reference_key: str = "meanImg_chan2",
    functional_key: str | None = "meanImg",
    iscell_only: bool = False,
    viewer: Any = None,
    block: bool = True,
    recover: bool | None = None,
    store_dir: str | Path | None = None,
    note: str | None = None,
):
    """Open the curation window on a suite2p folder, or on every session of a study.

    Parameters
    ----------
    path : str, Path, Session or sequence of them
        A suite2p folder, or a :class:`cellector.io.suite2p.Session` already read
        (``cellector-gui`` reads it once to check it, then hands it over); or a folder
        holding suite2p sessions at any depth, or several folders: the window then opens
        with a sessions panel on the first session not yet saved.
    show : bool
        Show the window (tests pass False).
    reference_key, functional_key, iscell_only
        As for :func:`cellector.roi_processor.create.create_from_suite2p`.
    viewer : napari.Viewer, optional
        Draw into this viewer instead of a new one.
    block : bool
        Load/compute features before returning (True) or in a worker thread
        with a progress bar (False, what the command does).
    recover : bool or None
        Replay journalled edits of a crashed session: None asks the user.
    store_dir : str or Path, optional
        Keep the state there instead of ``<folder>/cellector`` (``--store DIR``; in a
        study each session gets its own folder inside it).
    note : str, optional
        Shown above the cards until the window is closed (e.g. why another reference
        image than asked for is shown).

    Returns
    -------
    viewer, widget
        The napari viewer and the :class:`CellectorWidget` docked in it.
    """
    import napari

    from cellector_gui._dock.loader import read_session
    from cellector_gui._dock.widget import CellectorWidget

    options = {
        "reference_key": reference_key,
        "functional_key": functional_key,
        "iscell_only": iscell_only,
        "store_dir": store_dir,
    }
    study = _study_of(path)
    if study is not None and len(study) == 1:  # one session: read it once, as the command does
        session = read_session(study.sessions[0], reference_key, functional_key, iscell_only)
        options["reference_key"], note = session.reference_key, note or session.reference_note
        path = session
        study = None
    title = study.root if study is not None else folder_of(cast(Source, path))  # one session: a Session now
    if viewer is None:
        viewer = napari.Viewer(title=f"cellector — {title}", show=show)
    widget = CellectorWidget(viewer)
    viewer.window.add_dock_widget(widget, name="cellector", area="right")
    _set_icon(widget)
    if show:
        from cellector_gui._viewer.qt_access import fit_to_screen

        fit_to_screen(widget)
    if study is not None:
        widget.study.start(study, options, block=block, recover=recover)
    else:
        widget.open(path, options, recover=recover, note=note, block=block)
    return viewer, widget


def _study_of(path: Any) -> Any:
    """Return the :class:`~cellector.study.sessions.Study` of the sessions ``path`` names (None: a Session read)."""
    from cellector.io.suite2p import Session
    from cellector.study.sessions import Study

    if isinstance(path, Session):
        return None
    return Study([path] if isinstance(path, (str, Path)) else list(path))


def _set_icon(widget) -> None:
    from qtpy.QtGui import QIcon

    from cellector_gui._viewer.qt_access import main_window

    top = main_window(widget)
    if top is not None and ICON.is_file():
        top.setWindowIcon(QIcon(str(ICON)))


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``cellector-gui`` (exposed for docs and tests)."""
    p = argparse.ArgumentParser(
        prog="cellector-gui", description="Curate red (channel-2) ROIs of a suite2p folder in napari."
    )
    p.add_argument(
        "folders",
        nargs="*",
        type=Path,
        metavar="FOLDER",
        help="a suite2p folder (holding plane0, plane1, ...), or a study: a folder holding suite2p sessions at any "
        "depth, or several folders (one window, a sessions panel)",
    )
    p.add_argument("--demo", action="store_true", help="open a synthetic demo session (written to a temporary folder)")
    p.add_argument("--reference", default="meanImg_chan2", metavar="KEY", help="reference image key")
    p.add_argument("--functional", default="meanImg", metavar="KEY", help="functional image key")
    p.add_argument("--iscell-only", action="store_true", help="only suite2p cells (iscell[:, 0] == 1)")
    p.add_argument(
        "--store", type=Path, metavar="DIR", help="keep the cellector state in DIR instead of <folder>/cellector"
    )
    p.add_argument("--version", action="version", version=f"cellector {__version__}")
    return p


def _no_display() -> bool:
    """Return True on Linux when no X11/Wayland display is set and no Qt platform was chosen.

    Qt would otherwise abort with a core dump and a page of plugin diagnostics.
    """
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _check_own_state(session: Any, store_dir: Path | None) -> None:
    """Refuse, before any window opens, a saved state that is not this folder's (one line, exit 2).

    Only the metadata and the files' headers are read: the window loads the state itself.
    """
    from cellector.io.ownership import ForeignStateError, file_lengths, mismatch
    from cellector.io.store import read_metadata, resolve_store

    where, _ = resolve_store(session.root, store_dir, create=False)
    if not where.is_dir():
        return
    reason = mismatch(read_metadata(where), file_lengths(where), session.identity())
    if reason is not None:
        raise ForeignStateError(where, reason)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the window; returns the exit code (2 for bad input, with a one-line message)."""
    from cellector_gui._viewer.caches import use_writable_caches

    use_writable_caches()  # before napari is imported: a HOME that cannot be written is no error
    args = build_parser().parse_args(argv)
    if args.demo == bool(args.folders):
        print("cellector-gui: error: give a suite2p FOLDER (or several, or a study folder) or --demo", file=sys.stderr)
        return 2
    if _no_display():
        print(
            "cellector-gui: error: no display to open a window on (DISPLAY is not set); run "
            "`cellector demo OUT` for the headless job, or `xvfb-run -a cellector-gui ...`",
            file=sys.stderr,
        )
        return 2
    note = None
    reference = args.reference
    if args.demo:
        from cellector.io.datasets import make_suite2p_folder

        folder: Any = make_suite2p_folder(Path(tempfile.mkdtemp(prefix="cellector-demo-")), n_planes=2, n_rois=300).root
        print(f"demo session written to {folder}")
    else:
        # Check the folders before opening a window, so bad input is one line on stderr.
        try:
            study = _study_of(args.folders)
            if len(study) == 1:  # one session: read it once; a single-channel one opens on another image
                folder = read_session(study.sessions[0], args.reference, args.functional, args.iscell_only)
                reference, note = folder.reference_key, folder.reference_note
                _check_own_state(folder, args.store)
            else:
                folder = args.folders
        except (ValueError, OSError) as exc:
            print(f"cellector-gui: error: {exc}", file=sys.stderr)
            return 2
    import napari

    build_window(
        folder,
        show=True,
        reference_key=reference,
        functional_key=args.functional,
        iscell_only=args.iscell_only,
        block=False,
        store_dir=args.store,
        note=note,
    )
    napari.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
