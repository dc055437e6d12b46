"""A study in one window: the sessions panel, going from session to session, and the next sessions' features.

:class:`StudyController` is composed into the dock (``dock.study``). It shows the
:class:`~cellector.study.sessions.Study`'s rows in a :class:`~._sessions.SessionsPanel` docked
on the left, opens a session into the same dock (the viewer and its layers are reused),
asks before leaving unsaved changes, offers the cutoffs of an earlier session to one
that has none and seeds guided review with earlier sessions' labels, and computes the
features of the sessions not started yet in a background worker (one thread, so the
window stays responsive), cancelled when the window closes.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

from cellector.study.sessions import Study
from cellector.study.status import UNOPENABLE
from cellector_gui._dock.loader import read_session, while_alive
from cellector_gui._widgets.sessions import SessionsPanel

__all__ = ["StudyController"]


class StudyController:
    """The study of one dock (nothing until :meth:`start`: a single session needs no panel).

    Parameters
    ----------
    dock : CellectorWidget
        The dock the sessions open into.
    """

    def __init__(self, dock: Any) -> None:
        self.dock = dock
        self.study: Study | None = None
        self.panel: SessionsPanel | None = None
        self.current = -1
        self.options: dict = {}
        self.block = False
        self.worker: Any = None
        self.progress: dict[int, float] = {}
        self.stop = threading.Event()  # set: the background work ends at its next chunk

    @property
    def sessions(self) -> list[Path]:
        """The sessions' suite2p folders, in panel order (empty without a study)."""
        return [] if self.study is None else list(self.study.sessions)

    def start(self, study: Study, options: dict, block: bool = False, recover: bool | None = None) -> None:
        """Show ``study``'s panel and open its first session not yet saved."""
        self.study, self.options, self.block = study, dict(options), block
        self.panel = SessionsPanel()
        self.panel.chosen.connect(self._on_panel_chosen)
        self.panel.previous.connect(self.previous_session)
        self.panel.next.connect(self.next_session)
        self.dock.viewer.window.add_dock_widget(self.panel, name="sessions", area="left")
        self._show_rows()
        self.open_session(study.first_to_open(), recover=recover)

    def _title(self) -> str:
        """Return the panel's header: the study and how many of its sessions are saved, as the rows say."""
        assert self.study is not None
        rows = self.study.rows
        saved = sum(r["state"] == "saved" for r in rows)
        return f"<b>study</b> {self.study.root}<br>{len(rows)} sessions · {saved} saved"

    def _show_rows(self) -> None:
        assert self.study is not None and self.panel is not None
        self.panel.show_rows(self._title(), self.study.rows, self.progress)
        if self.current >= 0:
            self.panel.set_current(self.current, self.study.rows[self.current])

    # ------------------------------------------------------------------ going from session to session

    def open_session(self, index: int, recover: bool | None = None) -> bool:
        """Open session ``index`` in the same window; False when it was not opened (Cancel, broken, out of range).

        Unsaved changes of the session shown are asked about first (Save / Discard /
        Cancel; Cancel stays). A broken session says why in its row and the status line.
        """
        study = self.study
        if study is None or not 0 <= index < len(study) or index == self.current:
            return False
        row = study.rows[index]
        if row["state"] in UNOPENABLE:
            self.dock.show_message(f"{row['path']} cannot be opened: {row['error']}")
            return False
        if not self.dock.saving.confirm_leave(f"Save changes before opening {row['path']}?"):
            return False
        options = self._options(study.sessions[index])
        try:  # read here: a single-channel session opens on another image, a broken one says why
            session = read_session(
                study.sessions[index], options["reference_key"], options["functional_key"], options["iscell_only"]
            )
        except (ValueError, OSError) as exc:
            study.rows[index] = {**row, "state": "broken", "error": " ".join(str(exc).split())}
            self._show_rows()
            self.dock.show_message(f"{row['path']} cannot be opened: {study.rows[index]['error']}")
            return False
        self._leaving()
        self.current = index
        self.progress.pop(index, None)
        options["reference_key"] = session.reference_key
        note = session.reference_note
        self.dock.open(session, options, recover=recover, note=note, block=self.block, then=self._opened)
        return True

    def _options(self, folder: Path) -> dict:
        """Return the reading options of one session (its own folder inside a shared ``--store``)."""
        from cellector.study.batch import session_store

        defaults = {
            "reference_key": "meanImg_chan2",
            "functional_key": "meanImg",
            "iscell_only": False,
            "store_dir": None,
        }
        options = {**defaults, **self.options}
        if options.get("store_dir") is not None:
            options["store_dir"] = session_store(options["store_dir"], folder)
        return options

    def next_session(self) -> bool:
        """Open the next session that can be opened; False at the end of the study."""
        return self._step(+1)

    def previous_session(self) -> bool:
        """Open the previous session that can be opened; False at the start of the study."""
        return self._step(-1)

    def _step(self, step: int) -> bool:
        if self.study is None:
            return False
        i = self.current + step
        while 0 <= i < len(self.study) and self.study.rows[i]["state"] in UNOPENABLE:
            i += step
        if not 0 <= i < len(self.study):
            self.dock.show_message("this is the last session of the study" if step > 0 else "this is the first session")
            return False
        return self.open_session(i)

    def _on_panel_chosen(self, index: int) -> None:
        if not self.open_session(index) and self.panel is not None and self.study is not None:
            self.panel.set_current(self.current, self.study.rows[self.current])  # Cancel: the row stays

    def _leaving(self) -> None:
        """Say in the row of the session being left how it was left."""
        if self.study is not None and self.current >= 0:
            self.refresh_current()

    def _opened(self, manager: Any) -> None:
        """Seed the session just shown from earlier sessions, mark its row, compute the next sessions."""
        study = self.study
        assert study is not None and self.panel is not None
        i = self.current
        earlier = study.labelled_before(i)
        carried = manager.carry_labels_from(*earlier) if earlier else 0
        offer = study.criteria_before(i) if not manager.has_cutoffs else None
        self.dock.guidance.offer(*(offer if offer is not None else (None, None)))
        self.refresh_current()  # its features are computed (and saved) now
        if carried:
            self.dock.show_message(
                f"{self.dock.status.text()} · guided review uses {carried} labels of earlier sessions"
            )
        self._compute_next()

    def refresh_current(self, read: bool = True) -> None:
        """Show the current session's row again: read from its store (``read``), and changed while unsaved."""
        if self.study is None or self.panel is None or self.current < 0:
            return
        row = self.study.refresh(self.current) if read else self.study.rows[self.current]
        if self.dock.manager is not None and self.dock.manager.dirty:
            row = {**row, "state": "changed since saved"}
        self.panel.show_row(self.current, row)
        self.panel.set_current(self.current, row)
        self.panel.title.setText(self._title())  # the header counts what the rows say (a save just landed)

    # ------------------------------------------------------------------ the next sessions' features

    def _compute_next(self) -> None:
        """Compute, in one background worker, the features of the sessions not started yet (not the one shown)."""
        study = self.study
        if study is None or (self.worker is not None and self.worker.is_running):
            return
        todo = [i for i in study.needs_features() if i != self.current]
        if not todo:
            return
        from napari.qt.threading import thread_worker

        folders = [study.sessions[i] for i in todo]
        self.stop = threading.Event()
        steps = _compute_features(folders, todo, [self._options(f) for f in folders], self.stop)
        worker = thread_worker(_run, progress=False)(steps)
        worker.yielded.connect(while_alive(self._on_worker_yielded))  # the window may close while it runs
        worker.finished.connect(while_alive(self._on_worker_finished))
        # napari quits every worker when its window closes, leaving the generator suspended with the
        # features' threads waiting: closing it ends them (after the worker let go of it)
        worker.finished.connect(steps.close)
        self.dock.destroyed.connect(self.stop.set)  # the window closed without closing the dock first: stop
        self.worker = worker
        worker.start()

    def _on_worker_finished(self) -> None:
        if self.panel is not None:
            self._show_rows()

    def _on_worker_yielded(self, step: tuple[int, float | None]) -> None:
        index, fraction = step
        study, panel = self.study, self.panel
        if study is None or panel is None:
            return
        if fraction is None:  # done (or broken): its row as the folder now says
            self.progress.pop(index, None)
            panel.show_row(index, study.refresh(index))
        else:
            self.progress[index] = fraction
            panel.show_row(index, study.rows[index], fraction)

    def close(self) -> None:
        """Stop the background worker (and wait for it) and remove the panel."""
        if self.worker is not None:
            self.stop.set()  # the features stop between chunks and their threads end
            self.worker.await_workers(msecs=30_000)
            self.worker = None
        if self.panel is not None:
            try:
                self.dock.viewer.window.remove_dock_widget(self.panel)
            except (RuntimeError, LookupError, AttributeError):
                pass  # the window is closing: napari removes its docks itself
            self.panel = None


def _run(steps):
    """Run a generator in a worker (so that its owner can close it once the worker is done)."""
    return (yield from steps)


def _compute_features(folders: list[Path], indices: list[int], options: list[dict], stop: threading.Event):
    """Compute and save each session's features, yielding ``(index, fraction)``; ``(index, None)`` when done.

    One thread for the features: the window stays responsive. A broken folder is
    skipped (its row says why). Once ``stop`` is set it returns at the next chunk, and
    closing the features' generator ends their threads (a worker's quit would only
    leave the generator suspended).
    """
    from cellector.roi_processor.create import create_from_suite2p

    for folder, index, load in zip(folders, indices, options, strict=True):
        try:  # a single-channel session falls back to another image, as when it is opened
            session = read_session(folder, load["reference_key"], load["functional_key"], load["iscell_only"])
            rp = create_from_suite2p(session, autocompute=False, store_dir=load["store_dir"])
            with contextlib.closing(rp.iter_compute(threads=1)) as steps:
                for done, total in steps:
                    if stop.is_set():
                        return
                    yield index, done / max(total, 1)
        except (ValueError, OSError):
            pass  # the row, read again, shows the one-line error
        yield index, None
