"""NWB export of the red decision, with pynwb (``pip install "cellector[nwb]"``).

:func:`write_nwb` writes a new file, or adds cellector's columns to the
``PlaneSegmentation`` tables of an existing file (neuroconv's suite2p interface, or
suite2p's own ``save_nwb``) and writes the result to a new file; the input is never
modified. Per plane, the table holds the ROIs in suite2p order:

- a new file: the pixel masks (``x, y, lam``) and, in an ``Images`` container of the
  ``ophys`` module, the red reference and functional mean image of each plane;
- both: ``is_red`` (the decision, equal to ``cellector/idx_selected.npy``),
  ``manual_label``/``manual_label_active``, ``decision_score``
  (:func:`cellector.export.score.decision_score`), ``red_probability_suite2p`` (when suite2p
  computed it) and every feature, each column described; the criteria and cellector's
  version are in the table's description.

Metadata comes from a YAML file in any of neuroconv's layouts, or what its
``get_metadata()`` returns (:mod:`cellector.export.nwb_metadata`); without it the file is still
written, and :data:`DANDI_FIELDS` lists what DANDI will ask for.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from cellector.export.nwb_metadata import Metadata, NWBError, PlaneMetadata, metadata_of, read_metadata, when

__all__ = ["DANDI_FIELDS", "missing_for_dandi", "write_nwb"]

#: Metadata DANDI asks for; named in one line when the export runs without them.
DANDI_FIELDS = (
    "NWBFile.session_start_time",
    "NWBFile.experimenter",
    "NWBFile.institution",
    "Subject.subject_id",
    "Subject.species",
    "Subject.sex",
    "Subject.age",
)


def missing_for_dandi(meta: Metadata) -> list[str]:
    """Return the :data:`DANDI_FIELDS` that ``meta`` does not give."""
    out = []
    for field in DANDI_FIELDS:
        section, key = field.split(".")
        given = (meta.nwbfile if section == "NWBFile" else meta.subject).get(key)
        if given in (None, "", []):
            out.append(field)
    return out


def _start_time(meta: Metadata) -> datetime:
    return when(meta.nwbfile.get("session_start_time"), "NWBFile.session_start_time", now=True)


#: NWBFile fields that hold lists (a single string is taken as a list of one).
_LISTS = ("experimenter", "keywords", "related_publications")


def _nwbfile(meta: Metadata, session_root: Path):
    from pynwb import NWBFile
    from pynwb.file import Subject

    f = meta.nwbfile
    kwargs: dict[str, Any] = {
        "session_description": f.get("session_description") or f"two-photon session {session_root}",
        "identifier": str(f.get("identifier") or uuid.uuid4()),
        "session_start_time": _start_time(meta),
    }
    for key, value in f.items():
        if key in kwargs or value in (None, "", []):
            continue
        kwargs[key] = ([value] if isinstance(value, str) else list(value)) if key in _LISTS else str(value)
    if meta.subject:
        fields: dict[str, Any] = {k: str(v) for k, v in meta.subject.items() if k != "date_of_birth"}
        if "date_of_birth" in meta.subject:
            fields["date_of_birth"] = when(meta.subject["date_of_birth"], "Subject.date_of_birth")
        try:
            kwargs["subject"] = Subject(**fields)
        except (TypeError, ValueError) as exc:
            raise NWBError(f"Subject: {exc}") from None
    try:
        return NWBFile(**{k: v for k, v in kwargs.items() if v is not None})
    except (TypeError, ValueError) as exc:
        raise NWBError(f"NWBFile: {exc}") from None


# --------------------------------------------------------------------------- the columns


def _columns(manager) -> list[tuple[str, str, np.ndarray]]:
    """``(name, description, values)`` of every column cellector adds, for all ROIs."""
    from cellector.export.score import decision_score
    from cellector.features.registry import SPECS

    s = manager.roi_processor.session
    label, active = manager.manual_selection
    cols = [
        (
            "is_red",
            "cellector's decision: the ROI carries the red fluorophore (= idx_selected.npy)",
            manager.compute_idx_selected(),
        ),
        ("manual_label", "the curator's manual label (True: red); used only where manual_label_active", label),
        ("manual_label_active", "whether the manual label overrides the criteria", active),
        (
            "decision_score",
            "how clearly the decision holds, in [0, 1]; >= 0.5 exactly when is_red "
            "(1 / (1 + exp(-margin)), margin in robust spreads inside the cutoffs; 1 or 0 for manual labels)",
            decision_score(manager),
        ),
    ]
    if s is not None and s.red_s2p is not None:
        cols.append(("red_probability_suite2p", "suite2p's red probability (redcell.npy[:, 1])", s.red_s2p))
    for name, values in manager.features.items():
        if name == "red_s2p":
            continue
        what = SPECS[name].description if name in SPECS else "computed outside cellector (added by a script)"
        cols.append((name, f"cellector feature {name}: {what}", values))
    return [(n, d, np.asarray(v)) for n, d, v in cols]


def _description(manager) -> str:
    from cellector._shared.version import __version__

    criteria = {k: list(b) for k, b in manager.criteria.items() if b != (None, None)}
    s = manager.roi_processor.session
    ref = s.reference_key if s is not None else "reference"
    return (
        f"suite2p ROIs with cellector {__version__}'s red decision (reference image {ref}); "
        f"criteria (inclusive min, max; null = no bound): {json.dumps(criteria)}"
    )


# --------------------------------------------------------------------------- a new file


def _imaging_plane(nwb, device, entry: PlaneMetadata, z: int, plane: str, shared: bool):
    """Create the imaging plane of ``plane`` from its metadata entry (``shared``: one entry for every plane)."""
    from pynwb.ophys import OpticalChannel

    fields = dict(entry.imaging_plane)
    oc = entry.optical_channel
    channel = OpticalChannel(
        name=str(oc.get("name", "OpticalChannel")),
        description=str(oc.get("description", "red channel (suite2p channel 2)")),
        emission_lambda=float(oc.get("emission_lambda", np.nan)),
    )
    name = str(fields.pop("name", "ImagingPlane"))
    try:
        return nwb.create_imaging_plane(
            name=f"{name}{z}" if shared and z else name,
            optical_channel=channel,
            description=str(fields.pop("description", f"suite2p {plane}")),
            device=device,
            excitation_lambda=float(fields.pop("excitation_lambda", np.nan)),
            indicator=str(fields.pop("indicator", "unknown")),
            location=str(fields.pop("location", "unknown")),
            **fields,
        )
    except (TypeError, ValueError) as exc:
        raise NWBError(f"Ophys imaging plane {entry.label()}: {exc}") from None


def _device(nwb, meta: Metadata, entry: PlaneMetadata):
    fields = meta.device_for(entry)
    name = str(fields.get("name", "Microscope"))
    if name in nwb.devices:
        return nwb.devices[name]
    description = fields.get("description", "the microscope of the suite2p recording")
    extra = {k: str(v) for k, v in fields.items() if k not in ("name", "description")}
    return nwb.create_device(name=name, description=str(description), **extra)


def _new_file(manager, meta: Metadata):
    from pynwb.base import Images
    from pynwb.image import GrayscaleImage
    from pynwb.ophys import ImageSegmentation

    s = manager.roi_processor.session
    entries = meta.planes_for(list(s.planes))
    shared = len(set(map(id, entries))) < len(entries)  # one entry for several planes: names are numbered
    nwb = _nwbfile(meta, s.root)
    ophys = nwb.create_processing_module("ophys", "suite2p's ROIs and cellector's red decision")
    seg = ImageSegmentation(name="ImageSegmentation")
    ophys.add(seg)
    images = Images(name="MeanImages", description="per plane: the red reference and the functional mean image")
    rois = manager.roi_processor.rois
    tables = []
    for z, (plane, entry) in enumerate(zip(s.planes, entries, strict=True)):
        theirs = entry.segmentation.get("description")
        table = seg.create_plane_segmentation(
            name=_table_name(z) if shared or "name" not in entry.segmentation else str(entry.segmentation["name"]),
            description=f"{theirs}; {_description(manager)}" if theirs else _description(manager),
            imaging_plane=_imaging_plane(nwb, _device(nwb, meta, entry), entry, z, plane, shared),
        )
        for i in np.flatnonzero(s.roi_plane == z):
            a, b = rois.ptr[i], rois.ptr[i + 1]
            table.add_roi(
                pixel_mask=list(
                    zip(
                        rois.xpix[a:b].tolist(),
                        rois.ypix[a:b].tolist(),
                        rois.lam[a:b].astype(float).tolist(),
                        strict=True,
                    )
                )
            )
        tables.append(table)
        for key in (s.reference_key, s.functional_key):
            if key is not None:
                what = "red reference" if key == s.reference_key else "functional mean"
                images.add_image(
                    GrayscaleImage(
                        name=f"{key}_{plane}",
                        data=np.asarray(s.images[key][z], np.float32),
                        description=f"{what} image ({key}) of {plane}",
                    )
                )
    ophys.add(images)
    return nwb, tables


def _table_name(z: int) -> str:
    return "PlaneSegmentation" if z == 0 else f"PlaneSegmentation{z}"


# --------------------------------------------------------------------------- an existing file


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _existing_tables(nwb) -> list:
    """Return the PlaneSegmentation tables of a file's ``ophys`` module, in plane order (by name)."""
    from pynwb.ophys import ImageSegmentation, PlaneSegmentation

    ophys = nwb.processing.get("ophys")
    if ophys is None:
        raise NWBError("it has no 'ophys' processing module (no suite2p ROIs to label)")
    tables = []
    for container in ophys.data_interfaces.values():
        if isinstance(container, ImageSegmentation):
            tables += list(container.plane_segmentations.values())
        elif isinstance(container, PlaneSegmentation):
            tables.append(container)
    return sorted(tables, key=lambda t: _natural(t.name))


