"""Scripts written against the published cellector run unchanged (written from the API page only).

The first test is a lab's typical analysis script, step by step, on a genuine suite2p
folder; the others pin the behaviours the published page lists (signatures, errors,
the bugs not to copy).
"""

import warnings

import numpy as np
import pytest


def _typical_script(root, second_root):
    """What an existing analysis script does, in the published API's words."""
    from cellector.io import (
        create_from_suite2p,
        is_criteria_saved,
        is_idx_selected_saved,
        load_criteria,
        load_feature,
        load_idx_selected,
        load_manual_selection,
        propagate_criteria,
    )
    from cellector.manager import CellectorManager

    roi_processor = create_from_suite2p(root)
    manager = CellectorManager.make_from_roi_processor(roi_processor)
    manager.update_criteria("dot_product", [90.0, None])
    manager.update_criteria("corr_coef", [0.3, None])
    manager.update_manual_labels([0, 5], True, True)
    manager.update_manual_labels(7, False, True)
    manager.save_all()

    reloaded = CellectorManager(root)
    selection = reloaded.compute_idx_selected()
    assert is_criteria_saved(root, "dot_product") and is_idx_selected_saved(root)
    crit = load_criteria(root, "corr_coef")
    labels, active = load_manual_selection(root)
    feature = load_feature(root, "dot_product")
    successful, unsuccessful = propagate_criteria(root, second_root)
    reloaded.add_feature("my_score", np.arange(reloaded.num_rois, dtype=float))
    reloaded.update_criteria("my_score", [None, 40.0])
    return {
        "selection": selection,
        "saved_selection": load_idx_selected(root),
        "criteria": crit,
        "labels": (labels, active),
        "feature": feature,
        "propagated": (successful, unsuccessful),
        "manager": reloaded,
        "processor": roi_processor,
    }


def test_a_typical_script_runs_unchanged(real_copy):
    from cellector.io import load_criteria
    from cellector.manager import CellectorManager

    root = real_copy("suite2p-0.14-1plane")
    second = real_copy("suite2p-1.1-2planes")
    out = _typical_script(root, second)
    rp = out["processor"]
    n = rp.num_rois
    assert n == 61

    # the selection by hand: every active bound (inclusive), then the manual labels override
    dot, corr = rp.features["dot_product"], rp.features["corr_coef"]
    expected = (dot >= 90.0) & (corr >= 0.3)
    expected[[0, 5]] = True
    expected[7] = False
    np.testing.assert_array_equal(out["selection"], expected)
    np.testing.assert_array_equal(out["saved_selection"], expected)
    assert out["criteria"].dtype == object and out["criteria"].tolist() == [0.3, None]
    labels, active = out["labels"]
    assert np.flatnonzero(active).tolist() == [0, 5, 7] and labels[[0, 5, 7]].tolist() == [True, True, False]
    np.testing.assert_array_equal(out["feature"], dot)

    # propagation: a real criteria file (holding None) reaches the second session
    successful, unsuccessful = out["propagated"]
    assert unsuccessful == {} and successful == {str(second): sorted(rp.features)}  # every criteria file
    assert load_criteria(second, "dot_product").tolist() == [90.0, None]

    # add_feature on the reloaded manager takes part in the selection at once
    m = out["manager"]
    np.testing.assert_array_equal(m.compute_idx_selected(), np.where(active, labels, expected & (np.arange(n) <= 40)))

    # the window's Save for the same choices writes the same selection (it calls save_all)
    window_like = CellectorManager.from_folder(root)
    np.testing.assert_array_equal(window_like.compute_idx_selected(), expected)
    assert window_like.criteria["dot_product"] == (90.0, None)


def test_quickstart_imports():
    import cellector.manager
    import cellector.roi_processor.processor
    from cellector import CellectorManager, RoiProcessor

    assert CellectorManager is cellector.manager.CellectorManager
    assert RoiProcessor is cellector.roi_processor.processor.RoiProcessor


