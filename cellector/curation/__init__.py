"""One curation's state: criteria, manual labels, the selection, undo, and where it is kept.

:class:`SelectionState` (no I/O), its undo :class:`History`, the :class:`CurationStore` that
loads and saves it (refusing a state that is not this folder's), and :class:`SavedFeatures`,
a store read without its suite2p folder.
"""

from cellector._shared.lazy import lazy_names

_HOME = {
    "Bounds": "cellector.curation.selection",
    "CurationStore": "cellector.curation.store",
    "History": "cellector.curation.history",
    "SavedFeatures": "cellector.curation.saved",
    "SelectionState": "cellector.curation.selection",
    "restore_state": "cellector.curation.store",
}

__all__ = sorted([*_HOME])
__getattr__, __dir__ = lazy_names(globals(), _HOME)
