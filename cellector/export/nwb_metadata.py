"""NWB metadata in every layout labs have: neuroconv's keyed layout, its earlier list layout, one dict.

neuroconv's ``get_metadata()`` (0.10 and later) keys devices and imaging planes by a
metadata key (``Devices: {key: {...}}``, ``Ophys: ImagingPlanes: {key: {...}}``,
``PlaneSegmentations: {key: {..., imaging_plane_metadata_key: key}}``). Earlier releases,
and many lab YAML files, use lists (``Ophys: Device: [...]``, ``ImagingPlane: [...]``, each
plane with an ``optical_channel`` list, ``ImageSegmentation: plane_segmentations: [...]``).
cellector's own short form is one mapping (``Ophys: ImagingPlane: {location: ...}``) for
every plane. :func:`read_metadata` reads all three into :class:`Metadata`, whose
:meth:`Metadata.planes_for` maps entries to a session's planes by the plane number in
their key or name (``…plane0``), else by order.

Nothing is dropped in silence: a section or entry cellector does not use (traces,
series, images) is named in :attr:`Metadata.notices`; a field it does not know where it
would change the file (a mistyped ``locaton``) raises :class:`NWBError` naming it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["Metadata", "NWBError", "PlaneMetadata", "metadata_of", "read_metadata", "when"]


class NWBError(ValueError):
    """Bad metadata, or an existing NWB file whose ROIs do not match the session's."""


_NWBFILE_FIELDS = (
    "session_description",
    "identifier",
    "session_start_time",
    "experimenter",
    "keywords",
    "institution",
    "lab",
    "session_id",
    "experiment_description",
    "notes",
    "pharmacology",
    "protocol",
    "related_publications",
    "slices",
    "data_collection",
    "surgery",
    "virus",
    "stimulus_notes",
    "source_script",
    "source_script_file_name",
)
_SUBJECT_FIELDS = (
    "age",
    "age__reference",
    "date_of_birth",
    "description",
    "genotype",
    "sex",
    "species",
    "subject_id",
    "weight",
    "strain",
)
_DEVICE_FIELDS = ("name", "description", "manufacturer")
_PLANE_FIELDS = (
    "name",
    "description",
    "location",
    "indicator",
    "excitation_lambda",
    "imaging_rate",
    "optical_channel",
    "device",
    "device_metadata_key",
    "grid_spacing",
    "grid_spacing_unit",
    "origin_coords",
    "origin_coords_unit",
    "reference_frame",
    # cellector's short form names the optical channel's two fields on the plane itself
    "emission_lambda",
    "optical_channel_description",
)
_CHANNEL_FIELDS = ("name", "description", "emission_lambda")
_SEGMENTATION_FIELDS = ("name", "description", "imaging_plane_metadata_key", "imaging_plane")
#: Ophys sections that describe what cellector does not write (traces, series, images).
_UNUSED_OPHYS = (
    "RoiResponses",
    "SegmentationImages",
    "MicroscopySeries",
    "TwoPhotonSeries",
    "OnePhotonSeries",
    "Fluorescence",
    "DfOverF",
)
_SECTIONS = ("NWBFile", "Subject", "Ophys", "Devices")
#: Sections of neuroconv's metadata for other data than two-photon ROIs.
_OTHER_SECTIONS = ("Behavior", "Ecephys", "Icephys", "Ogen", "Image", "Audio")


@dataclass
class PlaneMetadata:
    """One imaging plane's entry: the plane, its optical channel, its ROI table, its device.

    Attributes
    ----------
    key : str or None
        neuroconv's metadata key, or None (list and dict layouts).
    imaging_plane : dict
        Fields for ``NWBFile.create_imaging_plane`` (``optical_channel`` excluded).
    optical_channel : dict
        ``name``, ``description``, ``emission_lambda``.
    segmentation : dict
        ``name`` and ``description`` of the plane's PlaneSegmentation table, where given.
    device : str or None
        The key or name of its device (None: the first device).
    """

    key: str | None
    imaging_plane: dict[str, Any]
    optical_channel: dict[str, Any] = field(default_factory=dict)
    segmentation: dict[str, Any] = field(default_factory=dict)
    device: str | None = None

    def label(self) -> str:
        """Return what names the entry to the user (its key, else its name)."""
        return str(self.key or self.imaging_plane.get("name") or "ImagingPlane")