def test_every_published_io_name_is_importable():
    import cellector.io as io

    names = """create_from_suite2p create_from_suite3d create_from_pixel_data create_from_mask_volume
    get_save_directory feature_path save_feature load_feature is_feature_saved criteria_path save_criteria
    load_criteria is_criteria_saved manual_selection_path save_manual_selection load_manual_selection
    is_manual_selection_saved idx_selected_path save_idx_selected load_idx_selected is_idx_selected_saved
    FEATURE_EXTENSION CRITERIA_EXTENSION load_saved_feature load_saved_criteria clear_cellector_files
    identify_feature_files propagate_criteria identify_cellector_folders update_feature_paths
    update_manual_selection_shape update_idx_selection_filenames""".split()
    missing = [n for n in names if not hasattr(io, n)]
    assert missing == []
    assert io.FEATURE_EXTENSION == "_feature" and io.CRITERIA_EXTENSION == "_featurecriteria"


def test_store_functions_round_trip_through_the_safe_store(tmp_path):
    from cellector import io
    from cellector.io.store import load_state

    root = tmp_path
    assert io.get_save_directory(root) == root / "cellector"
    assert io.feature_path(root, "x") == root / "cellector" / "x_feature.npy"
    assert io.criteria_path(root, "x") == root / "cellector" / "x_featurecriteria.npy"
    io.save_feature(root, "x", np.array([1.0, 2.0, 3.0]))
    io.save_criteria(root, "x", [None, 2.5])
    io.save_criteria(root, "y", [0.5, 1.5])
    io.save_manual_selection(root, np.array([True, False, False]), np.array([True, False, True]))
    io.save_idx_selected(root, np.array([1, 0, 0]))
    assert io.load_feature(root, "x").tolist() == [1.0, 2.0, 3.0]
    assert io.load_criteria(root, "x").tolist() == [None, 2.5]
    assert io.load_criteria(root, "y").tolist() == [0.5, 1.5]
    # the files are those of the published format: float64 when both bounds are numbers
    assert np.load(io.criteria_path(root, "y")).dtype == np.float64
    assert np.load(io.criteria_path(root, "x"), allow_pickle=True).tolist() == [None, 2.5]
    labels, active = io.load_manual_selection(root)
    assert labels.tolist() == [True, False, False] and active.tolist() == [True, False, True]
    assert io.load_idx_selected(root).tolist() == [True, False, False]
    assert io.identify_feature_files(root) == ["x", "y"]
    assert io.identify_feature_files(root, criteria=False) == ["x"]
    # every write went through the store: checksummed, consistent
    st = load_state(root)
    assert st["consistent"] and set(st["metadata"]["checksums"]) >= {
        "x_feature.npy",
        "x_featurecriteria.npy",
        "manual_selection.npy",
        "idx_selected.npy",
    }


def test_bad_input_names_the_argument_or_file(tmp_path):
    from cellector import io

    io.save_feature(tmp_path, "x", np.zeros(3))
    with pytest.raises(ValueError, match=r"min 2\.0 exceeds max 1\.0"):
        io.save_criteria(tmp_path, "x", [2, 1])
    with pytest.raises(ValueError, match="2 values"):
        io.save_criteria(tmp_path, "x", [1, 2, 3])
    with pytest.raises(ValueError, match="must be numbers or None"):
        io.save_criteria(tmp_path, "x", ["a", None])
    with pytest.raises(ValueError, match="idx_selected has 4 entries but the state saved"):
        io.save_idx_selected(tmp_path, np.ones(4, bool))
    with pytest.raises(ValueError, match="manual_labels and manual_labels_active"):
        io.save_manual_selection(tmp_path, np.ones(3, bool), np.ones(2, bool))
    with pytest.raises(ValueError, match="plain feature name"):
        io.save_feature(tmp_path, "../evil", np.zeros(3))
    with pytest.raises(FileNotFoundError, match=r"y_feature\.npy: no saved feature 'y'"):
        io.load_feature(tmp_path, "y")
    with pytest.raises(ValueError, match=r"idx_selected\.npy"):
        io.load_idx_selected(tmp_path)
    # nothing above changed what was saved
    assert io.load_feature(tmp_path, "x").tolist() == [0, 0, 0] and not io.is_criteria_saved(tmp_path, "x")


def test_deprecated_aliases_warn_then_work(tmp_path):
    from cellector import io

    io.save_feature(tmp_path, "x", np.arange(3.0))
    io.save_criteria(tmp_path, "x", [1, None])
    with pytest.warns(DeprecationWarning, match="use load_feature"):
        assert io.load_saved_feature(tmp_path, "x").tolist() == [0, 1, 2]
    with pytest.warns(DeprecationWarning, match="use load_criteria"):
        assert io.load_saved_criteria(tmp_path, "x").tolist() == [1.0, None]


