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

malloc's thresholds: glibc keeps freed memory for reuse, raising its thresholds as a
process frees large blocks, unless ``MALLOC_TRIM_THRESHOLD_`` or ``MALLOC_MMAP_THRESHOLD_``
pin them. dask's nanny pins the trim threshold at 64 KiB in every worker, so each of a
session's 64-ROI chunks (about 15 MB of temporaries) gets fresh, page-faulted memory:
a 5 000-ROI session took 1.5-2.1 s on a worker instead of 1.0 s, 2.3 s of it in the
kernel. :func:`reusable_heap` raises the thresholds while a session runs and then puts
back the pinned values and trims the heap, as the worker wants.

All are process-wide settings, so all are held by re-entrant, thread-shared blocks:
the first block to enter changes the setting, the last to leave restores what it was.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import os
import sys
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


_SWITCH = _switch()


def _pages_off() -> bool:
    assert _SWITCH is not None  # small_pages enters only where numpy has the switch
    return _SWITCH(False)


def _pages_restore(requested: bool) -> None:
    assert _SWITCH is not None
    _SWITCH(requested)


_huge_pages = _Held(_pages_off, _pages_restore)
_collector = _Held(_gc_off, _gc_restore)


@contextlib.contextmanager
def small_pages() -> Iterator[None]:
    """Allocate without numpy's huge-page request inside the block (a no-op where numpy has no switch)."""
    if _SWITCH is None:
        yield
        return
    with _huge_pages.block():
        yield


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Keep the garbage collector off inside the block."""
    with _collector.block():
        yield


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_GLIBC_DEFAULT = 128 * 1024  # both thresholds' starting value
_REUSE = {_M_MMAP_THRESHOLD: 32 * 1024 * 1024, _M_TRIM_THRESHOLD: 256 * 1024 * 1024}
_PINNED = {_M_TRIM_THRESHOLD: "MALLOC_TRIM_THRESHOLD_", _M_MMAP_THRESHOLD: "MALLOC_MMAP_THRESHOLD_"}


@functools.lru_cache(maxsize=1)
def _glibc() -> Any:
    """Return the C library when it is glibc (``mallopt``, ``malloc_trim``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols: no library search
    except OSError:
        return None
    return libc if hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "malloc_trim") else None


def _pinned() -> dict[int, int]:
    """Return the thresholds the environment pinned (each in bytes), by mallopt parameter."""
    out = {}
    for param, name in _PINNED.items():
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            out[param] = int(value)
    return out


def _heap_off() -> Any:
    libc = _glibc()
    pinned = _pinned()
    if libc is None or not pinned:
        return None  # glibc's own dynamic thresholds already keep freed memory for reuse
    for param, value in _REUSE.items():
        libc.mallopt(param, value)
    return libc, pinned


def _heap_restore(saved: Any) -> None:
    if saved is None:
        return
    libc, pinned = saved
    for param in _REUSE:
        libc.mallopt(param, pinned.get(param, _GLIBC_DEFAULT))
    libc.malloc_trim(0)


_heap = _Held(_heap_off, _heap_restore)


@contextlib.contextmanager
def reusable_heap() -> Iterator[None]:
    """Let malloc keep freed memory for reuse inside the block, where the environment pinned its thresholds."""
    with _heap.block():
        yield
