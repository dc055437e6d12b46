"""The feature cards: sliders, typed numbers, cutoff lines, the wheel, cards added from a script."""

import numpy as np
import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QApplication

from cellector_gui._viewer.overlay import COLORS

from .conftest import rgba_at


def test_slider_sets_criterion_and_recolours(window, qtbot):
    viewer, widget = window
    m = widget.manager
    card = widget.cards["corr_coef"]
    values = m.features["corr_coef"]
    cut = float(np.nanmedian(values))
    card.slider.setValue((cut, card.hi))  # the real superqt widget, as a drag does
    assert m.criteria["corr_coef"] == (pytest.approx(cut), None)
    sel = m.compute_idx_selected()
    assert sel.sum() == np.sum(values >= m.criteria["corr_coef"][0])
    rejected = int(np.flatnonzero(~sel & np.isin(np.arange(m.num_rois), np.unique(widget.overlay.label) - 1))[0])
    assert rgba_at(widget, rejected) == COLORS["rejected"]
    kept = int(np.flatnonzero(sel & np.isin(np.arange(m.num_rois), np.unique(widget.overlay.label) - 1))[0])
    assert rgba_at(widget, kept) == COLORS["selected"]
    # the histogram highlight follows: selected counts equal the selection
    assert card.sel_stairs.get_data().values.sum() == sel.sum()
    assert "*" in viewer.title  # dirty marker


def test_console_criterion_moves_slider(window):
    _viewer, widget = window
    card = widget.cards["phase_corr"]
    hi = (card.lo + card.hi) / 2
    widget.manager.update_criteria("phase_corr", [None, hi])
    assert card.slider.value()[1] == pytest.approx(hi, abs=1e-6)
    assert card.use_max.value and not card.use_min.value
    # a criterion outside the data range is shown clamped but kept
    widget.manager.update_criteria("phase_corr", [None, card.hi * 10])
    assert card.slider.value()[1] == pytest.approx(card.hi)
    assert widget.manager.criteria["phase_corr"] == (None, card.hi * 10)


