"""The canvas and the focus panel: clicks, hover, colours, the dock's size, the crops."""

import re

import numpy as np
import pytest
from qtpy.QtWidgets import QApplication, QWidget

from cellector_gui._viewer.overlay import COLORS, FILL_ALPHA

from .conftest import click, first_visible_roi, pixel_of, press, rgba_at


def test_click_flips_and_drag_does_not(window, mouse_event):
    viewer, widget = window
    m = widget.manager
    idx = first_visible_roi(widget)
    zyx = pixel_of(widget, idx)
    click(viewer, mouse_event, zyx, moved=True)
    assert not m.manual_selection[1, idx]
    click(viewer, mouse_event, zyx)
    assert m.manual_selection[:, idx].tolist() == [False, True]  # was selected, now forced off
    assert rgba_at(widget, idx)[:3] == COLORS["focus"][:3]  # focused after the click
    m.set_focus(-1)
    assert rgba_at(widget, idx) == COLORS["forced_off"]
    assert "manually rejected" in widget.status.text()
    # Shift+click looks without changing: another ROI gets the focus, nobody's decision moves
    other = first_visible_roi(widget, plane=0) if idx != first_visible_roi(widget, plane=0) else None
    before = m.manual_selection.copy(), m.compute_idx_selected().copy()
    target = idx if other is None else other
    click(viewer, mouse_event, pixel_of(widget, target), modifiers=("Shift",))
    assert m.focus == target and "not changed" in widget.status.text()
    np.testing.assert_array_equal(m.manual_selection, before[0])
    np.testing.assert_array_equal(m.compute_idx_selected(), before[1])
    # background and outside the image: nothing happens, nothing raises
    bg = np.argwhere(widget.overlay.label[0] == 0)[0]
    click(viewer, mouse_event, (0, *bg))
    click(viewer, mouse_event, (0, -50, 900))
    assert m.manual_selection[1].sum() == 1


def _hover(viewer, position):
    """Put napari's cursor over ``position`` and let napari compute its status line, as on a mouse move."""
    viewer.mouse_over_canvas = True
    viewer.cursor.position = position
    viewer.update_status_from_cursor()
    status = viewer.status
    return status["coordinates"] if isinstance(status, dict) else status


def test_hover_shows_values(window, mouse_event):
    viewer, widget = window
    m = widget.manager
    assert viewer.layers.selection.active.name == "ROIs"  # the layer napari's status line describes
    widget.resize(440, 900)
    qapp = QApplication.instance()
    widget.layout().activate()  # lay the (hidden) dock out now, as showing it would
    before = [
        w.geometry() for w in (widget.summary, widget.status, widget.controls.save_button.native, widget.cards_box)
    ]
    label = widget.overlay.label[0]
    for idx in np.unique(label[label > 0])[:8] - 1:  # hover several ROIs with long descriptions
        text = _hover(viewer, tuple(float(c) for c in pixel_of(widget, int(idx))))
        z, y, x = pixel_of(widget, int(idx))
        coords, _, described = text.partition("]: ")  # napari writes "[0, 76, 82]" (0.6.2: " [0 76 82]")
        assert [int(c) for c in re.findall(r"\d+", coords)] == [z, y, x], text
        assert described.startswith(f"ROI {idx} (plane0 #") and "corr_coef=" in described, text
        decision = m.describe_roi(int(idx)).split(":")[0].split(", ")[-1]  # first, so a cut line keeps it
        assert decision in ("selected", "not selected", "no cutoffs set") and decision in described[:40], text
        assert "[0, 0, 0" not in text and "255" not in text  # never the overlay's RGBA
        qapp.processEvents()
        widget.layout().activate()
        assert [
            w.geometry() for w in (widget.summary, widget.status, widget.controls.save_button.native, widget.cards_box)
        ] == before
    widget.show_message("a very long message " * 20)  # messages never wrap either
    qapp.processEvents()
    widget.layout().activate()
    assert [
        w.geometry() for w in (widget.summary, widget.status, widget.controls.save_button.native, widget.cards_box)
    ] == before