#: How an existing file's pixel masks name the axes: suite2p's ``save_nwb`` and cellector write
#: (column, row) as ``x, y``; roiextractors (neuroconv) writes (row, column) in the same two fields.
PIXEL_AXES = {"xy": "x = column, y = row", "yx": "x = row, y = column (as roiextractors writes them)"}


def _check_match(tables: list, manager) -> str | None:
    """Refuse unless each table holds this plane's ROIs, in suite2p order (same pixels).

    Returns how the file's pixel masks name the axes (a key of :data:`PIXEL_AXES`; None:
    the file has no pixel masks to tell).
    """
    s = manager.roi_processor.session
    if len(tables) != len(s.planes):
        raise NWBError(f"it has {len(tables)} PlaneSegmentation table(s) but the session has {len(s.planes)} plane(s)")
    axes: set[str] = set()
    for z, table in enumerate(tables):
        mine = np.flatnonzero(s.roi_plane == z)
        if len(table) != mine.size:
            raise NWBError(f"{table.name} holds {len(table)} ROIs but {s.planes[z]} has {mine.size}")
        if "pixel_mask" in table.colnames:
            axes.add(_axes(table, manager, z, mine))
    if len(axes) > 1:
        raise NWBError("its tables name the pixel axes in different ways (x, y and y, x): written by two programs?")
    return next(iter(axes), None)


