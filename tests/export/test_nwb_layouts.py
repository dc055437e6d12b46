"""NWB metadata in every layout labs have, and --into the files neuroconv itself writes.

The YAML examples are read from docs/sharing.md, so the docs show exactly what is
exported and inspected here. neuroconv's own ``get_metadata()`` and its suite2p interface
(the files ``--into`` labels) run on the genuine folders.
"""

import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
import yaml

from cellector.export.nwb_metadata import NWBError, metadata_of
from cellector.study.cli import main

from ..conftest import curated, tree_hashes

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sharing.md"
SESSIONS = ["suite2p-0.14-1plane", "suite2p-1.1-2planes"]


def docs_example(layout: str) -> str:
    """The YAML block that follows ``<!-- metadata example: LAYOUT -->`` in docs/sharing.md."""
    text = DOCS.read_text(encoding="utf-8")
    m = re.search(rf"<!-- metadata example: {layout} -->\n```yaml\n(.*?)```", text, re.DOTALL)
    assert m is not None, f"docs/sharing.md has no {layout} example"
    return m.group(1)


def _run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _inspect(path: Path) -> list[tuple[str, str, str]]:
    from nwbinspector import inspect_nwbfile

    return [(m.importance.name, m.check_function_name, m.message) for m in inspect_nwbfile(nwbfile_path=str(path))]


def _planes_say(path: Path, n_planes: int) -> None:
    """Every imaging plane of the file carries the location, indicator and wavelengths given."""
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        planes = list(nwb.imaging_planes.values())
        assert len(planes) == n_planes
        for ip in planes:
            assert (ip.location, ip.indicator, ip.excitation_lambda) == ("VISp", "GCaMP6s", 920.0)
            assert ip.optical_channel[0].emission_lambda == 581.0
            assert "tdTomato" in ip.optical_channel[0].description
        assert nwb.subject.description.startswith("PV-Cre") and nwb.institution == "University of Somewhere"
        tables = nwb.processing["ophys"]["ImageSegmentation"].plane_segmentations
        assert sum(len(t) for t in tables.values()) == 61


@pytest.mark.parametrize("layout", ["dict", "keyed", "list"])
@pytest.mark.parametrize("name", SESSIONS)
def test_each_docs_example_exports_a_file_nwbinspector_passes(real_copy, tmp_path, capsys, layout, name):
    root = real_copy(name)
    curated(root)
    meta = tmp_path / "meta.yaml"
    meta.write_text(docs_example(layout))
    out = tmp_path / "out" / "session.nwb"
    before = tree_hashes(root.parent)
    rc, stdout, err = _run(capsys, "export", root, "--format", "nwb", "--metadata", meta, "-o", out)
    assert rc == 0 and err == "", err
    assert "DANDI will ask" not in stdout
    _planes_say(out, 2 if "2planes" in name else 1)
    assert _inspect(out) == []  # nothing to report: no violation, not even a suggestion
    assert {k: v for k, v in tree_hashes(root.parent).items() if "cellector" not in k} == {
        k: v for k, v in before.items() if "cellector" not in k
    }


def _neuroconv_metadata(root: Path) -> dict:
    """What neuroconv's suite2p interfaces (one per plane) return from get_metadata(), edited as a lab would."""
    from neuroconv import ConverterPipe
    from neuroconv.datainterfaces import Suite2pSegmentationInterface

    planes = sorted(p.name for p in root.iterdir() if re.fullmatch(r"plane\d+", p.name))
    interfaces = {p: Suite2pSegmentationInterface(folder_path=str(root), plane_name=p) for p in planes}
    md = ConverterPipe(data_interfaces=interfaces).get_metadata().to_dict()  # a DeepDict: plain dicts, as in YAML
    md["NWBFile"].update(
        session_description="Two-photon imaging of V1 with tdTomato-labelled interneurons.",
        experiment_description="Red-labelled cell identification with cellector.",
        session_start_time=datetime(2026, 3, 4, 10, 15, tzinfo=timezone.utc),
        experimenter=["Doe, Jane"],
        institution="University of Somewhere",
        lab="Vision Lab",
        keywords=["two-photon", "tdTomato"],
    )
    md["Subject"] = {
        "subject_id": "M123",
        "description": "PV-Cre x Ai14 mouse with a cranial window over V1.",
        "species": "Mus musculus",
        "sex": "F",
        "age": "P90D",
    }
    md["Devices"] = {"scope": {"name": "Microscope", "description": "Two-photon microscope", "manufacturer": "Bruker"}}
    for entry in md["Ophys"]["ImagingPlanes"].values():
        entry.update(
            description="Layer 2/3 of V1",
            location="VISp",
            indicator="GCaMP6s",
            excitation_lambda=920.0,
            device_metadata_key="scope",
            optical_channel=[
                {"name": "Red", "description": "tdTomato emission (suite2p channel 2)", "emission_lambda": 581.0}
            ],
        )
    return md