def _outside(widget, top):
    """The dock's visible widgets that reach outside the window (or, in the cards' scroll area, sideways out of it)."""
    from qtpy.QtCore import QPoint, QRect

    viewport = widget.cards_scroll.viewport()
    port = QRect(viewport.mapTo(top, QPoint(0, 0)), viewport.size())
    bad = []
    for w in widget.findChildren(QWidget):
        if not w.isVisible() or w.width() == 0:
            continue
        r = QRect(w.mapTo(top, QPoint(0, 0)), w.size())
        inside_scroll = viewport.isAncestorOf(w)
        fits = port.left() <= r.left() and r.right() <= port.right() if inside_scroll else top.rect().contains(r)
        if not fits:
            bad.append(f"{type(w).__name__} {w.objectName()!r} at {r.getRect()}")
    return bad


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_dock_keeps_its_width_and_nothing_leaves_the_window(window, synthetic, qtbot, mouse_event, size):
    """Focus ROIs by click and by review, show the help, colour by a feature: the dock never changes width."""
    from cellector_gui._dock.widget import DOCK_WIDTH
    from cellector_gui._viewer.qt_access import fit_to_screen, main_window

    viewer, widget = window
    top = main_window(widget)
    fit_to_screen(widget, size)
    top.show()
    qtbot.waitExposed(top)

    def check(step):
        for _ in range(3):
            QApplication.processEvents()
        assert (top.width(), top.height()) == size, step  # the window never grows past the screen
        assert widget.width() == DOCK_WIDTH, step
        assert not widget.cards_scroll.horizontalScrollBar().isVisible(), step
        assert _outside(widget, top) == [], step
        for name, card in widget.cards.items():  # every number box shows its whole value
            for box in (card.min_box.native, card.max_box.native):
                edit = box.lineEdit()
                assert edit.fontMetrics().horizontalAdvance(edit.text()) <= edit.width() - 4, (step, name, edit.text())
        label = widget.controls.suggestion_label.native  # the suggestion is never cut
        assert label.heightForWidth(label.width()) <= label.height(), step

    check("opened")
    idx = first_visible_roi(widget)
    click(viewer, mouse_event, pixel_of(widget, idx))
    check("clicked an ROI")
    for key in ("n", "n", "g", "g"):
        press(widget, key)
        check(f"pressed {key}")
    truth = np.concatenate(synthetic.truth_red)
    for i in range(10):
        widget.manager.update_manual_labels(i, bool(truth[i]))
    qtbot.waitUntil(lambda: widget.controls.apply_button.enabled, timeout=5000)
    check("a suggestion shown")
    press(widget, "h")
    assert widget.help_label.isVisible()
    check("help shown")
    widget.controls.color_combo.value = "functional_dot_product"  # the longest feature name
    assert widget.colorbar.isVisible() and widget.colorbar.low.text().startswith("functional_dot_product ")
    check("coloured by a feature")
    widget.manager.mark_saved()


def test_focus_crops_use_the_canvas_contrast(window, qtbot):
    viewer, widget = window
    m = widget.manager
    m.set_focus(3)
    qtbot.waitUntil(lambda: widget.focus_panel.shown == 3, timeout=5000)  # drawn after the canvas
    reference = viewer.layers["reference"]
    image = widget.focus_panel.axes[0].images[0]
    assert image.get_clim() == pytest.approx(tuple(reference.contrast_limits))
    reference.contrast_limits = (reference.contrast_limits[0], reference.contrast_limits[1] * 2)
    image = widget.focus_panel.axes[0].images[0]
    assert image.get_clim() == pytest.approx(tuple(reference.contrast_limits))  # follows the user's contrast