def _wheel(target, delta=-120):
    """A mouse-wheel step over ``target`` (negative: towards the user, i.e. scroll down), as Qt delivers it."""
    from qtpy.QtCore import QPoint, QPointF
    from qtpy.QtGui import QWheelEvent

    centre = QPointF(target.width() / 2, target.height() / 2)
    event = QWheelEvent(
        centre,
        QPointF(target.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(target, event)


def test_the_wheel_over_a_card_scrolls_the_dock_and_never_moves_a_cutoff(window, qtbot):
    from cellector_gui._viewer.qt_access import fit_to_screen, main_window

    _viewer, widget = window
    top = main_window(widget)
    fit_to_screen(widget, (1366, 768))
    top.show()
    qtbot.waitExposed(top)
    bar = widget.cards_scroll.verticalScrollBar()
    assert bar.maximum() > 0  # more cards than fit
    card = widget.cards["dot_product"]
    criteria = widget.manager.criteria
    for target in (card.canvas, card.slider, card.min_box.native, card.max_box.native):
        before = bar.value()
        _wheel(target)
        assert bar.value() > before, type(target).__name__  # the dock scrolled
        bar.setValue(0)
    assert widget.manager.criteria == criteria and card.slider.value() == (card.lo, card.hi)


def test_before_any_cutoff_histograms_are_gray_like_the_canvas(window):
    _viewer, widget = window
    m = widget.manager
    assert not m.has_cutoffs
    card = widget.cards["corr_coef"]
    assert card.sel_stairs.get_data().values.sum() == 0  # nothing highlighted: every ROI is undecided
    m.update_manual_labels(4, True)  # a red label by hand is highlighted, as on the canvas
    assert card.sel_stairs.get_data().values.sum() == 1
    m.update_criteria("corr_coef", [0.0, None])
    n = int(np.sum(m.compute_idx_selected() & np.isfinite(m.features["corr_coef"])))
    assert card.sel_stairs.get_data().values.sum() == n
    m.mark_saved()


def test_one_axis_for_histogram_and_slider(window, qtbot):
    """A handle's pixel x equals the histogram's pixel x for the same value, at any card width."""
    from cellector_gui._widgets.histogram import FeatureCard

    _viewer, widget = window
    values = widget.manager.features["dot_product"]
    card = FeatureCard("dot_product", values)  # the card as the dock holds it, shown on its own
    qtbot.addWidget(card)
    card.show()
    qtbot.waitExposed(card)
    for width in (260, 900):  # narrow and wide: a fixed margin would be off by several pixels
        card.resize(width, 200)
        qtbot.waitUntil(lambda w=width: card.canvas.width() > w - 40)
        x0, x1 = card.handle_travel()
        assert x1 - x0 > width / 2  # a real travel
        for value in np.linspace(card.lo, card.hi, 7):
            assert abs(card.handle_x(value) - card.axis_x(value)) <= 2, (width, value)


def test_typed_numbers_set_the_cutoff(window):
    _viewer, widget = window
    m = widget.manager
    card = widget.cards["corr_coef"]
    card.min_box.value = 0.25  # as typing 0.25 and Enter does
    assert m.criteria["corr_coef"] == (pytest.approx(0.25), None)
    assert card.slider.value()[0] == pytest.approx(0.25) and card.use_min.value
    assert card.slider.minimum() == pytest.approx(card.lo)  # the slider's range is untouched
    card.max_box.value = 7.5  # outside the data (corr_coef <= 1): kept as typed, shown clamped
    assert m.criteria["corr_coef"] == (pytest.approx(0.25), 7.5)
    assert card.slider.value()[1] == pytest.approx(card.hi)
    card.min_box.value = 9.0  # never crosses the other bound
    assert m.criteria["corr_coef"] == (7.5, 7.5)
    assert m.undo() and m.criteria["corr_coef"] == (pytest.approx(0.25), 7.5)


def test_cutoff_lines_drag_on_the_histogram(window):
    from matplotlib.backend_bases import MouseEvent

    _viewer, widget = window
    m = widget.manager
    card = widget.cards["in_vs_out"]
    card.canvas.draw()
    to_px = card.ax.transData.transform

    def mouse(kind, value):
        x, y = to_px((value, 1))
        event = MouseEvent(kind, card.canvas, x, y, button=1)
        card.canvas.callbacks.process(kind, event)

    target = card.lo + 0.4 * (card.hi - card.lo)
    mouse("button_press_event", card.lo)  # on the min line (at the data minimum)
    mouse("motion_notify_event", target)
    mouse("button_release_event", target)
    assert m.criteria["in_vs_out"][0] == pytest.approx(target, rel=1e-2)
    assert card.slider.value()[0] == pytest.approx(target, rel=1e-2)
    assert not m._history.top.coalescing  # the drag ended as one undo step


def test_a_fast_drag_updates_the_criteria_once_per_frame(window, qtbot):
    """Drag events never queue: a burst of slider moves gives the first at once and the last one later."""
    _viewer, widget = window
    m = widget.manager
    card = widget.cards["corr_coef"]
    seen = []
    m.criteria_changed.connect(lambda name: seen.append(m.criteria[name][0]))
    values = [float(v) for v in np.linspace(card.lo, card.hi, 40)[5:25]]
    for v in values:  # as a drag faster than the throttle's 25 ms does
        card.slider.setValue((v, card.hi))
    assert seen == [pytest.approx(values[0])]
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=2000)
    assert seen[1] == pytest.approx(values[-1]) and m.criteria["corr_coef"][0] == pytest.approx(values[-1])
    card.slider.sliderReleased.emit()  # the release is the final, undoable edit
    assert m.criteria["corr_coef"][0] == pytest.approx(values[-1])


def test_a_feature_added_from_a_script_gets_its_card(window, qtbot):
    """``manager.add_feature`` from a script or napari's console: a card appears and works like the others."""
    _viewer, widget = window
    m = widget.manager
    values = np.arange(m.num_rois, dtype=float)
    m.add_feature("my_score", values)
    assert "my_score" in widget.cards and list(widget.cards)[-1] == "my_score"
    card = widget.cards["my_score"]
    assert widget.cards_layout.indexOf(card) == len(widget.cards)  # after the help and the other cards
    assert card.sel_stairs.get_data().values.sum() == 0  # gray until a cutoff, like the others
    card.slider.setValue((10.0, card.hi))  # its slider sets its criterion
    qtbot.waitUntil(lambda: m.criteria["my_score"][0] is not None, timeout=5000)
    assert m.criteria["my_score"][0] == pytest.approx(10.0, abs=0.5)
    assert "my_score" in widget.controls.color_combo.choices
    m.add_feature("my_score", values * 2)  # replaced: one card, refilled
    assert list(widget.cards).count("my_score") == 1 and widget.cards["my_score"].hi == pytest.approx(2 * card.hi)
    m.mark_saved()


def test_the_cards_follow_the_manager_themselves(qtbot, synthetic):
    """A CardsPanel with no dock around it: a cutoff, the focus and a feature set on the manager reach the cards."""
    from cellector.manager import CellectorManager
    from cellector_gui._widgets.cards import CardsPanel

    m = CellectorManager.from_folder(synthetic.root)
    edits = []
    panel = CardsPanel(lambda *args: edits.append(args))
    qtbot.addWidget(panel)
    panel.follow(m)
    assert list(panel.cards) == list(m.features)
    m.update_criteria("corr_coef", [0.4, None])  # as a script or undo does: no card sent it
    assert panel.cards["corr_coef"].slider.value()[0] == pytest.approx(0.4) and edits == []
    m.set_focus(7)
    assert panel.cards["dot_product"].focus_line.get_visible()
    m.add_feature("my_score", np.arange(m.num_rois, dtype=float))
    assert list(panel.cards)[-1] == "my_score"
    selected = m.compute_idx_selected()
    stairs = panel.cards["my_score"].sel_stairs.get_data().values
    assert stairs.sum() == pytest.approx(selected.sum())  # the new card highlights the selection
    panel.unfollow()
    m.update_criteria("corr_coef", [0.5, None])
    assert panel.cards == {} and panel.manager is None  # unfollowed: nothing left to move
