"""Guided curation: review queue, cutoffs fitted to the curator's labels, on hand-made and genuine data."""

import numpy as np
import pytest

from cellector import guidance
from cellector.cli import main
from cellector.manager import CellectorManager

SETS = ["suite2p-0.14-1plane", "suite2p-1.1-2planes"]


def _truth(root):
    planes = sorted(p.name for p in root.iterdir() if p.name.startswith("plane"))
    return np.concatenate([np.load(root.parent / "ground_truth" / f"{p}_roi_truth.npz")["truth_red"] for p in planes])


def _f1(selected, truth):
    tp = np.sum(selected & truth)
    return 2 * tp / (2 * tp + np.sum(selected & ~truth) + np.sum(~selected & truth))


def simulate_curator(manager, truth, n_labels=12):
    """Twelve times: look at review_queue()[0], label it from the ground truth, apply the suggestion."""
    f1_after = []
    for _ in range(n_labels):
        idx = int(manager.review_queue()[0])
        manager.update_manual_labels(idx, bool(truth[idx]), True)
        manager.apply_suggested_criteria()
        f1_after.append(_f1(manager.compute_idx_selected(), truth))
    return f1_after


@pytest.mark.parametrize("folder", SETS)
def test_a_simulated_curator_reaches_the_ground_truth(real_copy, folder):
    root = real_copy(folder)
    m = CellectorManager.from_folder(root)
    truth = _truth(root).astype(bool)
    assert all(b == (None, None) for b in m.criteria.values())  # start with no cutoffs
    f1 = simulate_curator(m, truth)
    labelled = m.manual_selection[1]
    assert labelled.sum() == 12
    assert f1[-1] >= 0.90, f1
    assert _f1(m.compute_idx_meets_criteria()[~labelled], truth[~labelled]) >= 0.85  # the cutoffs alone
    # the docs report these numbers (docs/cutoffs.md, made by scripts/plot_guided.py)
    expected = {"suite2p-0.14-1plane": [0.807, 0.917, 0.917], "suite2p-1.1-2planes": [0.933, 0.939, 1.0]}
    assert [round(float(f1[k - 1]), 3) for k in (4, 8, 12)] == expected[folder]


def test_suggestion_by_hand():
    # a = 1..6; labels: ROI 0 (a=1) no, 2 (a=3) no, 3 (a=4) yes, 5 (a=6) yes
    a = np.arange(1.0, 7.0)
    label = np.array([False, False, False, True, False, True])
    active = np.array([True, False, True, True, False, True])
    s = guidance.suggest({"a": a}, label, active)
    assert s.criteria == {"a": (3.5, None)}  # half-way between the labelled 3 and 4
    # leave-one-out: without ROI 2 the cut falls at 2.5 and calls a=3 red; without ROI 3 at
    # 4.5 and calls a=4 not red; ROIs 0 and 5 are right either way: 2 of 4
    assert s.agreement == 2 and s.describe() == "a >= 3.5: agrees with 2 of 4 of your labels"
    assert guidance.suggest({"a": a}, label, active & ~label) is None  # one kind only: nothing to fit


def test_red_evidence_decides():
    """A green-channel feature that fits the labels perfectly is not used unless asked for."""
    # red: dot_product separates the labels with one error (ROI 3, a=4, labelled red but low);
    # green: functional_dot_product separates them perfectly
    red = np.array([1.0, 2.0, 3.0, 2.5, 5.0, 6.0])
    green = np.array([10.0, 20.0, 30.0, 90.0, 80.0, 70.0])
    label = np.array([False, False, False, True, True, True])
    active = np.ones(6, bool)
    features = {"dot_product": red, "functional_dot_product": green}
    s = guidance.suggest(features, label, active)
    assert s.criteria["functional_dot_product"] == (None, None)  # never a cutoff on the green image
    assert s.criteria["dot_product"] == (4.0, None)  # half-way between 3 and 5: one labelled red is missed
    with_green = guidance.suggest(features, label, active, functional=True)
    assert with_green.criteria["functional_dot_product"] == (50.0, None)  # half-way between 30 and 70
    queue = guidance.review_queue(features, label, active & np.array([1, 0, 1, 1, 0, 1], bool))
    assert set(queue) == {1, 4}  # the queue works on the red features alone too