@pytest.mark.parametrize("name", SESSIONS)
def test_neuroconvs_own_get_metadata_edited_as_a_lab_would(real_copy, tmp_path, capsys, name):
    root = real_copy(name)
    curated(root)
    md = _neuroconv_metadata(root)
    meta = tmp_path / "neuroconv.yaml"
    meta.write_text(yaml.safe_dump(md))
    out = tmp_path / "session.nwb"
    rc, _stdout, err = _run(capsys, "export", root, "--format", "nwb", "--metadata", meta, "-o", out)
    assert rc == 0, err
    # what neuroconv's metadata holds that cellector does not write is named, one line each
    assert "not used: Ophys.RoiResponses" in err and "not used: Ophys.SegmentationImages" in err
    assert all(line.startswith("cellector: note: ") for line in err.splitlines())
    n_planes = 2 if "2planes" in name else 1
    _planes_say(out, n_planes)
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(out), "r") as io:  # neuroconv's own names, each entry on its own plane
        nwb = io.read()
        names = sorted(nwb.processing["ophys"]["ImageSegmentation"].plane_segmentations)
        assert names == sorted(e["name"] for e in md["Ophys"]["PlaneSegmentations"].values())
        assert sorted(nwb.imaging_planes) == sorted(e["name"] for e in md["Ophys"]["ImagingPlanes"].values())
        assert nwb.devices["Microscope"].manufacturer == "Bruker"
    assert _inspect(out) == []
    # the same dict straight from Python maps alike
    assert [p.key for p in metadata_of(md).planes_for([f"plane{z}" for z in range(n_planes)])] == sorted(
        md["Ophys"]["ImagingPlanes"]
    )


def test_entries_are_mapped_by_plane_number_then_order():
    two = {"Ophys": {"ImagingPlanes": {"x_plane1": {"location": "B"}, "x_plane0": {"location": "A"}}}}
    assert [p.imaging_plane["location"] for p in metadata_of(two).planes_for(["plane0", "plane1"])] == ["A", "B"]
    listed = {"Ophys": {"ImagingPlane": [{"name": "First", "location": "A"}, {"name": "Second", "location": "B"}]}}
    assert [p.imaging_plane["location"] for p in metadata_of(listed).planes_for(["plane0", "plane1"])] == ["A", "B"]
    with pytest.raises(NWBError, match=r"2 imaging planes \(First, Second\) for a session of 3"):
        metadata_of(listed).planes_for(["plane0", "plane1", "plane2"])
    one = metadata_of({"Ophys": {"ImagingPlane": {"location": "A"}}})
    assert [p.imaging_plane["location"] for p in one.planes_for(["plane0", "plane1"])] == ["A", "A"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Ophys:\n  ImagingPlane:\n    locaton: VISp\n", "Ophys.ImagingPlane: unknown field(s) locaton"),
        (
            "Ophys:\n  ImagingPlanes:\n    k_plane0:\n      excitation_lambda: blue\n",
            "excitation_lambda: 'blue' is not",
        ),
        (
            "Ophys:\n  ImagingPlane:\n    - name: P\n      optical_channel: [{name: a}, {name: b}]\n",
            "optical_channel: 2 channels",
        ),
        (
            "Ophys:\n  ImagingPlanes:\n    a_plane0: {location: X}\n  PlaneSegmentations:\n"
            "    s: {imaging_plane_metadata_key: nope}\n",
            "'nope' names no Ophys.ImagingPlanes entry",
        ),
        ("Devices:\n  scope: {name: M, colour: red}\n", "Devices.scope: unknown field(s) colour"),
        ("Ophys:\n  ImagingPlane: VISp\n", "Ophys.ImagingPlane must be a mapping"),
        ("Ophys:\n  Device:\n    - name: M\n      model: X\n", "Ophys.Device[0]: unknown field(s) model"),
        ("NWBFile:\n  experimentor: Doe\n", "NWBFile: unknown field(s) experimentor"),
        ("Subject:\n  date_of_birth: last spring\n", "Subject.date_of_birth 'last spring' is not an ISO 8601"),
        ("Ophys:\n  ImagingPlane:\n    emission_lambda: .nan\n", "emission_lambda: NaN"),
        (
            "Ophys:\n  ImagingPlane:\n    - {name: A}\n    - {name: B}\n    - {name: C}\n",
            "3 imaging planes (A, B, C) for a session of 1 (plane0)",
        ),
    ],
)
def test_malformed_metadata_is_one_line_naming_the_field(real_copy, tmp_path, capsys, text, says):
    root = real_copy("suite2p-0.14-1plane")
    curated(root)
    meta = tmp_path / "meta.yaml"
    meta.write_text(text)
    before = tree_hashes(root.parent)
    out = tmp_path / "x.nwb"
    rc, _stdout, err = _run(capsys, "export", root, "--format", "nwb", "--metadata", meta, "-o", out)
    assert rc == 2 and err.count("\n") == 1 and says in err and "Traceback" not in err, err
    assert "internal error" not in err
    assert not out.exists() and tree_hashes(root.parent) == before


