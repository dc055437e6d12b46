"""Guided review in the window: ghost lines, the suggestion, labels that look like slips."""

import numpy as np
import pytest
from qtpy.QtCore import Qt

from .conftest import press, real_keys


def test_guided_review_ghost_lines_and_apply(window, synthetic, qtbot):
    _viewer, widget = window
    m = widget.manager
    truth = np.concatenate(synthetic.truth_red)
    assert (
        not widget.controls.apply_button.enabled
        and "label a red and a non-red" in widget.controls.suggestion_label.value
    )
    for _ in range(6):
        expected = int(m.review_queue()[0])
        press(widget, "g")
        assert m.focus == expected and widget.status.text().startswith("guided: ROI")
        m.update_manual_labels(expected, bool(truth[expected]))
    assert m.manual_selection[1].sum() == 6 and m.manual_selection[0].any() and not m.manual_selection[0].all()
    qtbot.waitUntil(lambda: widget.controls.apply_button.enabled, timeout=5000)  # the fit runs once after the burst
    s = m.suggestion()
    text = widget.controls.suggestion_label.value  # the cutoff, then what it promises, in words
    assert text.startswith(f"suggested: <b>{s.cutoffs_text()}</b> · about {round(s.estimated_red)} red cells<br>")
    assert f"estimated precision {s.estimated_precision:.2f}, recall {s.estimated_recall:.2f}" in text
    assert f"(± {s.f1_margin:.2f}), from 6 labels" in text
    for name, side, cut in s.rule.bounds:
        line = widget.cards[name].ghost_min if side == "min" else widget.cards[name].ghost_max
        assert line.get_visible() and line.get_xdata()[0] == pytest.approx(cut)
    others = [c for n, c in widget.cards.items() if n not in {b[0] for b in s.rule.bounds}]
    assert not any(c.ghost_min.get_visible() or c.ghost_max.get_visible() for c in others)
    before = m.criteria
    qtbot.mouseClick(widget.controls.apply_button.native, Qt.MouseButton.LeftButton)
    assert m.criteria == s.criteria
    name, side, cut = s.rule.bounds[0]
    assert widget.cards[name].slider.value()[0 if side == "min" else 1] == pytest.approx(cut, abs=1e-3)
    press(widget, "Control-Z")
    assert m.criteria == before  # one undo step
    press(widget, "p")
    assert m.criteria == s.criteria
    assert "your cutoffs" not in widget.controls.suggestion_label.value  # the suggestion is what is set
    # dragged away from the suggestion: once the drag settles, the dock says what the user's own cutoffs give
    lo, hi = m.criteria[name]
    values = m.features[name]
    moved = float(np.nanpercentile(values, 90)) if side == "min" else float(np.nanpercentile(values, 10))
    m.update_criteria(name, (moved, hi) if side == "min" else (lo, moved))
    qtbot.waitUntil(lambda: "your cutoffs" in widget.controls.suggestion_label.value, timeout=5000)
    mine = m.estimate_selection()
    assert f"labels<br>your cutoffs: {mine.describe()}" in widget.controls.suggestion_label.value
    assert mine.estimated_f1 < s.estimated_f1  # the suggestion is the best cutoff under the same fit
    shown = widget.controls.suggestion_label.native
    assert shown.heightForWidth(shown.width()) <= shown.height()  # the extra line is never cut
    press(widget, "p")
    qtbot.waitUntil(lambda: "your cutoffs" not in widget.controls.suggestion_label.value, timeout=5000)


def test_a_label_that_looks_like_a_slip_is_named_and_w_shows_it(window, synthetic, qtbot):
    """A wrong label deep on the other side is named in the dock, and ``w`` (a real key) focuses it."""
    from cellector_gui._viewer.qt_access import canvas_widget

    _viewer, widget = window
    m = widget.manager
    truth = np.concatenate(synthetic.truth_red)
    dot = m.features["dot_product"]
    reds = np.flatnonzero(truth)[np.argsort(-dot[truth])][:4]  # the four brightest red cells
    nons = np.flatnonzero(~truth)[np.argsort(dot[~truth])][:4]  # the four dimmest non-red ones
    slip = int(nons[0])
    m.update_manual_labels(reds, True)
    m.update_manual_labels(nons[1:], False)
    m.update_manual_labels(slip, True)  # the dimmest ROI of all, labelled red by mistake
    qtbot.waitUntil(lambda: "like a slip" in widget.controls.suggestion_label.value, timeout=5000)
    assert m.suggestion().doubtful == (slip,)
    assert widget.controls.suggestion_label.value.endswith("<br>1 label looks like a slip: <b>w</b> shows it")
    shown = widget.controls.suggestion_label.native  # all three lines fit: none is cut
    assert shown.heightForWidth(shown.width()) <= shown.height()
    real_keys(widget, qtbot, "w", canvas_widget(widget))
    qtbot.waitUntil(lambda: m.focus == slip, timeout=5000)
    assert widget.status.text().startswith(f"check: ROI {slip} is labelled red but looks not red (1 to check")
    real_keys(widget, qtbot, "d")  # relabelled: nothing is left to check
    qtbot.waitUntil(lambda: "like a slip" not in widget.controls.suggestion_label.value, timeout=5000)
    assert m.manual_selection[:, slip].tolist() == [False, True] and m.suggestion().doubtful == ()
    press(widget, "w")
    assert widget.status.text() == "no label looks like a slip"
    m.mark_saved()
