"""The dock: feature cards, summary, buttons; coordinates CellectorManager <-> napari.

The widget never mutates state arrays: it calls the manager's commands and
re-renders on the manager's signals (so a criterion set from the console moves
the slider too).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from qtpy.QtWidgets import (
    QLabel,
    QProgressBar,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from cellector.manager import CellectorManager
from cellector_gui._dock.actions import CurationActions
from cellector_gui._dock.exports import ExportActions
from cellector_gui._dock.loader import SessionLoader
from cellector_gui._dock.saving import SaveActions
from cellector_gui._dock.study import StudyController
from cellector_gui._viewer.bindings import ViewerBindings
from cellector_gui._viewer.layers import SessionLayers, processor
from cellector_gui._viewer.overlay import RoiOverlay
from cellector_gui._widgets.bounds import Bounds
from cellector_gui._widgets.cards import CardsPanel
from cellector_gui._widgets.colorbar import ColorBar
from cellector_gui._widgets.controls import DockControls, ReferenceRow
from cellector_gui._widgets.focus import FocusPanel
from cellector_gui._widgets.guidance_view import GuidanceView
from cellector_gui._widgets.text import summary_html

__all__ = ["DOCK_WIDTH", "CellectorWidget"]

#: The dock's width in pixels, whatever it shows: the canvas never shrinks when an ROI
#: gets focus, and at 1366 x 768 the canvas keeps two thirds of the screen.
DOCK_WIDTH = 440


class CellectorWidget(QWidget):
    """Curation dock for one session.

    Parameters
    ----------
    viewer : napari.Viewer
        The viewer to draw into.
    manager : CellectorManager, optional
        The state to show; can be attached later with :meth:`set_manager`.
    """

    def __init__(self, viewer: Any, manager: CellectorManager | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.manager: CellectorManager | None = None
        self.layers: SessionLayers | None = None
        self.show_mode = "all"
        #: what the user does to ROIs and the view (the key map points at its methods)
        self.roi_actions = CurationActions(self, self)
        #: Save, Save figure, and the unsaved-changes question
        self.saving = SaveActions(self, self)
        self.exports = ExportActions(self, self)
        #: the key map, the click and the window filters while a session is shown
        self.bindings = ViewerBindings(self)
        self.loader = SessionLoader(self)
        #: many sessions in one window (nothing until build_window is given a study)
        self.study = StudyController(self)
        #: the suggested cutoffs: ghost lines on the cards and their promise in words
        self.guidance = GuidanceView(self)
        self._build()
        if manager is not None:
            self.set_manager(manager)

    # ------------------------------------------------------------------ construction

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.banner, self.summary, self.status = _labels(self)
        self.reference_row = ReferenceRow()
        self.reference_row.combo.changed.connect(self._on_reference_combo_changed)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.controls = DockControls()
        self._connect_controls()
        self.colorbar = ColorBar(self)
        self.focus_panel = FocusPanel(self)
        self.cards_scroll = CardsPanel(self._on_card_bounds_edited, self)
        self.cards = self.cards_scroll.cards  # name -> FeatureCard
        self.cards_box, self.cards_layout = self.cards_scroll.box, self.cards_scroll.box_layout
        self.help_label = self.cards_scroll.help_label
        for part in (self.banner, self.reference_row.native, self.summary, self.status, self.progress):
            layout.addWidget(part)
        layout.addWidget(self.controls.native)
        layout.addWidget(self.colorbar)
        layout.addWidget(self.focus_panel)
        layout.addWidget(self.cards_scroll, 1)
        self.setFixedWidth(DOCK_WIDTH)
        # the cards want every pixel of height; napari squeezes docks that do not say so
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self._set_enabled(False)

    def _connect_controls(self) -> None:
        c, a = self.controls, self.roi_actions
        c.save_button.clicked.connect(self.save)
        c.undo_button.clicked.connect(a.undo)
        c.redo_button.clicked.connect(a.redo)
        c.clear_button.clicked.connect(a.clear_focused)
        c.export_button.clicked.connect(self._on_export_button_clicked)
        c.clear_all_button.clicked.connect(a.clear_all)
        c.guided_button.clicked.connect(self._on_guided_button_clicked)
        c.apply_button.clicked.connect(a.apply_suggestion)
        c.color_combo.changed.connect(self._on_color_combo_changed)
        c.show_combo.changed.connect(self._on_show_combo_changed)
        c.outline_box.changed.connect(self._on_outline_toggled)

    def _set_enabled(self, on: bool) -> None:
        self.controls.enabled = on

    # ------------------------------------------------------------------ attaching a session

    def set_manager(self, manager: CellectorManager) -> None:
        """Show ``manager``'s session: layers (those of a session shown already are reused), cards, bindings."""
        if self.manager is not None:
            self.leave_session()
        self.manager = manager
        rp = processor(manager)
        self.roi_actions.start_session(rp.rois.centroids("median"))  # guided review starts afresh
        if self.layers is None:
            self.layers = SessionLayers(self.viewer, manager)
            self.layers.on_contrast(self._on_contrast_changed)
        else:
            self.layers.retarget(manager)
        self.layers.set_style(
            color_by=self.controls.color_combo.value, show=self.show_mode, outline=self.controls.outline_box.value
        )
        self.cards_scroll.follow(manager)
        self.controls.set_features(list(self.cards))
        for signal, slot in self._signal_slots(manager):
            signal.connect(slot)
        self.bindings.bind()
        self._set_enabled(True)
        self.guidance.offer(None, None)  # an offer belongs to one session
        self.refresh()
        self._update_title()
        self.reference_row.fill(rp.session)
        self.focus_panel.set_manager(manager)
        self._on_contrast_changed()
        session_messages = rp.session.messages if rp.session is not None else []
        notes = manager.notes + session_messages
        ready = f"ready: {manager.num_rois} ROIs, {len(manager.features)} features"
        self.show_message(" · ".join(notes) if notes else ready)

    def leave_session(self) -> None:
        """Stop showing the session (its cards, its signals) but keep the layers and keys for the next one."""
        if self.manager is not None:
            for signal, slot in self._signal_slots(self.manager):
                signal.disconnect(slot)
        self._set_enabled(False)
        self.cards_scroll.unfollow()
        self.controls.set_features([])
        self.focus_panel.set_manager(None)
        self.manager = None

    def _on_manager_features_changed(self, _name: str) -> None:
        """Offer colouring by a feature added from a script (its card follows the manager itself)."""
        self.controls.set_features(list(self.cards))
        self.refresh()

    def set_banner(self, text: str | None) -> None:
        """Show ``text`` above the cards until replaced (None hides the banner)."""
        self.banner.setText(text or "")
        self.banner.setVisible(bool(text))

    def _on_reference_combo_changed(self, key: str | None) -> None:
        session = self.manager.roi_processor.session if self.manager is not None else None
        if key and session is not None and key != session.reference_key:
            self.loader.reopen(reference_key=key)

    @property
    def state(self) -> CellectorManager:
        """The manager of the session shown (only while one is attached: the dock's one life)."""
        if self.manager is None:
            raise RuntimeError("no session is attached to the dock")
        return self.manager

    @property
    def source(self) -> tuple[Any, dict] | None:
        """The (path, options) the session was opened from."""
        return self.loader.source

    def open(self, path: Any, options: dict | None = None, **how: Any) -> None:
        """Open a suite2p folder (or a Session read already) in this dock; see :class:`SessionLoader`."""
        self.loader.open(path, options or {}, **how)

    def detach(self) -> None:
        """Forget the session: bindings, cards, the layers this dock added."""
        self.unbind()
        self.leave_session()
        if self.layers is not None:
            self.layers.close()
            self.layers = None

    def _signal_slots(self, m: CellectorManager) -> list[tuple[Any, Callable]]:
        """Return the manager's signals and the dock's slots that follow them."""
        return [
            (m.criteria_changed, self._on_manager_criteria_changed),
            (m.selection_changed, self._on_manager_selection_changed),
            (m.manual_changed, self._on_manager_manual_changed),
            (m.dirty_changed, self._on_manager_dirty_changed),
            (m.features_changed, self._on_manager_features_changed),
        ]

    def unbind(self) -> None:
        """Restore the viewer's key bindings and mouse callbacks as they were."""
        self.bindings.unbind()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.study.close()
        self.unbind()
        super().closeEvent(event)

    # ------------------------------------------------------------------ rendering

    def refresh(self) -> None:
        """Re-render the summary from the manager (the layers and the cards follow it themselves)."""
        self._update_summary(self.state.compute_idx_selected())

    def _update_summary(self, selected: np.ndarray) -> None:
        self.summary.setText(summary_html(self.state, selected))
        self._update_undo_buttons()

    def _update_undo_buttons(self) -> None:
        m, c = self.state, self.controls
        c.undo_button.enabled, c.redo_button.enabled = m.can_undo, m.can_redo
        c.undo_button.tooltip = f"undo {m.undo_text} (Ctrl+Z)" if m.can_undo else "nothing to undo (Ctrl+Z)"
        c.redo_button.tooltip = f"redo {m.redo_text} (Ctrl+Shift+Z)" if m.can_redo else "nothing to redo (Ctrl+Shift+Z)"

    def _update_title(self) -> None:
        root = self.manager.root_dir if self.manager is not None else None
        title = f"cellector — {root}" if root is not None else "cellector"
        if self.manager is not None and self.manager.dirty:
            title += " *"
        self.viewer.title = title  # napari's window follows the viewer's title

    @property
    def overlay(self) -> RoiOverlay | None:
        """The ROI overlay of the session shown (None before one is attached)."""
        return None if self.layers is None else self.layers.overlay

    @property
    def roi_layer(self) -> Any:
        """The napari layer showing the ROIs (None before a session is attached)."""
        return None if self.layers is None else self.layers.layer

    def show_message(self, text: str) -> None:
        """Show a one-line message in the dock's status line and napari's status bar."""
        self.status.setText(text)
        self.status.setToolTip(text)  # the whole message, when the line is cut
        self.viewer.status = text

    # ------------------------------------------------------------------ manager -> view

    def _on_manager_criteria_changed(self, _name: str) -> None:
        self.guidance.criteria_changed()  # an offered set of cutoffs is withdrawn once the session has its own

    def _on_manager_selection_changed(self) -> None:
        self.refresh()
        self.focus_panel.refresh_values()

    def _on_manager_manual_changed(self, _index: object) -> None:
        self.guidance.labels_changed()  # fitting takes a while with hundreds of labels: once per burst

    def _on_manager_dirty_changed(self, _dirty: bool) -> None:
        self._update_title()
        self.study.refresh_current(read=False)  # "changed" in the sessions panel, without reading the folder

    # ------------------------------------------------------------------ view -> manager

    def _on_card_bounds_edited(self, name: str, bounds: Bounds, final: bool) -> None:
        self.state.update_criteria(name, bounds, coalesce=True)
        if final:
            self.state.end_coalescing()
            self.roi_layer.refresh()  # the layer-list thumbnail, skipped while dragging

    def _on_contrast_changed(self) -> None:
        if self.layers is not None:
            self.focus_panel.set_limits(*self.layers.crop_limits())

    def _on_color_combo_changed(self, color_by: str) -> None:
        if self.layers is not None:
            self.layers.set_style(color_by=color_by)
            by_feature = color_by if self.manager is not None and color_by in self.manager.features else None
            self.colorbar.show_range(by_feature, self.layers.color_limits)

    def _on_show_combo_changed(self, mode: str) -> None:
        self.show_mode = mode
        if self.layers is not None:
            self.layers.set_style(show=mode)

    def _on_outline_toggled(self, on: bool) -> None:
        if self.layers is not None:
            self.layers.set_style(outline=on)

    def _on_export_button_clicked(self) -> None:
        self.exports.show_menu(self.controls.export_button.native)

    def save_figure(self) -> list[Path]:
        """Save the report figure (asks where); see :meth:`SaveActions.save_figure`."""
        return self.saving.save_figure()

    def _on_guided_button_clicked(self) -> None:
        self.roi_actions.guided_next()

    # ------------------------------------------------------------------ saving and closing

    def save(self) -> Path | None:
        """Save the whole state (:meth:`SaveActions.save`); returns the folder, or None when not saved."""
        folder = self.saving.save()
        self.study.refresh_current()
        return folder

    # ------------------------------------------------------------------ a study (StudyController)

    @property
    def sessions(self) -> list[Path]:
        """The study's sessions, in panel order (empty when one session is open)."""
        return self.study.sessions

    def next_session(self) -> bool:
        """Open the next session of the study in this window (asks about unsaved changes first)."""
        return self.study.next_session()

    def previous_session(self) -> bool:
        """Open the previous session of the study in this window."""
        return self.study.previous_session()

    def open_session(self, index: int) -> bool:
        """Open session ``index`` of the study in this window; False when it was not opened."""
        return self.study.open_session(index)

    def confirm_close(self) -> bool:
        """Return True when the window may close (asks to save unsaved changes)."""
        return self.saving.confirm_leave()


def _labels(dock: QWidget) -> tuple[QLabel, QLabel, QLabel]:
    """Return the dock's banner (hidden until a note), its two-line summary and its one-line status."""
    banner = QLabel("", dock)
    banner.setWordWrap(True)
    banner.setStyleSheet("QLabel { background: #5c4400; color: white; padding: 4px; border-radius: 3px; }")
    banner.setVisible(False)
    summary = QLabel("no session loaded", dock)
    summary.setWordWrap(True)
    summary.setMinimumHeight(2 * dock.fontMetrics().lineSpacing() + 4)  # two lines, always
    status = QLabel("", dock)
    # one line whatever the text: the dock below never moves as messages change
    status.setWordWrap(False)
    status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    return banner, summary, status