@dataclass
class Metadata:
    """NWB metadata read from any of the three layouts.

    Attributes
    ----------
    nwbfile, subject : dict
        The ``NWBFile`` and ``Subject`` fields.
    devices : dict of str to dict
        Devices by key (list layout: by name).
    planes : list of PlaneMetadata
        The imaging plane entries, in the file's order.
    notices : list of str
        What the file holds that cellector does not use, one line each.
    layout : str
        ``"keyed"`` (neuroconv's current layout), ``"list"`` (its earlier one), ``"dict"``
        (one mapping for every plane) or ``"none"`` (no imaging plane given).
    """

    nwbfile: dict[str, Any] = field(default_factory=dict)
    subject: dict[str, Any] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    planes: list[PlaneMetadata] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    layout: str = "none"

    def planes_for(self, names: list[str]) -> list[PlaneMetadata]:
        """Return the entry of each of a session's planes (``["plane0", "plane1"]``).

        Raises
        ------
        NWBError
            When the entries cannot be mapped to the planes (one line saying why).
        """
        if not self.planes:
            return [PlaneMetadata(None, {}) for _ in names]
        if len(self.planes) == 1:
            return [self.planes[0]] * len(names)
        numbered = {_plane_number(p): p for p in self.planes}
        wanted = [_plane_number(n) for n in names]
        if None not in numbered and len(numbered) == len(self.planes) and all(w in numbered for w in wanted):
            return [numbered[w] for w in wanted]
        if len(self.planes) == len(names):
            return list(self.planes)
        raise NWBError(
            f"Ophys: {len(self.planes)} imaging planes ({', '.join(p.label() for p in self.planes)}) for a session "
            f"of {len(names)} ({', '.join(names)}): give one entry, one per plane, or name each by its plane (…plane0)"
        )

    def device_for(self, plane: PlaneMetadata) -> dict[str, Any]:
        """Return the device fields of ``plane`` (a microscope named "Microscope" when none is given)."""
        if plane.device is not None and plane.device in self.devices:
            return self.devices[plane.device]
        by_name = {d.get("name"): d for d in self.devices.values()}
        if plane.device is not None and plane.device in by_name:
            return by_name[plane.device]
        return next(iter(self.devices.values()), {"name": "Microscope"})


def _plane_number(entry: PlaneMetadata | str) -> int | None:
    """Return the plane number a key or name ends with (``…_plane0`` -> 0, ``ImagingPlane1`` -> 1)."""
    texts = (
        [entry]
        if isinstance(entry, str)
        else [entry.key, entry.imaging_plane.get("name"), entry.segmentation.get("name")]
    )
    for text in texts:
        if text and (m := re.search(r"plane_?(\d+)$", str(text), re.IGNORECASE)):
            return int(m.group(1))
    return None


# --------------------------------------------------------------------------- reading


