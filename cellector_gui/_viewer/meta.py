"""Layer metadata keys of the images cellector shows (no imports: the plugin's reader reads them cheaply).

Layers are found by these, never by name: a user's own layer called "reference" is
neither adopted nor removed.
"""

__all__ = ["NOTE_KEY", "REFERENCE_KEY", "ROLE_KEY", "ROOT_KEY", "STUDY_KEY"]

ROOT_KEY = "cellector_root"  # the suite2p folder an image belongs to
ROLE_KEY = "cellector_role"  # "reference" or "functional"
REFERENCE_KEY = "cellector_reference"  # the image key shown as the reference
NOTE_KEY = "cellector_note"  # why that key (a single-channel folder), or None
STUDY_KEY = "cellector_study"  # the folder of a study the image was opened from (its sessions panel opens)