def test_manager_from_root_dir(tmp_path):
    from cellector import io
    from cellector.manager import CellectorManager

    with pytest.raises(ValueError, match=r"no saved features.*num_rois"):
        CellectorManager(tmp_path)  # the published one crashes here
    m = CellectorManager(tmp_path, num_rois=4)
    assert m.num_rois == 4 and m.features == {} and m.compute_idx_selected().all()
    m.add_feature("a", np.array([0.0, 1.0, 2.0, np.nan]))
    m.update_criteria("a", [1.0, None])
    assert m.compute_idx_meets_criteria().tolist() == [False, True, True, False]  # NaN fails an active bound
    m.update_manual_labels(np.array([0, 1]), np.array([True, False]), True)
    assert m.manual_label[:2].tolist() == [True, False] and m.manual_label_active.tolist() == [True, True, False, False]
    with pytest.raises(ValueError):
        m.manual_label[0] = False  # read-only: labels change only through update_manual_labels
    m.save_all()
    again = CellectorManager(tmp_path, exclude_features=["a"])
    assert again.criteria == {"a": (1.0, None)} and again.exclude_features == ["a"]
    assert again.compute_idx_meets_criteria().all()  # excluded: its criterion takes no part
    assert again.idx_meets_criteria.all() and again.idx_selected.tolist() == [True, False, True, True]
    with pytest.raises(ValueError, match="has 4 values but the session has 5"):
        CellectorManager(tmp_path, num_rois=5)
    with pytest.raises(ValueError, match="unknown feature"):
        again.update_criteria("nope", [0, 1])
    with pytest.raises(ValueError, match="exceeds max"):
        again.update_criteria("a", [3, 1])
    assert io.load_idx_selected(tmp_path).tolist() == [True, False, True, False]


def test_roi_processor_attributes(real_copy):
    from cellector.io import create_from_suite2p
    from cellector.utils import get_roi_centroids

    root = real_copy("suite2p-1.1-2planes")
    rp = create_from_suite2p(root, autocompute=False)
    import cellector.io.suite2p as s2p

    stat = [s2p.safe_load_npy(root / p / "stat.npy") for p in ("plane0", "plane1")]
    flat = [roi for plane in stat for roi in plane]
    assert len(rp.ypix) == len(rp.lam) == rp.num_rois == len(flat)
    for i in (0, len(stat[0]), rp.num_rois - 1):
        np.testing.assert_array_equal(rp.ypix[i], flat[i]["ypix"])
        np.testing.assert_array_equal(rp.xpix[i], flat[i]["xpix"])
        np.testing.assert_allclose(rp.lam[i], flat[i]["lam"], rtol=1e-6)
    assert rp.zpix.tolist() == [0] * len(stat[0]) + [1] * len(stat[1])
    assert (rp.lz, rp.ly, rp.lx) == (2, 160, 160) and not rp.volumetric
    yc, xc = get_roi_centroids(list(rp.lam), list(rp.ypix), list(rp.xpix))
    np.testing.assert_array_equal(rp.centroids["yc"], yc)
    np.testing.assert_array_equal(rp.centroids["xc"], xc)
    with pytest.raises(ValueError):
        rp.ypix[0][0] = 5  # views over the flat arrays cannot be written through
    masks = rp.centered_masks
    assert masks.shape == (rp.num_rois, 81, 81)
    inner = [i for i in range(rp.num_rois) if 40 <= rp.centroids["yc"][i] < 120 and 40 <= rp.centroids["xc"][i] < 120]
    for i in inner[:5]:  # every pixel of an ROI away from the border lands in its patch
        assert masks[i].sum() == pytest.approx(float(np.sum(rp.lam[i])), rel=1e-5)
    assert rp.centered_reference.shape == (rp.num_rois, 81, 81)
    rp.compute_features(use_saved=False)
    dot = rp.features["dot_product"].copy()
    copy = rp.copy_with_params({"lowcut": 20})
    assert copy.parameters["lowcut"] == 20 and rp.parameters["lowcut"] == 12
    np.testing.assert_array_equal(copy.features["phase_corr"], rp.features["phase_corr"])  # unaffected: carried
    assert not np.allclose(copy.features["dot_product"], dot)  # depends on lowcut: recomputed
    np.testing.assert_array_equal(rp.features["dot_product"], dot)  # the original is untouched


