"""Allocation policy for the heavy phases (reading a session, computing its features).

numpy asks Linux for transparent huge pages (``madvise(MADV_HUGEPAGE)``) on every array
of 4 MiB or more. Where the kernel's THP ``defrag`` setting is ``madvise`` (the default
of most distributions), each such first touch may compact memory synchronously: on the
development VM a fresh 200 MB array took 0.4-0.6 s to touch with huge pages and 0.08 s
without. A session's arrays are mostly written once and read a few times, so the TLB
gain of huge pages never pays that back; the heavy phases switch numpy's request off
and restore it afterwards (numpy documents the switch as the ``NUMPY_MADVISE_HUGEPAGE``
variable, read at import; this is its run-time form).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import numpy as np

_lock = threading.Lock()
_depth = 0
_saved = True


def _switch() -> Callable[[bool], bool] | None:
    """Numpy's run-time switch (private in every version that has it), or None."""
    for module in ("_core", "core"):
        multiarray = getattr(getattr(np, module, None), "multiarray", None)
        switch = getattr(multiarray, "_set_madvise_hugepage", None)
        if switch is not None:
            return switch
    return None


@contextlib.contextmanager
def small_pages() -> Iterator[None]:
    """Allocate without numpy's huge-page request inside the block.

    Re-entrant and shared by threads: the first block to enter switches the request
    off, the last to leave restores what it was.
    """
    global _depth, _saved
    switch = _switch()
    if switch is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _saved = switch(False)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                switch(_saved)