def read_metadata(path: str | Path) -> Metadata:
    """Read a metadata YAML file in any of the three layouts; raise :class:`NWBError` with one line if it is not one."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise NWBError(f"{path}: cannot read the metadata ({exc})") from None
    except yaml.YAMLError as exc:
        raise NWBError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    try:
        return metadata_of({} if raw is None else raw)
    except NWBError as exc:
        raise NWBError(f"{path}: {exc}") from None


def metadata_of(raw: Any) -> Metadata:
    """Read metadata given as a mapping (what neuroconv's ``get_metadata()`` returns, or a YAML file's content)."""
    if not isinstance(raw, dict):
        raise NWBError(f"expected sections {', '.join(_SECTIONS)}; got a {type(raw).__name__}")
    meta = Metadata()
    unknown = sorted(set(map(str, raw)) - {*_SECTIONS, *_OTHER_SECTIONS})
    if unknown:
        raise NWBError(
            f"unknown section(s) {', '.join(unknown)}; known: {', '.join(_SECTIONS)} "
            f"(and neuroconv's {', '.join(_OTHER_SECTIONS)}, not used here)"
        )
    for name, value in raw.items():
        if name in _OTHER_SECTIONS:
            meta.notices.append(f"not used: section {name} (cellector writes only NWBFile, Subject and Ophys)")
        elif not isinstance(value, dict):
            raise NWBError(f"section {name} must be a mapping of fields, got a {type(value).__name__}")
    meta.nwbfile = _fields(raw.get("NWBFile", {}), "NWBFile", _NWBFILE_FIELDS)
    meta.subject = _fields(raw.get("Subject", {}), "Subject", _SUBJECT_FIELDS)
    when(meta.nwbfile.get("session_start_time"), "NWBFile.session_start_time", now=True)  # checked now, used later
    if "date_of_birth" in meta.subject:
        when(meta.subject["date_of_birth"], "Subject.date_of_birth")
    ophys = raw.get("Ophys", {})
    for name in ophys:
        if name in _UNUSED_OPHYS:
            meta.notices.append(f"not used: Ophys.{name} (cellector writes no traces, series or images of suite2p's)")
    devices = _devices(raw.get("Devices"), ophys.get("Device"))
    meta.devices = devices
    if "ImagingPlanes" in ophys or "PlaneSegmentations" in ophys:
        meta.layout, meta.planes = "keyed", _keyed_planes(ophys)
    elif isinstance(ophys.get("ImagingPlane"), list):
        meta.layout, meta.planes = "list", _listed_planes(ophys, meta.notices)
    elif isinstance(ophys.get("ImagingPlane"), dict):
        meta.layout, meta.planes = "dict", [_plane(ophys["ImagingPlane"], "Ophys.ImagingPlane", None)]
    elif ophys.get("ImagingPlane") is not None:
        raise NWBError("Ophys.ImagingPlane must be a mapping of fields or a list of them")
    unknown = sorted(set(ophys) - {*_UNUSED_OPHYS, "ImagingPlanes", "PlaneSegmentations", "ImagingPlane", "Device"})
    unknown = [u for u in unknown if not (u == "ImageSegmentation" and meta.layout == "list")]
    for name in unknown:
        meta.notices.append(f"not used: Ophys.{name}")
    return meta


def when(value: Any, where: str, now: bool = False) -> datetime:
    """Return ``value`` (ISO 8601 text or a datetime) as an aware datetime (UTC when it names no zone).

    ``now``: None stands for the present moment (NWB requires a start time).
    """
    if value is None and now:
        return datetime.now(timezone.utc).replace(microsecond=0)  # NWB requires one; DANDI asks for the real one
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise NWBError(f"{where} {value!r} is not an ISO 8601 date and time") from None
    if not isinstance(value, datetime):
        raise NWBError(f"{where} must be a date and time, got {value!r}")
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _fields(section: Any, where: str, known: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise NWBError(f"{where} must be a mapping of fields, got a {type(section).__name__}")
    unknown = sorted(set(map(str, section)) - set(known))
    if unknown:
        raise NWBError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return dict(section)


def _devices(keyed: Any, listed: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if keyed is not None:
        if not isinstance(keyed, dict):
            raise NWBError("Devices must map a key to each device's fields")
        for key, d in keyed.items():
            out[str(key)] = _fields(d, f"Devices.{key}", _DEVICE_FIELDS)
    if listed is not None:
        entries = listed if isinstance(listed, list) else [listed]
        for i, d in enumerate(entries):
            fields = _fields(d, f"Ophys.Device[{i}]", _DEVICE_FIELDS)
            out[str(fields.get("name", f"Device{i}"))] = fields
    return out


def _keyed_planes(ophys: dict[str, Any]) -> list[PlaneMetadata]:
    planes = ophys.get("ImagingPlanes") or {}
    tables = ophys.get("PlaneSegmentations") or {}
    if not isinstance(planes, dict) or not isinstance(tables, dict):
        raise NWBError("Ophys.ImagingPlanes and Ophys.PlaneSegmentations must map a key to each entry's fields")
    out = {str(k): _plane(v, f"Ophys.ImagingPlanes.{k}", str(k)) for k, v in planes.items()}
    for key, t in tables.items():
        seg = _fields(t, f"Ophys.PlaneSegmentations.{key}", _SEGMENTATION_FIELDS)
        target = str(seg.pop("imaging_plane_metadata_key", key))
        seg.pop("imaging_plane", None)
        if target not in out:
            if planes:
                where = f"Ophys.PlaneSegmentations.{key}.imaging_plane_metadata_key"
                raise NWBError(f"{where}: {target!r} names no Ophys.ImagingPlanes entry")
            out[target] = PlaneMetadata(target, {})
        out[target].segmentation = seg
    return list(out.values())


def _listed_planes(ophys: dict[str, Any], notices: list[str]) -> list[PlaneMetadata]:
    out = [_plane(p, f"Ophys.ImagingPlane[{i}]", None) for i, p in enumerate(ophys["ImagingPlane"])]
    segs = (ophys.get("ImageSegmentation") or {}).get("plane_segmentations") or []
    by_plane: dict[Any, dict[str, Any]] = {}
    for i, entry in enumerate(segs if isinstance(segs, list) else []):
        where = f"Ophys.ImageSegmentation.plane_segmentations[{i}]"
        seg = _fields(entry, where, _SEGMENTATION_FIELDS)
        plane = seg.pop("imaging_plane", None)
        if plane in by_plane:  # suite2p's ROIs are one table per plane: a second one (the background) is not ours
            notices.append(f"not used: {where} ({seg.get('name', 'a second table')} of the same plane)")
            continue
        by_plane[plane] = seg
    for p in out:
        found = by_plane.get(p.imaging_plane.get("name"))
        if found is None and len(out) == 1:
            found = by_plane.get(None)
        if found is not None:
            p.segmentation = {k: v for k, v in found.items() if k != "imaging_plane_metadata_key"}
    return out


def _plane(entry: Any, where: str, key: str | None) -> PlaneMetadata:
    fields = _fields(entry, where, _PLANE_FIELDS)
    channel = fields.pop("optical_channel", None)
    if isinstance(channel, list):
        if len(channel) > 1:
            raise NWBError(
                f"{where}.optical_channel: {len(channel)} channels; cellector's ROI tables need one (the red)"
            )
        channel = channel[0] if channel else {}
    channel = _fields(channel or {}, f"{where}.optical_channel", _CHANNEL_FIELDS)
    if "emission_lambda" in fields:
        channel.setdefault("emission_lambda", fields.pop("emission_lambda"))
    if "optical_channel_description" in fields:
        channel.setdefault("description", fields.pop("optical_channel_description"))
    for name, values in (("excitation_lambda", fields), ("imaging_rate", fields), ("emission_lambda", channel)):
        if name in values:
            values[name] = _number(values[name], f"{where}.{name}")
    keyed, named = fields.pop("device_metadata_key", None), fields.pop("device", None)
    device = keyed if keyed is not None else named
    return PlaneMetadata(key, fields, channel, {}, None if device is None else str(device))


def _number(value: Any, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise NWBError(f"{where}: {value!r} is not a number") from None
    if math.isnan(number):
        raise NWBError(f"{where}: NaN; give the wavelength or rate, or leave the field out")
    return number