def test_the_manager_and_the_command_leave_the_functional_image_out_unless_asked(synthetic, capsys):
    m = CellectorManager.from_folder(synthetic.root)
    labels = np.arange(20) % 3 == 0  # labels no red feature can reproduce...
    m.update_manual_labels(np.arange(20), labels)
    green = np.zeros(m.num_rois)
    green[:20] = np.where(labels, 100.0, 0.0) + np.arange(20) * 1e-3  # ...but the green image fits perfectly
    m.add_feature("functional_dot_product", green)
    assert m.suggestion().criteria["functional_dot_product"] == (None, None)
    m.guide_with_functional = True  # the user opts in
    assert m.suggestion().criteria["functional_dot_product"][0] is not None
    m.save_all()
    for flags in ([], ["--with-functional"]):
        assert main(["suggest", str(synthetic.root), *flags]) == 0
        out = capsys.readouterr().out
        assert out.startswith("suggested from 20 manual labels:")
        if not flags:
            assert "functional_dot_product" not in out


def test_nan_fails_a_suggested_bound():
    a = np.array([1.0, 2.0, np.nan, 5.0, 6.0])
    label = np.array([False, False, False, True, True])
    s = guidance.suggest({"a": a}, label, np.ones(5, bool))
    assert s.criteria == {"a": (3.5, None)} and s.rule.predict({"a": a}).tolist() == [0, 0, 0, 1, 1]


def test_review_queue_bisects_the_strongest_feature_first():
    n = 9
    feats = {"corr_coef": np.arange(n)[::-1].astype(float), "dot_product": np.arange(n, dtype=float)}
    label = np.zeros(n, bool)
    active = np.zeros(n, bool)
    q = guidance.review_queue(feats, label, active)
    assert q[0] == 4 and sorted(q) == list(range(n))  # the median of dot_product (stronger than corr_coef)
    active[4] = True  # labelled not red: the boundary is above
    q = guidance.review_queue(feats, label, active)
    assert 4 not in q and q[0] == 6  # the middle of what is left above
    label[6] = active[6] = True  # red: both kinds known, the rule's cutoff (5.0) is between 4 and 6
    q = guidance.review_queue(feats, label, active)
    assert q[0] == 5 and not np.isin([4, 6], q).any()
    np.testing.assert_array_equal(q, guidance.review_queue(feats, label, active))  # deterministic


def test_manager_suggestion_is_one_undo_step(synthetic):
    m = CellectorManager.from_folder(synthetic.root)
    assert m.suggest_criteria() == {} and m.apply_suggested_criteria() is None
    truth = np.concatenate(synthetic.truth_red)
    red, not_red = np.flatnonzero(truth)[:3], np.flatnonzero(~truth)[:3]
    m.update_criteria("corr_coef", [0.1, None])
    m.update_manual_labels(red, True)
    m.update_manual_labels(not_red, False)
    suggested = m.suggest_criteria()
    assert set(suggested) == set(m.features)
    assert sum(b != (None, None) for b in suggested.values()) in (1, 2)
    before = m.criteria
    s = m.apply_suggested_criteria()
    assert m.criteria == suggested and s.n_labels == 6
    assert m.undo() and m.criteria == before  # one step back to the criteria before
    assert m.redo() and m.criteria == suggested
    assert not np.isin(m.review_queue(), np.concatenate([red, not_red])).any()


def test_excluded_features_are_not_suggested(synthetic):
    m = CellectorManager.from_folder(synthetic.root)
    truth = np.concatenate(synthetic.truth_red)
    m.update_manual_labels(np.flatnonzero(truth)[:4], True)
    m.update_manual_labels(np.flatnonzero(~truth)[:4], False)
    first = m.suggestion().rule.bounds[0][0]
    m.exclude_features.append(first)
    assert all(name != first for name, _, _ in m.suggestion().rule.bounds)


def test_suggest_command(real_copy, capsys):
    root = real_copy("suite2p-1.1-2planes")
    assert main(["suggest", str(root)]) == 0
    assert "label at least one red and one non-red ROI" in capsys.readouterr().out
    truth = _truth(root).astype(bool)
    m = CellectorManager.from_folder(root)
    m.update_manual_labels(np.flatnonzero(truth)[:3], True)
    m.update_manual_labels(np.flatnonzero(~truth)[:3], False)
    m.save_all()
    expected = m.suggestion()
    assert main(["suggest", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"suggested from 6 manual labels: {expected.describe()}" in out
    assert CellectorManager.from_folder(root).criteria == m.criteria  # without --apply nothing changes
    assert main(["suggest", str(root), "--apply"]) == 0
    assert "applied: " in capsys.readouterr().out
    assert CellectorManager.from_folder(root).criteria == expected.criteria