def test_create_functions_take_the_published_positional_order(tmp_path, synthetic):
    from cellector.io import create_from_mask_volume, create_from_pixel_data, create_from_suite2p
    from cellector.io.suite2p import load_suite2p

    rp = create_from_suite2p(synthetic.root, False, autocompute=False)  # use_redcell=False
    assert "red_s2p" not in rp.features
    s = load_suite2p(synthetic.root)
    stats = [{"ypix": y, "xpix": x, "lam": w} for _, y, x, w in (s.rois.roi(i) for i in range(5))]
    planes = s.rois.plane[:5]
    a = create_from_pixel_data(tmp_path / "a", stats, s.reference, planes, s.functional_reference, save_features=False)
    masks = np.zeros((5, *s.reference.shape[1:]), np.float32)
    for i, st in enumerate(stats):
        masks[i, st["ypix"], st["xpix"]] = st["lam"]
    b = create_from_mask_volume(tmp_path / "b", masks, s.reference, planes, s.functional_reference, save_features=False)
    for name in a.features:
        np.testing.assert_allclose(a.features[name], b.features[name], rtol=1e-6)
    with pytest.raises(ValueError, match="'ypix', 'xpix' and 'lam'"):
        create_from_pixel_data(tmp_path, [{"ypix": [1]}], s.reference)


def test_clear_existing_and_migrations(tmp_path, synthetic):
    from cellector import io

    root = synthetic.root
    rp = io.create_from_suite2p(root)
    assert io.is_feature_saved(root, "dot_product")
    io.create_from_suite2p(root, clear_existing=True, autocompute=False)
    assert not io.is_feature_saved(root, "dot_product")
    assert (io.get_save_directory(root) / ".previous" / "dot_product_feature.npy").is_file()  # recoverable
    folder = io.get_save_directory(root)
    n = rp.num_rois
    np.save(folder / "corr_coef.npy", np.zeros(n))
    np.save(folder / "targetcell.npy", np.ones(n, bool))
    np.save(folder / "manual_selection.npy", np.zeros((n, 2), bool))
    assert io.update_feature_paths([root], remove_old=False) == [
        "copied corr_coef.npy -> corr_coef_feature.npy (kept corr_coef.npy)"
    ]
    assert io.update_manual_selection_shape([root]) == ["manual_selection.npy: rewrote (N, 2) as (2, N)"]
    assert io.update_idx_selection_filenames(root) == ["moved targetcell.npy -> idx_selected.npy"]
    assert io.load_manual_selection(root)[0].shape == (n,) and io.load_idx_selected(root).all()


def test_propagation_reports_each_target(real_copy, tmp_path):
    from cellector import io

    src = real_copy("suite2p-0.14-1plane")
    io.save_criteria(src, "dot_product", [None, 5.0])
    bad = tmp_path / "not-a-folder"
    bad.write_text("x")
    ok, failed = io.propagate_criteria(src, tmp_path / "elsewhere", bad)
    assert ok == {str(tmp_path / "elsewhere"): ["dot_product"]}
    assert list(failed) == [str(bad)] and isinstance(failed[str(bad)], OSError)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert io.load_criteria(tmp_path / "elsewhere", "dot_product").tolist() == [None, 5.0]


def test_published_keyword_names(synthetic):
    """Scripts that pass the published argument names as keywords."""
    from cellector.io import create_from_suite2p, identify_cellector_folders
    from cellector.manager import CellectorManager

    rp = create_from_suite2p(suite2p_dir=synthetic.root, use_redcell=False, reference_key="meanImg_chan2")
    m = CellectorManager.make_from_roi_processor(roi_processor=rp, exclude_features=["corr_coef"])
    m.update_criteria(feature="dot_product", criterion=[10.0, None])
    m.update_manual_labels(idx=3, label=True, active=True)
    m.save_all()
    assert m.criteria["dot_product"] == (10.0, None) and m.exclude_features == ["corr_coef"]
    assert identify_cellector_folders(top_level_dir=synthetic.root.parent) == [synthetic.root]
