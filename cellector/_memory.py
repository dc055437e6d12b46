"""Allocation policy for the heavy phases (reading a session, computing its features).

Huge pages: numpy asks Linux for transparent huge pages (``madvise(MADV_HUGEPAGE)``) on
every array of 4 MiB or more. Where the kernel's THP ``defrag`` setting is ``madvise``
(the default of most distributions), each such first touch may compact memory
synchronously: on the development VM a fresh 200 MB array took 0.4-0.6 s to touch with
huge pages and 0.08 s without. A session's arrays are mostly written once and read a
few times, so the TLB gain of huge pages never pays that back; :func:`small_pages`
switches numpy's request off (numpy documents the switch as the
``NUMPY_MADVISE_HUGEPAGE`` variable, read at import; this is its run-time form).

Garbage collection: unpickling ``stat.npy`` creates a dict and a dozen arrays per ROI,
which sets off collections that walk every object in the process (numba's included):
:func:`paused_gc` keeps the collector off while a pickle is read (0.3 s instead of 0.4 s
for 20 000 ROIs). Nothing is leaked: reference counting still frees objects, and the
collector runs again after the block.

Both are process-wide settings, so both are held by re-entrant, thread-shared blocks:
the first block to enter changes the setting, the last to leave restores what it was.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


class _Held:
    """A process-wide setting switched off while any block holds it."""

    def __init__(self, switch_off: Callable[[], Any], restore: Callable[[Any], None]):
        self._off, self._restore = switch_off, restore
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: Any = None

    @contextlib.contextmanager
    def block(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._saved = self._off()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    self._restore(self._saved)


def _switch() -> Callable[[bool], bool] | None:
    """Return numpy's run-time huge-page switch (private in every version that has it), or None."""
    for module in ("_core", "core"):
        multiarray = getattr(getattr(np, module, None), "multiarray", None)
        switch = getattr(multiarray, "_set_madvise_hugepage", None)
        if switch is not None:
            return switch
    return None


def _gc_off() -> bool:
    enabled = gc.isenabled()
    gc.disable()
    return enabled


def _gc_restore(enabled: bool) -> None:
    if enabled:
        gc.enable()


def _pages_off() -> bool:
    switch = _switch()
    assert switch is not None  # small_pages enters only where numpy has the switch
    return switch(False)


def _pages_restore(requested: bool) -> None:
    switch = _switch()
    assert switch is not None
    switch(requested)


_huge_pages = _Held(_pages_off, _pages_restore)
_collector = _Held(_gc_off, _gc_restore)


@contextlib.contextmanager
def small_pages() -> Iterator[None]:
    """Allocate without numpy's huge-page request inside the block (a no-op where numpy has no switch)."""
    if _switch() is None:
        yield
        return
    with _huge_pages.block():
        yield


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Keep the garbage collector off inside the block."""
    with _collector.block():
        yield