# --------------------------------------------------------------------------- --into the file neuroconv wrote


def _neuroconv_file(root: Path, path: Path) -> None:
    """The NWB file neuroconv's suite2p interfaces write from this very folder (one per plane)."""
    from neuroconv import ConverterPipe
    from neuroconv.datainterfaces import Suite2pSegmentationInterface

    planes = sorted(p.name for p in root.iterdir() if re.fullmatch(r"plane\d+", p.name))
    interfaces = {p: Suite2pSegmentationInterface(folder_path=str(root), plane_name=p) for p in planes}
    converter = ConverterPipe(data_interfaces=interfaces)
    md = _neuroconv_metadata(root)
    converter.run_conversion(nwbfile_path=str(path), metadata=md, overwrite=True)


@pytest.mark.parametrize("name", SESSIONS)
def test_into_the_file_neuroconv_wrote_from_the_same_folder(real_copy, tmp_path, capsys, name):
    from pynwb import NWBHDF5IO

    root = real_copy(name)
    m = curated(root)
    src = tmp_path / "neuroconv.nwb"
    _neuroconv_file(root, src)
    digest = hashlib.sha1(src.read_bytes()).hexdigest()
    out = tmp_path / "labelled.nwb"
    rc, _stdout, err = _run(capsys, "export", root, "--format", "nwb", "--into", src, "-o", out)
    assert rc == 0, err
    assert hashlib.sha1(src.read_bytes()).hexdigest() == digest  # the input is untouched
    s = m.roi_processor.session
    selected = np.load(root / "cellector" / "idx_selected.npy")
    with NWBHDF5IO(str(out), "r") as io:
        seg = io.read().processing["ophys"]["ImageSegmentation"]
        names = sorted(seg.plane_segmentations)  # neuroconv's own tables receive the columns
        assert names == (
            ["PlaneSegmentation"]
            if len(s.planes) == 1
            else ["PlaneSegmentationChan1Plane0", "PlaneSegmentationChan1Plane1"]
        )
        for z, table_name in enumerate(names):
            table = seg[table_name]
            assert {"roi_name", "iscell", "is_red", "dot_product", "decision_score"} <= set(table.colnames)
            np.testing.assert_array_equal(table["is_red"].data[:], selected[s.roi_plane == z])
            np.testing.assert_array_equal(table["dot_product"].data[:], m.features["dot_product"][s.roi_plane == z])
            assert "x = row, y = column (as roiextractors writes them)" in table["is_red"].description
    # cellector adds nothing for nwbinspector to report: what it says of the output, it said of the input
    assert sorted(_inspect(out)) == sorted(_inspect(src))


def test_into_a_file_of_another_session_is_refused(real_copy, tmp_path, capsys):
    one = real_copy("suite2p-0.14-1plane")  # 61 ROIs in one plane
    src = tmp_path / "other.nwb"
    _neuroconv_file(one, src)
    other = real_copy("real-fissa-1plane")  # 23 ROIs in one plane
    curated_other = other
    from cellector.manager import CellectorManager

    CellectorManager.from_folder(curated_other, reference_key="meanImg").save_all()
    out = tmp_path / "labelled.nwb"
    rc, stdout, err = _run(
        capsys, "export", other, "--reference", "meanImg", "--format", "nwb", "--into", src, "-o", out
    )
    assert rc == 2 and stdout == "" and err.count("\n") == 1 and "holds 61 ROIs but plane0 has 23" in err
    assert not out.exists()
