"""Opening a session into the dock: read (in a worker thread, with progress) and attach.

:class:`SessionLoader` belongs to one :class:`~cellector_gui._dock.widget.CellectorWidget`
and drives it through its public methods (``set_manager``, ``set_banner``,
``show_message``, its ``progress`` bar); it imports nothing of the dock, so the window's
modules import each other in one direction only.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from cellector.io.suite2p import Session

__all__ = ["SessionLoader", "Source", "folder_of", "read_session", "while_alive"]

#: What the dock opens: a suite2p folder, or a :class:`~cellector.io.suite2p.Session` read already.
Source: TypeAlias = "str | Path | Session"


class SessionLoader:
    """Open suite2p sessions into ``widget``: at once (``block``) or in a worker thread."""

    def __init__(self, widget: Any) -> None:
        self.widget = widget
        #: (source, options) the session was opened from, to reopen it with other options
        self.source: tuple[Source, dict] | None = None
        self.worker: Any = None

    def open(
        self,
        path: Source,
        options: dict,
        recover: bool | None = None,
        note: str | None = None,
        block: bool = False,
        then: Callable[[Any], None] | None = None,
    ) -> None:
        """Open ``path`` (a folder or a :class:`cellector.io.suite2p.Session` already read) with ``options``.

        ``options`` are :meth:`CellectorManager.from_folder`'s keywords; ``recover``
        replays a crashed session's journal (None asks); ``note`` shows in the banner;
        ``then(manager)`` runs once the session is shown.
        """
        from cellector.features.compute import run_with_progress
        from cellector.manager import CellectorManager

        self.source = (path, options)
        w = self.widget
        if _is_session(path) and w.layers is None:  # a first session read already: shown while loading
            from cellector_gui._viewer.layers import add_evidence

            add_evidence(w.viewer, path)
        # one route either way: the generator reads and computes when it is run, here or in a worker
        steps = CellectorManager.iter_open(path, **options)
        if block:
            self._attach(run_with_progress(steps), recover, note, then)
        else:
            self._start_worker(steps, recover, note, then)

    def reopen(self, **changes: Any) -> None:
        """Open the same folder again with other options (e.g. ``reference_key``), in a worker.

        Unsaved changes are asked about first; the layers are reused.
        """
        w = self.widget
        if self.source is None or not w.confirm_close():
            return
        path, options = self.source
        w.leave_session()
        w.set_banner(None)
        self.open(folder_of(path), {**options, **changes}, recover=False)

    def _attach(self, manager: Any, recover: bool | None, note: str | None, then: Callable | None = None) -> None:
        w = self.widget
        w.set_manager(manager)
        w.set_banner(note)
        self._offer_journal(manager, recover)
        if then is not None:
            then(manager)

    def _offer_journal(self, manager: Any, recover: bool | None) -> None:
        from cellector_gui._widgets.text import plural

        w = self.widget
        n = manager.pending_journal()
        if not n:
            return
        if recover is None:
            from qtpy.QtWidgets import QMessageBox

            found = f"{plural(n, 'manual edit')} from a session that was not saved {'was' if n == 1 else 'were'} found"
            question = f"{found}. Restore {'it' if n == 1 else 'them'}?"
            recover = QMessageBox.question(w, "cellector", question) == QMessageBox.StandardButton.Yes
        if recover:
            w.show_message(f"restored {plural(manager.recover_journal(), 'unsaved manual edit')}")
        else:
            manager.discard_journal()

    def _start_worker(
        self,
        steps: Generator[tuple[int, int], None, Any],
        recover: bool | None,
        note: str | None,
        then: Callable | None,
    ) -> None:
        from napari.qt.threading import thread_worker

        @thread_worker(progress=True)
        def work():
            manager = yield from steps
            # guided review's first suggestion needs scikit-learn (~1 s to import): here, not on a label
            import sklearn.mixture  # noqa: F401

            return manager

        w = self.widget
        w.progress.setVisible(True)
        w.show_message("reading the folder and computing features…")
        worker = work()
        worker.yielded.connect(while_alive(lambda dt: self._show_progress(*dt)))

        def returned(manager: Any) -> None:
            w.progress.setVisible(False)
            self._attach(manager, recover, note, then)

        worker.returned.connect(while_alive(returned))
        worker.errored.connect(while_alive(self._report))
        w.destroyed.connect(lambda *_: worker.quit())  # window closed while loading: stop
        self.worker = worker
        worker.start()

    def _show_progress(self, done: int, total: int) -> None:
        w = self.widget
        w.progress.setMaximum(total)
        w.progress.setValue(done)
        if done >= total:  # the bar is full but the window is not ready yet: say what it waits for
            w.show_message("features ready: drawing the ROIs and the histograms…")

    def _report(self, exc: Exception) -> None:
        from qtpy.QtWidgets import QMessageBox

        w = self.widget
        w.progress.setVisible(False)
        w.show_message(f"error: {exc}")
        QMessageBox.critical(w, "cellector", str(exc))


def folder_of(source: Source) -> Path:
    """Return the suite2p folder ``source`` stands for (a Session's root, or the folder itself)."""
    from cellector.io.suite2p import Session

    return source.root if isinstance(source, Session) else Path(source)


def _is_session(source: Source) -> bool:
    """Whether ``source`` is a Session read already (a folder is a path)."""
    from cellector.io.suite2p import Session

    return isinstance(source, Session)


def while_alive(slot: Callable) -> Callable:
    """Wrap a worker callback so that it does nothing once the window it would update was closed."""

    def call(*args: Any) -> None:
        try:
            slot(*args)
        except RuntimeError as exc:  # "wrapped C/C++ object ... has been deleted"
            if "deleted" not in str(exc):
                raise

    return call


def read_session(path: str | Path, reference_key: str, functional_key: str | None, iscell_only: bool):
    """Read a suite2p folder for the window, as a :class:`cellector.io.suite2p.Session`.

    A folder without ``reference_key`` (a single-channel recording) opens on the first
    fallback image instead (``session.reference_key``), and ``session.reference_note``
    says so; a malformed folder raises :class:`cellector.io.suite2p.Suite2pError` with
    one line.
    """
    from cellector.io.suite2p import load_suite2p

    return load_suite2p(path, reference_key, functional_key, iscell_only, fallback_reference=True)
