"""A session's ROIs, images and features: :class:`RoiProcessor`, the factories that read folders into one.

Also its published views. ``from cellector.roi_processor import RoiProcessor`` is the published path.
"""

from cellector._shared.lazy import lazy_names
from cellector.roi_processor.processor import RoiProcessor as RoiProcessor  # the published path

_HOME = {
    "FeatureSource": "cellector.roi_processor.source",
    "create_from_mask_volume": "cellector.roi_processor.create",
    "create_from_pixel_data": "cellector.roi_processor.create",
    "create_from_suite2p": "cellector.roi_processor.create",
    "create_from_suite3d": "cellector.roi_processor.create",
}

__all__ = sorted(["RoiProcessor", *_HOME])
__getattr__, __dir__ = lazy_names(globals(), _HOME)
