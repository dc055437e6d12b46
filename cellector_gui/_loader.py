"""Opening a session into the dock: read (in a worker thread, with progress) and attach.

:class:`SessionLoader` belongs to one :class:`~cellector_gui._widget.CellectorWidget`
and drives it through its public methods (``set_manager``, ``set_banner``,
``show_message``, its ``progress`` bar); it imports nothing of the dock, so the window's
modules import each other in one direction only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["SessionLoader"]


class SessionLoader:
    """Open suite2p sessions into ``widget``: at once (``block``) or in a worker thread."""

    def __init__(self, widget: Any) -> None:
        self.widget = widget
        #: (path, options) the session was opened from, to reopen it with other options
        self.source: tuple[Any, dict] | None = None
        self.worker: Any = None

    def open(
        self, path: Any, options: dict, recover: bool | None = None, note: str | None = None, block: bool = False
    ) -> None:
        """Open ``path`` (a folder or a :class:`cellector.io.suite2p.Session` already read) with ``options``.

        ``options`` are :meth:`CellectorManager.from_folder`'s keywords; ``recover``
        replays a crashed session's journal (None asks); ``note`` shows in the banner.
        """
        self.source = (path, options)
        if block:
            from cellector.manager import CellectorManager

            self._attach(CellectorManager.from_folder(path, **options), recover, note)
        else:
            self._start_worker(path, options, recover, note)

    def _attach(self, manager: Any, recover: bool | None, note: str | None) -> None:
        from ._text import plural

        w = self.widget
        w.set_manager(manager)
        w.set_banner(note)
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

    def _start_worker(self, path: Any, options: dict, recover: bool | None, note: str | None) -> None:
        from napari.qt.threading import thread_worker

        @thread_worker(progress=True)
        def work():
            from cellector.manager import CellectorManager

            manager = yield from CellectorManager.iter_open(path, **options)
            # guided review's first suggestion needs scikit-learn (~1 s to import): here, not on a label
            import sklearn.mixture  # noqa: F401

            return manager

        w = self.widget
        if hasattr(path, "reference"):  # a session read already: its images show while the features load
            from ._roi_layers import add_evidence

            add_evidence(w.viewer, path)
        w.progress.setVisible(True)
        w.show_message("reading the folder and computing features…")
        worker = work()
        worker.yielded.connect(_while_alive(lambda dt: self._show_progress(*dt)))

        def returned(manager: Any) -> None:
            w.progress.setVisible(False)
            self._attach(manager, recover, note)

        worker.returned.connect(_while_alive(returned))
        worker.errored.connect(_while_alive(self._report))
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


def _while_alive(slot: Callable) -> Callable:
    """Wrap a worker callback so that it does nothing once the window it would update was closed."""

    def call(*args: Any) -> None:
        try:
            slot(*args)
        except RuntimeError as exc:  # "wrapped C/C++ object ... has been deleted"
            if "deleted" not in str(exc):
                raise

    return call
