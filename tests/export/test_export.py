"""Results in the forms labs share: suite2p-format labels, NWB (read back with pynwb, checked by nwbinspector)."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from cellector.manager import CellectorManager
from cellector.study.cli import main

from ..conftest import curated, tree_hashes

META = """\
NWBFile:
  session_description: Two-photon imaging of visual cortex with tdTomato-labelled interneurons.
  experiment_description: Red-labelled cell identification with cellector.
  session_start_time: "2026-03-04T10:15:00+01:00"
  experimenter: ["Doe, Jane"]
  institution: University of Somewhere
  lab: Vision Lab
  keywords: ["two-photon", "tdTomato"]
Subject:
  subject_id: M123
  species: Mus musculus
  sex: F
  age: P90D
  description: adult mouse
Ophys:
  ImagingPlane:
    location: VISp
    indicator: GCaMP6s
    excitation_lambda: 920.0
"""


def _run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


# --------------------------------------------------------------------------- suite2p-format labels


@pytest.mark.parametrize("name", ["suite2p-0.14-1plane", "suite2p-1.1-2planes"])
def test_redcell_file_beside_suite2ps_own(real_copy, capsys, name):
    root = real_copy(name)
    m = curated(root)
    before = tree_hashes(root)
    rc, _out, err = _run(capsys, "export", root, "--format", "redcell")
    assert rc == 0, err
    after = tree_hashes(root)
    new = {k for k in after if k not in before}
    assert new == {f"{p}/redcell_cellector.npy" for p in m.roi_processor.session.planes}
    assert {k: v for k, v in after.items() if k in before} == before  # suite2p's redcell.npy and all else untouched
    selected = np.load(root / "cellector" / "idx_selected.npy")
    s = m.roi_processor.session
    for z, plane in enumerate(s.planes):
        rows = np.load(root / plane / "redcell_cellector.npy")
        stat = np.load(root / plane / "stat.npy", allow_pickle=True)
        assert rows.shape == (len(stat), 2) and rows.dtype == np.float64
        np.testing.assert_array_equal(rows[:, 0], selected[s.roi_plane == z])  # column 0: the decision
        assert ((rows[:, 1] >= 0) & (rows[:, 1] <= 1)).all()
        np.testing.assert_array_equal(rows[:, 1] >= 0.5, rows[:, 0] == 1)  # the score agrees with it
    label, active = m.manual_selection
    score = np.concatenate([np.load(root / p / "redcell_cellector.npy")[:, 1] for p in s.planes])
    np.testing.assert_array_equal(score[active], label[active].astype(float))  # manual labels score 1 or 0


def test_decision_score_by_hand():
    from cellector.export.score import decision_score
    from cellector.roi_processor.processor import RoiProcessor

    f = np.array([0.0, 1.0, 2.0, np.nan, 10.0])
    g = np.array([5.0, 5.0, 5.0, 5.0, 4.0])
    rp = RoiProcessor(
        None,
        None,
        [np.array([i]) for i in range(5)],
        [np.array([0])] * 5,
        [np.ones(1)] * 5,
        np.ones((1, 5, 5)),
        autocompute=False,
        extra_features={"f": f, "g": g},
    )
    m = CellectorManager(rp)
    assert decision_score(m).tolist() == [0.5] * 5  # no cutoffs, no labels
    m.update_criteria("f", [1.0, None])
    m.update_criteria("g", [None, 4.5])
    # f: median 1.5, MAD 1 -> spread 1.4826; g: median 5, MAD 0 -> the range, 1
    # each ROI's margin is its smaller distance inside the two bounds: (f - 1) / 1.4826 and (4.5 - g) / 1
    spread_f = 1.4826
    margins = [-1 / spread_f, -0.5, -0.5, -np.inf, 0.5]  # ROI 3: NaN in a bounded feature
    expected = [0.0 if np.isinf(x) else 1 / (1 + np.exp(-x)) for x in margins]
    np.testing.assert_allclose(decision_score(m), expected, rtol=1e-12)
    m.update_manual_labels([0, 4], [True, False])
    assert decision_score(m)[[0, 4]].tolist() == [1.0, 0.0]


# --------------------------------------------------------------------------- NWB


@pytest.mark.parametrize("name", ["suite2p-0.14-1plane", "suite2p-1.1-2planes"])
def test_nwb_reads_back_to_the_same_decision_and_passes_nwbinspector(real_copy, tmp_path, capsys, name):
    from nwbinspector import inspect_nwbfile
    from pynwb import NWBHDF5IO

    root = real_copy(name)
    m = curated(root)
    meta = tmp_path / "meta.yaml"
    meta.write_text(META)
    out = tmp_path / "out" / "session.nwb"
    before = tree_hashes(root)
    rc, stdout, err = _run(capsys, "export", root, "--format", "nwb", "--metadata", meta, "-o", out)
    assert rc == 0, err
    assert "DANDI will ask" not in stdout and tree_hashes(root) == before
    s = m.roi_processor.session
    selected = np.load(root / "cellector" / "idx_selected.npy")
    with NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert nwb.subject.species == "Mus musculus" and nwb.experimenter == ("Doe, Jane",)
        ophys = nwb.processing["ophys"]
        tables = list(ophys["ImageSegmentation"].plane_segmentations.values())
        assert len(tables) == len(s.planes)
        for z, plane in enumerate(s.planes):
            table = ophys["ImageSegmentation"]["PlaneSegmentation" if z == 0 else f"PlaneSegmentation{z}"]
            mine = s.roi_plane == z
            np.testing.assert_array_equal(table["is_red"].data[:], selected[mine])
            np.testing.assert_array_equal(table["manual_label_active"].data[:], m.manual_selection[1][mine])
            for feature in ("dot_product", "corr_coef", "local_contrast"):
                np.testing.assert_array_equal(table[feature].data[:], m.features[feature][mine])
            stat = np.load(root / plane / "stat.npy", allow_pickle=True)
            for k in (0, len(stat) - 1):  # pixel masks in suite2p order: x, y, lam
                mask = np.asarray(table["pixel_mask"][k])
                np.testing.assert_array_equal(mask["x"], stat[k]["xpix"])
                np.testing.assert_array_equal(mask["y"], stat[k]["ypix"])
                np.testing.assert_allclose(mask["weight"], stat[k]["lam"], rtol=1e-6)
            assert '"dot_product": [' in table.description  # the criteria travel with the table
            ops = np.load(root / plane / "ops.npy", allow_pickle=True).item()
            np.testing.assert_allclose(ophys["MeanImages"][f"meanImg_chan2_{plane}"].data[:], ops["meanImg_chan2"])
    problems = [(msg.importance.name, msg.check_function_name) for msg in inspect_nwbfile(nwbfile_path=str(out))]
    assert problems == []  # no CRITICAL, no best-practice violation, not even a suggestion


def test_nwb_without_metadata_says_what_dandi_will_ask(real_copy, tmp_path, capsys):
    root = real_copy("suite2p-0.14-1plane")
    curated(root)
    rc, out, err = _run(capsys, "export", root, "--format", "nwb", "-o", tmp_path / "a.nwb")
    assert rc == 0, err
    assert out.count("\n") == 1 and "DANDI will ask for metadata: NWBFile.session_start_time" in out
    assert "Subject.species" in out and (tmp_path / "a.nwb").is_file()


def _neuroconv_like(path: Path, root: Path, drop: int | None = None, swap: bool = False) -> None:
    """An NWB file laid out as neuroconv's suite2p interface writes one: PlaneSegmentationChan1PlaneN tables."""
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.ophys import ImageSegmentation, OpticalChannel

    from cellector.io.suite2p import find_planes

    nwb = NWBFile("suite2p session", "id-1", datetime(2026, 1, 2, tzinfo=timezone.utc))
    device = nwb.create_device(name="Microscope")
    seg = ImageSegmentation(name="ImageSegmentation")
    nwb.create_processing_module("ophys", "processed").add(seg)
    _, planes = find_planes(root)
    for z, plane in enumerate(planes):
        oc = OpticalChannel(name="OpticalChannel", description="green", emission_lambda=510.0)
        ip = nwb.create_imaging_plane(
            name=f"ImagingPlane{z}",
            optical_channel=oc,
            description="plane",
            device=device,
            excitation_lambda=920.0,
            indicator="GCaMP",
            location="VISp",
        )
        ps = seg.create_plane_segmentation(
            name=f"PlaneSegmentationChan1Plane{z}", description="suite2p", imaging_plane=ip
        )
        stat = list(np.load(plane / "stat.npy", allow_pickle=True))
        if swap:
            stat[0], stat[1] = stat[1], stat[0]
        for k, roi in enumerate(stat):
            if k != drop:
                ps.add_roi(
                    pixel_mask=list(zip(roi["xpix"].tolist(), roi["ypix"].tolist(), roi["lam"].tolist(), strict=True))
                )
        ps.add_column("Accepted", "suite2p iscell", data=np.ones(len(ps), int))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def test_nwb_into_an_existing_file_adds_columns_to_a_new_copy(real_copy, tmp_path, capsys):
    from pynwb import NWBHDF5IO

    root = real_copy("suite2p-1.1-2planes")
    m = curated(root)
    src = tmp_path / "neuroconv.nwb"
    _neuroconv_like(src, root)
    digest = hashlib.sha1(src.read_bytes()).hexdigest()
    out = tmp_path / "labelled.nwb"
    rc, _stdout, err = _run(capsys, "export", root, "--format", "nwb", "--into", src, "-o", out)
    assert rc == 0, err
    assert hashlib.sha1(src.read_bytes()).hexdigest() == digest  # the input is never modified
    s = m.roi_processor.session
    with NWBHDF5IO(str(out), "r") as io:
        seg = io.read().processing["ophys"]["ImageSegmentation"]
        for z in range(len(s.planes)):
            table = seg[f"PlaneSegmentationChan1Plane{z}"]
            assert "Accepted" in table.colnames  # what was there stays
            np.testing.assert_array_equal(table["is_red"].data[:], m.compute_idx_selected()[s.roi_plane == z])


