"""Guided curation: the review queue, cutoffs fitted to the labels, their estimate, on hand-made and genuine data."""

import numpy as np
import pytest

from cellector.guidance import suggest as guidance
from cellector.guidance.model import Fit, Model, label_doubt, prepare
from cellector.guidance.scale import carry, scale
from cellector.manager import CellectorManager
from cellector.study.cli import main

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


def session(n_red, n_non, seed=0, dim=()):
    """Hand-made features: red ROIs at 10-20, non-red at 0-5 (``dim``: more red ROIs at these values).

    ``local_contrast`` follows ``dot_product`` with noise, as on real sessions.
    """
    rng = np.random.default_rng(seed)
    dot = np.concatenate([rng.uniform(10, 20, n_red), np.asarray(dim, float), rng.uniform(0, 5, n_non)])
    truth = np.arange(dot.size) < n_red + len(dim)
    return {"dot_product": dot, "local_contrast": dot + rng.normal(0, 1.0, dot.size)}, truth


def label(n, idx, truth, wrong=()):
    lab, act = np.zeros(n, bool), np.zeros(n, bool)
    lab[idx], act[idx] = truth[idx], True
    lab[list(wrong)] = ~lab[list(wrong)]
    return lab, act


# --------------------------------------------------------------------------- the scale


def test_scale_by_hand():
    # 0..4: median 2, IQR 2 -> spread 2/1.349 = 1.4826; asinh((4-2)/1.4826) = asinh(1.349) = ln(1.349 + 1.6792)
    # = 1.1080. On the asinh scale the quartiles are asinh(-/+0.6745) = -/+0.6317: spread 1.2633/1.349 = 0.93647,
    # so 1.1080/0.93647 = 1.1831.
    z = scale("dot_product", np.arange(5.0))
    assert z[4] == pytest.approx(1.1831, abs=1e-4) and z[2] == 0.0 and z[0] == pytest.approx(-1.1831, abs=1e-4)
    # the same session ten times brighter lands on the same scale
    np.testing.assert_allclose(scale("dot_product", 10 * np.arange(5.0)), z)
    # suite2p's -1 of merged ROIs is no probability: NaN
    assert np.isnan(scale("red_s2p", np.array([-1.0, 0.2, 0.5, 0.9]))[0])
    # corr_coef through atanh: 0 and the median coincide here
    assert scale("corr_coef", np.array([-0.5, 0.0, 0.5]))[1] == 0.0


# --------------------------------------------------------------------------- the review queue


@pytest.mark.parametrize(("n_red", "n_non"), [(10, 190), (120, 80)])
def test_the_first_two_looks_find_both_kinds_at_5_and_60_percent_red(n_red, n_non):
    features, truth = session(n_red, n_non)
    n = truth.size
    q = guidance.review_queue(features, np.zeros(n, bool), np.zeros(n, bool))
    assert truth[q[0]] and not truth[q[1]]  # the top of the prior score, then its bottom
    assert sorted(q) == list(range(n))  # every ROI is in the queue once
    lab, act = label(n, q[:2], truth)
    s = guidance.suggest(features, lab, act)
    assert s is not None and s.n_labels == 2
    # from two labels and the unlabelled ROIs' two modes: exactly the red ROIs
    assert _f1(np.where(act, lab, s.rule.predict(features)), truth) == 1.0
    ((name, side, cut),) = s.rule.bounds
    assert side == "min" and features[name][~truth].max() < cut < features[name][truth].min()
    # two labels say little: the estimate is honest about it, and the truth lies within it
    lo, hi = s.f1_interval
    assert lo <= 1.0 <= hi + 1e-9 and s.f1_margin > 0.1
    assert n_red * 0.7 < s.estimated_red < n_red * 1.5


def test_a_red_label_asks_for_the_bottom_and_a_non_red_one_for_the_top():
    features, truth = session(20, 80)
    n = truth.size
    top = int(np.argmax(features["dot_product"] + features["local_contrast"]))
    lab, act = label(n, [top], truth)
    assert not truth[guidance.review_queue(features, lab, act)[0]]  # a red one is known: look at the bottom
    bottom = int(np.argmin(features["dot_product"]))
    lab, act = label(n, [bottom], truth)
    assert truth[guidance.review_queue(features, lab, act)[0]]