def test_colour_by_feature_outline_and_show_modes(window):
    from matplotlib.colors import LinearSegmentedColormap, to_rgb

    _viewer, widget = window
    m = widget.manager
    label = widget.overlay.label[0]
    visible = np.unique(label[label > 0]) - 1
    v = m.features["corr_coef"]
    lo, hi = np.nanpercentile(v, [1, 99])  # the colour range: 1st to 99th percentile
    widget.controls.color_combo.value = "corr_coef"
    # cyan -> green -> yellow: bright against the red reference at both ends
    cmap = LinearSegmentedColormap.from_list("t", [to_rgb("#00d8ff"), to_rgb("#7dff6a"), to_rgb("#ffe000")])
    for idx in visible[:10]:
        expected = (np.asarray(cmap(np.clip((v[idx] - lo) / (hi - lo), 0, 1))) * 255).astype(np.uint8)
        assert rgba_at(widget, idx) == (*expected[:3], 200)
    assert widget.colorbar.low.text() == f"corr_coef {lo:.4g}" and widget.colorbar.high.text() == f"{hi:.4g}"
    widget.controls.color_combo.value = "decision"
    # outline: a pixel whose four neighbours are in the same ROI goes transparent, the edge stays
    inner = (
        (label[1:-1, 1:-1] > 0)
        & (label[1:-1, 1:-1] == label[:-2, 1:-1])
        & (label[1:-1, 1:-1] == label[2:, 1:-1])
        & (label[1:-1, 1:-1] == label[1:-1, :-2])
        & (label[1:-1, 1:-1] == label[1:-1, 2:])
    )
    y, x = np.argwhere(inner)[0] + 1
    assert widget.controls.outline_box.value and widget.roi_layer.data[0, y, x, 3] == 0  # outlines by default
    ys, xs = np.nonzero(label == label[y, x])
    assert widget.roi_layer.data[0, ys[0], xs[0], 3] > 0  # the topmost pixel is on the outline
    widget.controls.outline_box.value = False
    assert 0 < widget.roi_layer.data[0, y, x, 3] <= FILL_ALPHA  # a light fill: the red shows through
    # show only selected: rejected ROIs disappear
    m.update_criteria("corr_coef", [float(np.nanmedian(v)), None])
    rejected = [i for i in visible if not m.compute_idx_selected()[i]][:5]
    assert rejected and all(rgba_at(widget, i)[3] > 0 for i in rejected)
    widget.controls.show_combo.value = "selected"
    assert all(rgba_at(widget, i)[3] == 0 for i in rejected)


def test_focus_panel_shows_the_evidence(window, qtbot):
    _viewer, widget = window
    m = widget.manager
    panel = widget.focus_panel
    assert panel.shown == -1 and "no ROI in focus" in panel.values.text()
    m.set_focus(7)
    assert panel.shown == -1  # drawn once the event loop runs, after the canvas's repaint
    qtbot.waitUntil(lambda: panel.shown == 7, timeout=5000)
    ref_img, func_img = (ax.images[0].get_array() for ax in panel.axes)
    z, y0, y1, x0, x1 = panel.crop_box(7)
    assert y0 >= 0 and x0 >= 0  # ROI 7 lies inside the frame
    np.testing.assert_array_equal(ref_img, m.roi_processor.reference[z, y0:y1, x0:x1])
    np.testing.assert_array_equal(func_img, m.roi_processor.functional_reference[z, y0:y1, x0:x1])
    assert all(ax.collections for ax in panel.axes)  # the outline is drawn on both crops
    assert panel.values.text().startswith("ROI 7 (plane0 #7):") and "no cutoffs set" in panel.values.text()
    m.flip(7)
    assert "manually rejected" in panel.values.text()


def test_every_crop_is_square_and_centred_even_at_the_frame_edge(window, qtbot):
    """An ROI at the frame's edge gets the same square, centred crop as the others (they shrank there)."""
    _viewer, widget = window
    m, panel = widget.manager, widget.focus_panel
    rois = m.roi_processor.rois
    ly = rois.shape[1]
    edge = min(range(m.num_rois), key=lambda i: min(np.median(rois.roi(i)[1]), np.median(rois.roi(i)[2])))
    z, y0, y1, x0, x1 = panel.crop_box(edge)
    assert y0 < 0 or x0 < 0  # the box reaches past the frame
    panel.show_roi(edge)
    panel.canvas.draw()
    sizes = set()
    images = (m.roi_processor.reference, m.roi_processor.functional_reference)
    for ax, image in zip(panel.axes, images, strict=True):
        crop = np.ma.filled(ax.images[0].get_array().astype(float), np.nan)  # matplotlib masks NaN
        assert crop.shape == (y1 - y0, x1 - x0) and crop.shape[0] == crop.shape[1]  # square
        inside = image[z, max(y0, 0) : y1, max(x0, 0) : x1]
        np.testing.assert_array_equal(crop[max(-y0, 0) :, max(-x0, 0) :][: inside.shape[0], : inside.shape[1]], inside)
        assert np.isnan(crop[0, 0])  # past the frame: shown empty
        sizes.add(tuple(np.round(ax.get_position().bounds[2:], 3)))
    middle = int(np.argmin([abs(np.median(rois.roi(i)[1]) - ly / 2) for i in range(m.num_rois)]))
    panel.show_roi(middle)
    panel.canvas.draw()
    sizes |= {tuple(np.round(ax.get_position().bounds[2:], 3)) for ax in panel.axes}
    assert len(sizes) == 1  # every crop is drawn at one size
