"""Guided review: which ROI to label next, the cutoffs the labels suggest, what a selection promises.

Pure functions of feature arrays and labels (a model fitted to them): this room reads no file.
"""

from cellector._shared.lazy import lazy_names

_HOME = {
    "Estimate": "cellector.guidance.suggest",
    "SessionGuidance": "cellector.guidance.session",
    "Suggestion": "cellector.guidance.suggest",
}

__all__ = sorted([*_HOME])
__getattr__, __dir__ = lazy_names(globals(), _HOME)
