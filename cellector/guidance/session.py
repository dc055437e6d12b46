"""Guidance for one curation: the guide over its features, the labels carried over, the opt-in.

:class:`SessionGuidance` is composed into :class:`~cellector.manager.CellectorManager`
(its ``review_queue``, ``suggestion`` and ``carry_labels_from`` hand over to it). It keeps
the :class:`~cellector.guidance.suggest.Guide` of the current features and makes it again when
they, the excluded features or the opt-in for the functional image change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from cellector.guidance import suggest as guidance
from cellector.guidance.scale import CarriedLabels, carry

if TYPE_CHECKING:  # the curation it serves, by type only: guidance reads nothing itself
    from cellector.curation.selection import SelectionState

__all__ = ["SessionGuidance"]


class SessionGuidance:
    """What guided review knows of one curation besides its labels.

    Parameters
    ----------
    state : SelectionState
        The curation: its features, labels and excluded features.
    """

    def __init__(self, state: SelectionState) -> None:
        self.state = state
        #: Let features of the functional image guide too (off: red evidence decides)
        self.with_functional = False
        #: Labels of earlier sessions that seed the fit (:meth:`carry_from`)
        self.carried: CarriedLabels | None = None
        self._guide: tuple[tuple, guidance.Guide] | None = None

    def guide(self) -> guidance.Guide:
        """Return the guide of the current features (made again when they or the options change)."""
        s = self.state
        key = (tuple(s.exclude_features), self.with_functional, [(k, id(v)) for k, v in s.features.items()])
        if self._guide is None or self._guide[0] != key:
            self._guide = (key, guidance.Guide(s.features, s.exclude_features, self.with_functional))
        return self._guide[1]

    def review_queue(self) -> np.ndarray:
        """Return the unlabelled ROIs, most informative first."""
        return self.guide().review_queue(self.state.manual_label, self.state.manual_label_active, self.carried)

    def suggestion(self) -> guidance.Suggestion | None:
        """Return the cutoffs fitted to the labels (and the carried ones), with their estimate."""
        return self.guide().suggest(self.state.manual_label, self.state.manual_label_active, self.carried)

    def assess(self, selected: np.ndarray | None = None) -> guidance.Estimate | None:
        """Return how good ``selected`` (default: the current selection) is, by the model fitted to the labels."""
        s = self.state
        chosen = s.compute_idx_selected() if selected is None else selected
        return self.guide().assess(s.manual_label, s.manual_label_active, chosen, self.carried)

    def record(self) -> dict | None:
        """Return the current selection's estimate as saved in ``cellector.json`` (None: too few labels)."""
        e = self.assess()
        if e is None:
            return None
        return {
            "precision": round(e.estimated_precision, 4),
            "recall": round(e.estimated_recall, 4),
            "f1": round(e.estimated_f1, 4),
            "f1_margin": round(e.f1_margin, 4),
            "labels": e.n_labels,
            "carried": 0 if self.carried is None else len(self.carried),
        }

    def carry_from(self, others: Iterable[SelectionState]) -> int:
        """Seed the fit with the manual labels of ``others`` (replacing any carried before); returns how many."""
        carried = None
        for other in others:
            more = carry(other.features, other.manual_label, other.manual_label_active, other.exclude_features, True)
            carried = more if carried is None else carried.merge(more)
        self.carried = carried
        return 0 if carried is None else len(carried)
