"""Reading suite2p/suite3d folders and reading/writing the ``cellector/`` store.

Every function of the published cellector's ``cellector.io`` is importable from here
(``from cellector.io import create_from_suite2p, load_idx_selected, ...``).
"""

from importlib import import_module
from typing import Any

# The published names resolve lazily (PEP 562): ``cellector.roi_processor`` imports
# ``cellector.io.store`` while ``cellector.io.base`` imports ``cellector.roi_processor``,
# so importing them all here eagerly would be circular.
_HOME = {
    **dict.fromkeys(
        ["create_from_mask_volume", "create_from_pixel_data", "create_from_suite2p", "create_from_suite3d"], "base"
    ),
    "identify_cellector_folders": "operations",
    **dict.fromkeys(
        [
            "CRITERIA_EXTENSION",
            "FEATURE_EXTENSION",
            "MissingFileError",
            "clear_cellector_files",
            "criteria_path",
            "feature_path",
            "get_save_directory",
            "identify_feature_files",
            "idx_selected_path",
            "is_criteria_saved",
            "is_feature_saved",
            "is_idx_selected_saved",
            "is_manual_selection_saved",
            "load_criteria",
            "load_feature",
            "load_idx_selected",
            "load_manual_selection",
            "load_saved_criteria",
            "load_saved_feature",
            "manual_selection_path",
            "propagate_criteria",
            "save_criteria",
            "save_feature",
            "save_idx_selected",
            "save_manual_selection",
            "update_feature_paths",
            "update_idx_selection_filenames",
            "update_manual_selection_shape",
        ],
        "published",
    ),
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))


__all__ = [
    "CRITERIA_EXTENSION",
    "FEATURE_EXTENSION",
    "MissingFileError",
    "clear_cellector_files",
    "create_from_mask_volume",
    "create_from_pixel_data",
    "create_from_suite2p",
    "create_from_suite3d",
    "criteria_path",
    "feature_path",
    "get_save_directory",
    "identify_cellector_folders",
    "identify_feature_files",
    "idx_selected_path",
    "is_criteria_saved",
    "is_feature_saved",
    "is_idx_selected_saved",
    "is_manual_selection_saved",
    "load_criteria",
    "load_feature",
    "load_idx_selected",
    "load_manual_selection",
    "load_saved_criteria",
    "load_saved_feature",
    "manual_selection_path",
    "propagate_criteria",
    "save_criteria",
    "save_feature",
    "save_idx_selected",
    "save_manual_selection",
    "update_feature_paths",
    "update_idx_selection_filenames",
    "update_manual_selection_shape",
]
