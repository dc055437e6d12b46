"""The decision in the forms labs share: NWB, suite2p-format labels, per-ROI tables, the decision score.

``from cellector.export import open_state, to_nwb, to_redcell``.
"""

from cellector._shared.lazy import lazy_names

_HOME = {
    "decision_score": "cellector.export.score",
    "open_state": "cellector.export.files",
    "read_metadata": "cellector.export.nwb_metadata",
    "to_nwb": "cellector.export.files",
    "to_redcell": "cellector.export.files",
    "write_nwb": "cellector.export.nwb",
}

__all__ = sorted([*_HOME])
__getattr__, __dir__ = lazy_names(globals(), _HOME)