def test_a_dim_first_red_does_not_cap_the_cutoff():
    """The first red found is a dim one (at 6, just above the non-red ROIs): the cutoff still keeps every red."""
    features, truth = session(10, 190, seed=1, dim=[6.0])
    n = truth.size
    dim = 10  # the dim red ROI
    lab, act = label(n, [dim, int(np.argmax(np.where(truth, -1, features["dot_product"])))], truth)
    s = guidance.suggest(features, lab, act)
    selected = np.where(act, lab, s.rule.predict(features))
    assert _f1(selected, truth) == 1.0
    # the queue goes on near the boundary on both sides: not a run of non-red ROIs above the dim one
    q = guidance.review_queue(features, lab, act)
    assert truth[q[:4]].any() and (~truth[q[:4]]).any()


def test_one_wrong_label_does_not_move_the_cutoff():
    features, truth = session(30, 170, seed=2)
    n = truth.size
    reds, nons = np.flatnonzero(truth)[:3], np.flatnonzero(~truth)[:3]
    wrong = int(np.argmin(features["dot_product"]))  # the dimmest ROI of all, labelled red by mistake
    nons = np.r_[nons, wrong]
    lab, act = label(n, np.r_[reds, nons], truth, wrong=[wrong])
    s = guidance.suggest(features, lab, act)
    ((name, side, cut),) = s.rule.bounds
    assert side == "min" and features[name][~truth].max() < cut < features[name][truth].min()
    free = ~act
    assert _f1(s.rule.predict(features)[free], truth[free]) == 1.0  # the cutoff alone is still perfect
    assert s.agreement == 6  # it disagrees with the wrong label only
    assert s.doubtful == (wrong,)  # and names it for a second look; the right ones are left alone
    assert f"check the label of ROI {wrong}" in s.describe()


def test_any_selection_is_assessed_by_the_same_fit():
    features, truth = session(30, 170, seed=2)
    n = truth.size
    lab, act = label(n, np.r_[np.flatnonzero(truth)[:3], np.flatnonzero(~truth)[:3]], truth)
    guide = guidance.Guide(features)
    s = guide.suggest(lab, act)
    same = guide.assess(lab, act, s.rule.predict(features))
    assert (same.estimated_precision, same.estimated_recall, same.estimated_f1, same.f1_margin) == (
        s.estimated_precision,
        s.estimated_recall,
        s.estimated_f1,
        s.f1_margin,
    )
    # everything selected, except the 3 ROIs labelled not red (labels override): every expected red ROI
    # is found (recall 1), so by hand precision = red / (N - 3) and F1 = 2 red / (N - 3 + red)
    every = guide.assess(lab, act, np.ones(n, bool))
    red = every.estimated_red
    assert every.estimated_recall == pytest.approx(1.0)
    assert every.estimated_precision == pytest.approx(red / (n - 3))
    assert every.estimated_f1 == pytest.approx(2 * red / (n - 3 + red))
    assert every.estimated_f1 < s.estimated_f1 and every.n_labels == 6
    assert every.describe() == (f"estimated precision {red / (n - 3):.2f}, recall 1.00 (± {every.f1_margin:.2f})")
    assert guide.assess(lab, act & lab, np.ones(n, bool)) is None  # one kind of label: nothing to fit


def test_label_doubt_by_hand():
    # One model that calls every ROI red with probability 0.9, fitted with 10 % wrong labels:
    # a red label is a slip with 0.1 * 0.1 / (0.1 * 0.1 + 0.9 * 0.9) = 1 / 82,
    # a non-red one with 0.1 * 0.9 / (0.1 * 0.9 + 0.9 * 0.1) = 1 / 2.
    features, _ = session(3, 3)
    prepared = prepare(features)
    model = Model(np.array([0]), np.array([np.log(9.0)]), np.eye(1), noise=0.1)
    f = Fit(prepared, (model,), np.array([1.0]), np.full(6, 0.9), np.zeros(2))
    lab, act = np.array([1, 0, 0, 0, 0, 0], bool), np.array([1, 1, 0, 0, 0, 0], bool)
    assert label_doubt(f, lab, act) == pytest.approx([1 / 82, 1 / 2])