@pytest.mark.parametrize(("drop", "swap", "says"), [(3, False, "holds"), (None, True, "other pixels")])
def test_nwb_into_a_file_of_other_rois_is_refused(real_copy, tmp_path, capsys, drop, swap, says):
    root = real_copy("suite2p-0.14-1plane")
    curated(root)
    src = tmp_path / "other.nwb"
    _neuroconv_like(src, root, drop=drop, swap=swap)
    out = tmp_path / "labelled.nwb"
    rc, stdout, err = _run(capsys, "export", root, "--format", "nwb", "--into", src, "-o", out)
    assert rc == 2 and stdout == "" and err.count("\n") == 1 and says in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".*.tmp*"))  # nothing half-written


@pytest.mark.parametrize(
    ("yaml", "says"),
    [
        ("NWBFile: [1", "not valid YAML"),
        ("- a\n- b\n", "expected sections NWBFile, Subject, Ophys"),
        ("Subjects:\n  subject_id: x\n", "unknown section(s) Subjects"),
        ("NWBFile:\n  session_start_time: yesterday\n", "is not an ISO 8601 date"),
        ("Subject:\n  subject_id: M1\n  colour: red\n", "Subject: unknown field(s) colour"),
    ],
)
def test_bad_metadata_is_one_line(real_copy, tmp_path, capsys, yaml, says):
    root = real_copy("suite2p-0.14-1plane")
    meta = tmp_path / "meta.yaml"
    meta.write_text(yaml)
    before = tree_hashes(root.parent)
    rc, _stdout, err = _run(capsys, "export", root, "--format", "nwb", "--metadata", meta, "-o", tmp_path / "x.nwb")
    assert rc == 2 and err.count("\n") == 1 and says in err and "Traceback" not in err, err
    assert not (tmp_path / "x.nwb").exists() and tree_hashes(root.parent) == before


@pytest.mark.parametrize("target", ["plane0/session.nwb", "cellector/session.nwb", "plane0/stat.npy"])
def test_nwb_output_inside_the_recording_is_refused(real_copy, capsys, target):
    root = real_copy("suite2p-0.14-1plane")
    curated(root)
    before = tree_hashes(root)
    rc, _stdout, err = _run(capsys, "export", root, "--format", "nwb", "-o", root / target)
    assert rc == 2 and err.count("\n") == 1 and "refusing to write" in err
    assert tree_hashes(root) == before