def _axes(table, manager, z: int, mine: np.ndarray) -> str:
    """Return how ``table``'s pixel masks name the axes, once its ROIs are known to be plane ``z``'s."""
    s, rois = manager.roi_processor.session, manager.roi_processor.rois
    column = table["pixel_mask"]
    ends = np.asarray(column.data[:], np.int64)
    pixels = column.target.data[:]
    theirs = _pixel_sums(np.asarray(pixels["x"], np.int64), np.asarray(pixels["y"], np.int64), ends)
    ptr = rois.ptr
    ours = np.array(
        [
            [ptr[i + 1] - ptr[i], rois.xpix[ptr[i] : ptr[i + 1]].sum(), rois.ypix[ptr[i] : ptr[i + 1]].sum()]
            for i in mine
        ],
        np.int64,
    ).reshape(-1, 3)
    if not np.any(theirs != ours):
        return "xy"
    if not np.any(theirs != ours[:, [0, 2, 1]]):
        return "yx"
    bad = int(np.flatnonzero(np.any((theirs != ours) & (theirs != ours[:, [0, 2, 1]]), axis=1))[0])
    raise NWBError(
        f"{table.name}: ROI {bad} has other pixels than {s.planes[z]}'s ROI {bad} "
        "(another session, another segmentation or another order)"
    )