def test_every_fifth_label_is_an_audit_far_from_the_boundary():
    features, truth = session(30, 170, seed=3)
    n = truth.size
    # a third feature that agrees with the others, except on ROI 40: a non-red one by dot_product and
    # local_contrast, which phase_corr ranks as the reddest of all
    features["phase_corr"] = features["dot_product"] + np.random.default_rng(3).normal(0, 3.0, n)
    features["phase_corr"][40] = 100.0
    lab, act = label(n, np.r_[np.flatnonzero(truth)[:2], np.flatnonzero(~truth)[5:7]], truth)
    assert act.sum() == 4
    s = guidance.suggest(features, lab, act)
    assert not s.rule.predict(features)[40]  # the cutoff rejects it...
    q = guidance.review_queue(features, lab, act)
    assert q[0] == 40  # ...so the fifth label goes there: a feature contradicts the cutoff the most
    lab[q[0]] = act[q[0]] = True
    assert 40 not in guidance.review_queue(features, lab, act)  # labelled: never offered again


def test_red_evidence_decides():
    """A green-channel feature that fits the labels perfectly is not used unless asked for."""
    features, truth = session(20, 80, seed=4)
    n = truth.size
    features["functional_dot_product"] = np.where(truth, 100.0, 0.0) + np.arange(n) * 1e-3
    lab, act = label(n, np.r_[np.flatnonzero(truth)[:3], np.flatnonzero(~truth)[:3]], truth)
    s = guidance.suggest(features, lab, act)
    assert s.criteria["functional_dot_product"] == (None, None)
    assert set(guidance.Guide(features).prepared.names) == {"dot_product", "local_contrast"}
    assert "functional_dot_product" in guidance.Guide(features, functional=True).prepared.names


def test_nan_fails_a_suggested_bound_and_one_kind_of_label_suggests_nothing():
    features, truth = session(20, 80, seed=5)
    features["dot_product"][0] = np.nan  # a red ROI without a value
    n = truth.size
    lab, act = label(n, np.r_[np.flatnonzero(truth)[1:3], np.flatnonzero(~truth)[:2]], truth)
    s = guidance.suggest(features, lab, act)
    if s.rule.bounds[0][0] == "dot_product":
        assert not s.rule.predict(features)[0]
    assert guidance.suggest(features, lab, act & lab) is None  # only red labels: nothing to fit


def test_the_estimate_says_how_good_the_cutoff_is():
    clean, truth = session(40, 160, seed=6)
    n = truth.size
    lab, act = label(n, np.r_[np.flatnonzero(truth)[:6], np.flatnonzero(~truth)[:6]], truth)
    good = guidance.suggest(clean, lab, act)
    # the same ROIs where the classes overlap: values of both kinds spread over 0-20
    rng = np.random.default_rng(6)
    blur = {k: v + rng.normal(0, 6.0, n) for k, v in clean.items()}
    poor = guidance.suggest(blur, lab, act)
    assert good.estimated_f1 > 0.9 and poor.estimated_f1 < good.estimated_f1
    for s, features in ((good, clean), (poor, blur)):
        true = _f1(np.where(act, lab, s.rule.predict(features)), truth)
        assert abs(s.estimated_f1 - true) < 0.1
        lo, hi = s.f1_interval
        assert lo <= true <= hi
    assert good.describe().startswith(f"{good.cutoffs_text()}: about {round(good.estimated_red)} red cells")
    assert "from 12 labels" in good.describe() and "(± " in good.describe()


def test_labels_carry_over_to_a_session_of_another_brightness():
    first, truth1 = session(30, 170, seed=7)
    second, truth2 = session(25, 175, seed=8)
    second = {k: 3.0 * v + 7.0 for k, v in second.items()}  # a brighter session: other units, same shape
    n1 = truth1.size
    lab, act = label(n1, np.r_[np.flatnonzero(truth1)[:5], np.flatnonzero(~truth1)[:5]], truth1)
    carried = carry(first, lab, act)
    assert len(carried) == 10 and carried.sessions == 1
    n2 = truth2.size
    none = np.zeros(n2, bool)
    assert guidance.suggest(second, none, none) is None
    s = guidance.suggest(second, none, none, carried=carried)  # before any label of its own
    assert s.n_labels == 0 and s.carried == 10 and "10 carried over" in s.describe()
    assert _f1(s.rule.predict(second), truth2) > 0.85  # no label of its own yet
    both = carried.merge(carried)
    assert len(both) == 20 and both.sessions == 2


# --------------------------------------------------------------------------- the manager and the command


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
    expected = {"suite2p-0.14-1plane": [0.884, 0.909, 0.909], "suite2p-1.1-2planes": [0.957, 1.0, 1.0]}
    assert [round(float(f1[k - 1]), 3) for k in (4, 8, 12)] == expected[folder]


