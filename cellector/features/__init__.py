"""The numerics: ROIs as flat arrays, the band-pass, the per-ROI kernels, the feature registry, their computation.

Arrays in, arrays out (``spec/features.md``): this room reads no store and no suite2p file.
"""

from cellector._shared.lazy import lazy_names

_HOME = {
    "FEATURE_PARAMETERS": "cellector.features.registry",
    "RoiSet": "cellector.features.rois",
    "SPECS": "cellector.features.registry",
    "feature_names": "cellector.features.registry",
    "iter_features": "cellector.features.compute",
    "pixel_fingerprint": "cellector.features.rois",
    "run_with_progress": "cellector.features.compute",
}

__all__ = sorted([*_HOME])
__getattr__, __dir__ = lazy_names(globals(), _HOME)
