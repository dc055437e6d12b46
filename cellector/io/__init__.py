"""Reading suite2p/suite3d folders and reading/writing the ``cellector/`` store.

Every function of the published cellector's ``cellector.io`` is importable from here
(``from cellector.io import create_from_suite2p, load_idx_selected, ...``).
"""

from cellector._shared.lazy import lazy_names
from cellector.io import published as _published

# The factories live above this package (``cellector.roi_processor.create`` builds a RoiProcessor,
# which reads and writes through ``cellector.io``); their published names resolve here
# lazily (PEP 562), so importing ``cellector.io`` never imports what sits above it.
_HOME = {
    **dict.fromkeys(
        ["create_from_mask_volume", "create_from_pixel_data", "create_from_suite2p", "create_from_suite3d"],
        "cellector.roi_processor.create",
    ),
    "identify_cellector_folders": "cellector.io.operations",
    **dict.fromkeys(_published.__all__, "cellector.io.published"),
}

__all__ = sorted(_HOME)
__getattr__, __dir__ = lazy_names(globals(), _HOME)