def test_the_manager_and_the_command_leave_the_functional_image_out_unless_asked(synthetic, capsys):
    m = CellectorManager.from_folder(synthetic.root)
    pattern = np.arange(m.num_rois) % 3 == 0  # a pattern no red feature follows...
    m.update_manual_labels(np.arange(20), pattern[:20])
    green = np.where(pattern, 100.0, 0.0) + np.arange(m.num_rois) * 1e-3  # ...but the green image does
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
    assert sum(b != (None, None) for b in suggested.values()) == 1
    before = m.criteria
    s = m.apply_suggested_criteria()
    assert m.criteria == suggested and s.n_labels == 6  # every feature's criterion: the others' are cleared
    assert m.criteria_origin == "suggested from 6 labels"
    assert m.undo() and m.criteria == before  # one step back to the criteria before
    assert m.redo() and m.criteria == suggested
    assert not np.isin(m.review_queue(), np.concatenate([red, not_red])).any()
    name, side, cut = s.rule.bounds[0]
    m.update_criteria(name, (cut + 1e-3, None) if side == "min" else (None, cut + 1e-3))  # a drag of the slider
    assert m.criteria_origin == "suggested from 6 labels, adjusted"


def test_the_manager_keeps_its_guide_until_the_features_change(synthetic):
    m = CellectorManager.from_folder(synthetic.root)
    truth = np.concatenate(synthetic.truth_red)
    m.update_manual_labels(np.flatnonzero(truth)[:3], True)
    m.update_manual_labels(np.flatnonzero(~truth)[:3], False)
    first = m.suggestion()
    guide = m.guidance.guide()
    assert m.guidance.guide() is guide and m.suggestion() == first  # nothing changed: the same guide, the same answer
    m.add_feature("mine", np.arange(m.num_rois, dtype=float))
    assert m.guidance.guide() is not guide and "mine" in m.guidance.guide().prepared.names


def test_carry_labels_from_an_earlier_session(synthetic, tmp_path, capsys):
    from cellector.io.datasets import make_suite2p_folder

    earlier = CellectorManager.from_folder(synthetic.root)
    truth = np.concatenate(synthetic.truth_red)
    earlier.update_manual_labels(np.flatnonzero(truth)[:6], True)
    earlier.update_manual_labels(np.flatnonzero(~truth)[:6], False)
    earlier.save_all()
    later = make_suite2p_folder(tmp_path / "day2", n_planes=1, n_rois=80, shape=(128, 128), seed=9)
    m = CellectorManager.from_folder(later.root)
    assert m.suggestion() is None
    assert m.carry_labels_from(synthetic.root) == 12  # from the saved curation of the folder
    s = m.suggestion()
    assert s is not None and s.n_labels == 0 and s.carried == 12
    assert _f1(s.rule.predict(m.features), later.truth_red[0]) > 0.8
    assert m.carry_labels_from() == 0 and m.suggestion() is None  # no source: carried labels cleared
    m.save_all()
    assert main(["suggest", str(later.root), "--carry-from", str(synthetic.root)]) == 0
    assert "suggested from 0 manual labels and 12 carried over:" in capsys.readouterr().out


def test_the_manager_estimates_its_current_selection(synthetic):
    m = CellectorManager.from_folder(synthetic.root, load_saved=False)
    truth = np.concatenate(synthetic.truth_red)
    assert m.estimate_selection() is None  # no label yet
    m.update_manual_labels(np.flatnonzero(truth)[:3], True)
    m.update_manual_labels(np.flatnonzero(~truth)[:3], False)
    m.update_criteria("dot_product", [0.0, None])
    e = m.estimate_selection()
    expected = m.guidance.guide().assess(m.manual_label, m.manual_label_active, m.compute_idx_selected())
    assert e == expected and e.n_labels == 6
    m.discard_journal()


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
    assert f"estimated precision {expected.estimated_precision:.2f}" in out
    assert CellectorManager.from_folder(root).criteria == m.criteria  # without --apply nothing changes
    assert "the saved cutoffs" not in out  # none saved yet
    m.update_criteria("dot_product", [0.0, None])
    m.save_all()
    assert main(["suggest", str(root)]) == 0
    saved = f"the saved cutoffs and labels ({int(m.compute_idx_selected().sum())} selected): "
    assert saved + m.estimate_selection().describe() in capsys.readouterr().out
    assert main(["suggest", str(root), "--apply"]) == 0
    assert "applied: " in capsys.readouterr().out
    assert CellectorManager.from_folder(root).criteria == expected.criteria