def _pixel_sums(x: np.ndarray, y: np.ndarray, ends: np.ndarray) -> np.ndarray:
    starts = np.concatenate([[0], ends[:-1]])
    counts = ends - starts
    out = np.zeros((ends.size, 3), np.int64)
    out[:, 0] = counts
    nonempty = counts > 0
    out[nonempty, 1] = np.add.reduceat(x, starts[nonempty])
    out[nonempty, 2] = np.add.reduceat(y, starts[nonempty])
    return out


# --------------------------------------------------------------------------- writing


def write_nwb(
    manager, output: str | Path, metadata: str | Path | dict | Metadata | None = None, into: str | Path | None = None
) -> Path:
    """Write the session's decision to a new NWB file ``output``; returns it.

    Parameters
    ----------
    manager : CellectorManager
        The session's state (:func:`cellector.export.files.open_state`).
    output : str or Path
        The new file; checked by :func:`cellector.io.outputs.check_output_path`.
    metadata : path, dict, Metadata or None
        Metadata in any of neuroconv's layouts (a YAML file, what its ``get_metadata()``
        returns, or :class:`~cellector.export.nwb_metadata.Metadata`); ignored with ``into``.
    into : str or Path, optional
        An existing NWB file whose PlaneSegmentation tables receive the columns; it is
        read, never modified. Its ROI counts and order must match the session's.

    Raises
    ------
    NWBError
        Bad metadata, or ``into`` does not match (one line each).
    """
    from pynwb import NWBHDF5IO

    from cellector.io.outputs import check_output_path
    from cellector.io.store import atomic_replace_with

    out = check_output_path(output)
    if into is not None and Path(into).expanduser().absolute() == Path(out).absolute():
        raise NWBError(f"--into {into} and the output are the same file; the input is never modified")
    if isinstance(metadata, Metadata):
        meta = metadata
    elif isinstance(metadata, dict):
        meta = metadata_of(metadata)
    else:
        meta = read_metadata(metadata) if metadata is not None else Metadata()
    if manager.roi_processor.session is None:
        raise NWBError("NWB export needs a suite2p folder (this session was built from arrays)")

    def write(tmp: Path) -> None:
        if into is None:
            nwb, tables = _new_file(manager, meta)
            _add_columns(tables, manager)
            with NWBHDF5IO(str(tmp), "w") as io:
                io.write(nwb)
            return
        with NWBHDF5IO(str(into), "r") as src:
            nwb = src.read()
            tables = _existing_tables(nwb)
            axes = _check_match(tables, manager)
            _add_columns(tables, manager, None if axes is None else PIXEL_AXES[axes])
            nwb.generate_new_id()
            with NWBHDF5IO(str(tmp), "w") as io:
                io.export(src_io=src, nwbfile=nwb)

    if into is not None and not Path(into).is_file():
        raise NWBError(f"--into {into}: no such file")
    try:
        atomic_replace_with(out, write)
    except (OSError, KeyError) as exc:
        if into is None:
            raise
        raise NWBError(f"--into {into}: cannot read it as NWB ({exc})") from None
    return Path(out)


def _add_columns(tables: list, manager, axes: str | None = None) -> None:
    """Add cellector's columns to each plane's table (``axes``: how the file's pixel masks name the axes)."""
    s = manager.roi_processor.session
    taken = {c for t in tables for c in t.colnames}
    for name, description, values in _columns(manager):
        if name == "is_red" and axes is not None:
            description += f"; matched to suite2p's ROIs by their pixel masks, whose fields hold {axes}"
        column = name if name not in taken else f"cellector_{name}"
        for z, table in enumerate(tables):
            table.add_column(name=column, description=description, data=values[s.roi_plane == z])
