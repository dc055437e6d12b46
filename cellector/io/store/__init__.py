"""The ``cellector/`` store: the only room that writes it (``spec/store.md``).

:mod:`~cellector.io.store.files` names its files and reads one at a time; :mod:`~cellector.io.store.state`
saves and loads a whole state (locks, checksums, snapshots); :mod:`~cellector.io.store.legacy` renames
legacy files and clears a state. The face also names the helpers every writer of the store uses
(``resolve_store``, ``atomic_save_npy``), resolved on first use: the files module is imported by
modules that the state module imports in turn.
"""

from cellector._shared.lazy import lazy_names

_HOME = {
    "FORMAT_VERSION": "cellector.io.store.state",
    "METADATA": "cellector.io.store.files",
    "SAVING_FLAG": "cellector.io.store.files",
    "STORE_DIR": "cellector.io.store.files",
    "StoreDir": "cellector.io.store.files",
    "StoreError": "cellector.io.store.files",
    "append_line": "cellector.io.store.state",
    "as_boolean": "cellector.io.store.files",
    "atomic_replace_with": "cellector._shared.atomic",
    "atomic_save_npy": "cellector._shared.atomic",
    "atomic_write_text": "cellector._shared.atomic",
    "check_feature_name": "cellector.io.store.files",
    "check_file_component": "cellector.io.store.files",
    "clear_state": "cellector.io.store.legacy",
    "decode_criterion": "cellector.io.store.files",
    "encode_criterion": "cellector.io.store.files",
    "fallback_store": "cellector.io.location",
    "legacy_files": "cellector.io.store.files",
    "load_criteria": "cellector.io.store.files",
    "load_features": "cellector.io.store.files",
    "load_manual_selection": "cellector.io.store.files",
    "load_npy": "cellector.io.store.files",
    "load_selected": "cellector.io.store.files",
    "load_state": "cellector.io.store.state",
    "locked": "cellector.io.store.state",
    "migrate": "cellector.io.store.legacy",
    "read_metadata": "cellector.io.store.files",
    "resolve_store": "cellector.io.location",
    "save_state": "cellector.io.store.state",
    "sha1": "cellector.io.store.files",
    "snapshot": "cellector.io.store.state",
    "store_path": "cellector.io.store.files",
}

__all__ = sorted([*_HOME])
__getattr__, __dir__ = lazy_names(globals(), _HOME)
