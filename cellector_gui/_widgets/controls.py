"""The dock's controls as magicgui widgets: what the user presses, picks and ticks.

No behaviour here: :class:`~cellector_gui._dock.widget.CellectorWidget` connects each
control's ``changed``/``clicked`` event to the manager's commands.
"""

from __future__ import annotations

from typing import Any

from magicgui.widgets import CheckBox, ComboBox, Container, Label, PushButton
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox, QLabel, QSizePolicy

from cellector_gui._widgets.rows import row

__all__ = ["SHOW_MODES", "DockControls", "ReferenceRow"]

SHOW_MODES = ("all", "selected", "rejected")


class ReferenceRow(Container):
    """The image the features compare each ROI with (changing it reopens the folder)."""

    def __init__(self) -> None:
        self.combo = ComboBox(
            choices=[], tooltip="the image the features compare each ROI with; changing it recomputes them"
        )
        super().__init__(widgets=[Label(value="reference image:"), self.combo], layout="horizontal", labels=False)
        self.margins = (0, 0, 0, 0)

    def fill(self, session: Any) -> None:
        """Offer the session's image keys (without emitting a change); one key only: nothing to choose."""
        keys = list(session.images) if session is not None else []
        with self.combo.changed.blocked():
            self.combo.choices = keys
            if session is not None:
                self.combo.value = session.reference_key
        self.combo.enabled = len(keys) > 1


class DockControls(Container):
    """Save/undo buttons, the view options and guided review, in three rows and a label."""

    def __init__(self) -> None:
        self.save_button = PushButton(
            text="Save", tooltip="save the curation into the suite2p folder's cellector/ (Ctrl+S)"
        )
        self.undo_button = PushButton(text="Undo", tooltip="Ctrl+Z")
        self.redo_button = PushButton(text="Redo", tooltip="Ctrl+Shift+Z")
        self.clear_button = PushButton(
            text="Clear", tooltip="clear the focused ROI's override: it follows the criteria again (u)"
        )
        self.clear_all_button = PushButton(text="Clear all", tooltip="remove every manual override (asks first)")
        self.export_button = PushButton(
            text="Export…",
            tooltip="an NWB file, suite2p-format labels (redcell_cellector.npy) or the report figure, "
            "as `cellector export` and `cellector report` write them",
        )
        self.color_combo = ComboBox(choices=[("decision", "decision")], tooltip="what the ROI colours show")
        # the combo may be narrower than a long feature name; its list shows names in full
        self.color_combo.native.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.color_combo.native.setMinimumContentsLength(8)
        self.show_combo = ComboBox(choices=[(f"show: {m}", m) for m in SHOW_MODES], tooltip="which ROIs are drawn (s)")
        # outlines by default: the red under each ROI stays visible
        self.outline_box = CheckBox(text="outline", value=True, tooltip="outlines or a light fill (k)")
        self.guided_button = PushButton(
            text="Guided review", tooltip="the unlabelled ROI whose label teaches the most (g)"
        )
        self.apply_button = PushButton(
            text="Apply suggestion", tooltip="set the cutoffs fitted to your labels (p); undo with Ctrl+Z"
        )
        self.near_box = CheckBox(text="near cutoff", tooltip="n / b visit only ROIs within 5 % of a cutoff (a)")
        self.suggestion_label = Label(value=NO_SUGGESTION)
        self.suggestion_label.native.setWordWrap(True)
        # three lines of rich text, always (the cutoff, its estimate, labels to check): nothing is cut or moves
        self.suggestion_label.native.setFixedHeight(_rich_text_height(self.suggestion_label.native, 3))
        self.suggestion_label.native.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # the dock's whole width: the words of the estimate must never be cut
        self.suggestion_label.native.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        super().__init__(
            widgets=[
                row(
                    self.save_button,
                    self.undo_button,
                    self.redo_button,
                    self.clear_button,
                    self.clear_all_button,
                    self.export_button,
                ),
                row(Label(value="colour:"), self.color_combo, self.show_combo, self.outline_box),
                row(self.guided_button, self.apply_button, self.near_box),
                self.suggestion_label,
            ],
            labels=False,
        )
        self.margins = (0, 0, 0, 0)

    def show_suggestion(self, text: str) -> None:
        """Show the suggestion's words: room for three lines always (so nothing moves), more if the dock is narrow."""
        label = self.suggestion_label.native
        self.suggestion_label.value = text
        label.setFixedHeight(max(_rich_text_height(label, 3), label.heightForWidth(label.width())))

    def set_features(self, names: list[str]) -> None:
        """Offer colouring by each feature (and by the decision), without emitting a change."""
        with self.color_combo.changed.blocked():
            self.color_combo.choices = [("decision", "decision")] + [(n, n) for n in names]
            self.color_combo.value = "decision"


NO_SUGGESTION = "label a red and a non-red ROI to get suggested cutoffs"


def _rich_text_height(label: QLabel, lines: int) -> int:
    """Height ``label`` needs for ``lines`` unwrapped lines of rich text (as its own layout measures them)."""
    text = label.text()
    label.setText("<br>".join(["<b>Xg</b>"] * lines))
    height = label.heightForWidth(10_000)
    label.setText(text)
    return height
