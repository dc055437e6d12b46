"""Guided curation: which ROI to label next, cutoffs fitted to the labels, and how far to trust them.

The model (:mod:`cellector.guidance.model`) gives every ROI a probability ``p`` of being
red, fitted to the curator's labels with a prior learnt from the session's unlabelled
ROIs. Here it becomes what the curator sees.

The suggestion
--------------
The fitted probabilities (labelled ROIs count as what they were labelled) are a soft
ground truth. The suggested criteria are the single cutoff, on one feature and either
side, whose selection (labels overriding, as in the window) has the highest expected F1
under ``p``: the cards show one bound the user can see and drag. The same ``p`` gives the
suggestion's own estimate: expected true and false positives and false negatives, hence
precision, recall and F1, with an interval from the uncertainty of the fitted weights
(draws from the Laplace approximation of the posterior) and of the counts
(:mod:`cellector.guidance.cutoffs`). Labels that the fit finds likely to be slips (a chance
of at least :data:`DOUBT`) are named for a second look, since a label overrides every
cutoff.

The review queue
----------------
Until both kinds of label exist, the extremes of the prior score come first (the
brightest ROI is red and the dimmest is not, whether red cells are 5 % or 60 % of the
ROIs). Then the ROIs whose decision is least certain come first (the fitted probability
nearest the F1-optimal boundary, ``p = F1 / 2``), except that every
:data:`AUDIT_EVERY`-th label goes to an audit far from the boundary: on alternate sides
of the cutoff, the ROI that some feature most strongly contradicts (a red cell the model
is blind to, or a false one), which catches an early mistake. A labelled ROI is never
offered again.

Red evidence decides: features of the functional (green) image, :data:`FUNCTIONAL`,
take part in neither unless asked for (``functional=True``). Labels of earlier sessions
(:class:`CarriedLabels`, made with :func:`carry`) can seed the fit.

:class:`Guide` keeps what it computed for one session's features, so the window can ask
after every label; :func:`suggest` and :func:`review_queue` are the same for one call.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from cellector.guidance.cutoffs import Rule, best_cutoff, expected_scores, f1_margin
from cellector.guidance.model import (
    Fit,
    Prepared,
    fit,
    label_doubt,
    prepare,
)
from cellector.guidance.scale import CarriedLabels

__all__ = ["AUDIT_EVERY", "DOUBT", "Estimate", "Guide", "Suggestion", "review_queue", "suggest"]

#: Every this many labels, the queue offers an audit instead of the most uncertain ROI.
AUDIT_EVERY = 5

#: A label is offered for a second look when the fit puts at least this chance on it being a slip.
DOUBT = 0.3


@dataclass(frozen=True)
class Estimate:
    """How good a selection is, by the model fitted to the labels: what a suggestion says of its own.

    Attributes
    ----------
    estimated_red : float
        Expected number of red ROIs in the session.
    estimated_precision, estimated_recall, estimated_f1 : float
        Expected precision, recall and F1 of the selection.
    f1_margin : float
        Half-width of the interval around ``estimated_f1``.
    n_labels : int
        The active manual labels the fit was made on.
    """

    estimated_red: float
    estimated_precision: float
    estimated_recall: float
    estimated_f1: float
    f1_margin: float
    n_labels: int

    def describe(self) -> str:
        """Return ``"estimated precision 0.81, recall 0.80 (± 0.06)"``."""
        return (
            f"estimated precision {self.estimated_precision:.2f}, recall {self.estimated_recall:.2f} "
            f"(± {self.f1_margin:.2f})"
        )


@dataclass(frozen=True)
class Suggestion:
    """Cutoffs fitted to the manual labels, with their own estimate of how good they are.

    Attributes
    ----------
    criteria : dict
        Every feature -> ``(min|None, max|None)``; the rule's bound, None elsewhere.
    rule : Rule
        The suggested bound.
    n_labels : int
        The active manual labels it was fitted to (carried labels not counted).
    agreement : int
        How many of those labels the suggested cutoff alone gets right.
    estimated_red : float
        Expected number of red ROIs in the session.
    estimated_precision, estimated_recall, estimated_f1 : float
        Expected precision, recall and F1 of the selection the suggestion gives (cutoff,
        then manual labels), under the fitted model.
    f1_margin : float
        Half-width of the interval around ``estimated_f1`` (the true F1 fell inside it in
        about four cases of five on the benchmark's sessions, docs/cutoffs.md).
    carried : int
        Labels carried over from earlier sessions that took part.
    doubtful : tuple of int
        Labelled ROIs that the fit says may be slips (a chance of at least :data:`DOUBT`),
        most doubtful first: worth a second look, since a label overrides every cutoff.
    """

    criteria: dict[str, tuple[float | None, float | None]]
    rule: Rule
    n_labels: int
    agreement: int
    estimated_red: float
    estimated_precision: float
    estimated_recall: float
    estimated_f1: float
    f1_margin: float
    carried: int = 0
    doubtful: tuple[int, ...] = ()

    @property
    def f1_interval(self) -> tuple[float, float]:
        """The interval ``estimated_f1 ± f1_margin``, within [0, 1]."""
        return max(0.0, self.estimated_f1 - self.f1_margin), min(1.0, self.estimated_f1 + self.f1_margin)

    def cutoffs_text(self) -> str:
        """Return the cutoff in words, e.g. ``"dot_product >= 87.3"``."""
        return " and ".join(f"{n} {'>=' if s == 'min' else '<='} {c:.4g}" for n, s, c in self.rule.bounds)

    def describe(self) -> str:
        """Return the suggestion in a biologist's words.

        For example ``"dot_product >= 87.3: about 180 red cells · estimated precision 0.95,
        recall 0.90 (± 0.05), from 12 labels"``.
        """
        carried = f" and {self.carried} carried over" if self.carried else ""
        return (
            f"{self.cutoffs_text()}: about {round(self.estimated_red)} red cells · {self.estimate.describe()}, "
            f"from {self.n_labels} label{'' if self.n_labels == 1 else 's'}{carried}{self.doubt_text()}"
        )

    @property
    def estimate(self) -> Estimate:
        """What the suggestion promises, as an :class:`Estimate` (the same numbers)."""
        return Estimate(
            self.estimated_red,
            self.estimated_precision,
            self.estimated_recall,
            self.estimated_f1,
            self.f1_margin,
            self.n_labels,
        )

    def doubt_text(self) -> str:
        """Return ``" · check the labels of ROIs 12, 40"`` when some labels look like slips, else ``""``."""
        if not self.doubtful:
            return ""
        many = len(self.doubtful) > 1
        return f" · check the label{'s' if many else ''} of ROI{'s' if many else ''} " + ", ".join(
            str(i) for i in self.doubtful
        )


def _both_kinds(label: np.ndarray, active: np.ndarray, carried: CarriedLabels | None) -> bool:
    """Whether the labels (this session's and any carried over) hold a red and a non-red one."""
    red = np.any(active & label) or (carried is not None and bool(carried.labels.any()))
    non = np.any(active & ~label) or (carried is not None and bool((~carried.labels).any()))
    return bool(red and non)


def _estimate(f: Fit, label: np.ndarray, active: np.ndarray, decided: np.ndarray) -> Estimate:
    """Return what the selection ``decided`` (labels overriding) gives under the fit."""
    selected = np.where(active, label, decided)
    red, precision, recall, f1 = expected_scores(selected, f.p)
    return Estimate(red, precision, recall, f1, f1_margin(f, selected, active), int(active.sum()))


def _doubtful(f: Fit, label: np.ndarray, active: np.ndarray) -> tuple[int, ...]:
    """Return the labelled ROIs whose label the fit doubts (at least :data:`DOUBT`), most doubtful first."""
    idx = np.flatnonzero(active)
    doubt = label_doubt(f, label, active)
    keep = doubt >= DOUBT
    return tuple(int(i) for i in idx[keep][np.lexsort((idx[keep], -doubt[keep]))])


# --------------------------------------------------------------------------- review order


def _extremes(score: np.ndarray, label: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Unlabelled ROIs by the prior score: the kind still missing first (both: top and bottom in turn)."""
    pos = np.flatnonzero(~active)
    order = pos[np.lexsort((pos, -score[pos]))]  # highest score first, ties to the lower index
    if np.any(active & label):
        return order[::-1]  # a red one is known: look for a non-red one at the bottom
    if np.any(active & ~label):
        return order
    out = np.empty_like(order)
    half = (order.size + 1) // 2
    out[0::2] = order[:half]
    out[1::2] = order[::-1][: order.size - half]
    return out


def _audit(f: Fit, rule: Rule, pos: np.ndarray, rejected_side: bool) -> int:
    """Return the unlabelled ROI whose strongest dissenting feature most contradicts the suggested cutoff.

    On the rejected side: the ROI that some feature (oriented by the fitted model) ranks
    highest, i.e. a red cell the model may be blind to; on the selected side, the one some
    feature ranks lowest. The side alternates; an empty side gives the other.
    """
    prepared = f.prepared
    decided = rule.predict(prepared.features, pos)
    side = ~decided if rejected_side else decided
    if not side.any():
        side = ~side
    ranks = prepared.ranks[pos] * (f.say >= 0) + (1 - prepared.ranks[pos]) * (f.say < 0)  # high = says red
    dissent = ranks.max(axis=1) if rejected_side else 1 - ranks.min(axis=1)
    dissent = np.where(side, dissent, -np.inf)
    return int(pos[np.lexsort((pos, -dissent))[0]])


def _nearest_first(f: Fit, rule: Rule, f1: float, pos: np.ndarray) -> np.ndarray:
    """Unlabelled ROIs by how uncertain their decision is, taking the two sides of the cutoff in turn.

    Uncertainty is the distance of the fitted probability's logit from the F1-optimal
    boundary ``p = F1 / 2``. The most uncertain ROI comes first; after it the two sides of
    the cutoff take turns, so a curator stepping through the queue sees ROIs just above
    and just below the cutoff, never a run of one kind only (a dim first red no longer
    keeps the queue among the non-red ROIs just above it).
    """
    boundary = np.clip(f1 / 2, 1e-6, 1 - 1e-6)  # the F1-optimal threshold of a probability is F1 / 2
    p = np.clip(f.p[pos], 1e-12, 1 - 1e-12)
    uncertain = np.abs(np.log(p / (1 - p)) - np.log(boundary / (1 - boundary)))
    kept = rule.predict(f.prepared.features, pos)
    sides = [
        pos[kept][np.lexsort((pos[kept], uncertain[kept]))],
        pos[~kept][np.lexsort((pos[~kept], uncertain[~kept]))],
    ]
    kept_first = sides[0].size and (not sides[1].size or uncertain[kept].min() <= uncertain[~kept].min())
    a, b = sides if kept_first else sides[::-1]
    out = np.empty(pos.size, np.int64)
    k = min(a.size, b.size)
    out[0 : 2 * k : 2], out[1 : 2 * k : 2] = a[:k], b[:k]
    out[2 * k :] = a[k:] if a.size > k else b[k:]
    return out


class Guide:
    """Guidance for one session's features: the suggestion and the review queue, remembering its work.

    The features are scaled and the prior learnt once; the last fit is kept for the labels
    it was made on, so asking for the queue and the suggestion after the same label fits
    once.

    Parameters
    ----------
    features : mapping of str to (N,) arrays
        The session's features.
    exclude : iterable of str
        Features not to use.
    functional : bool
        Let features of the functional image (:data:`FUNCTIONAL`) take part too.
    """

    def __init__(self, features: Mapping[str, np.ndarray], exclude: Iterable[str] = (), functional: bool = False):
        self._inputs = (features, tuple(exclude), functional)
        self.names = list(features)
        self._last: tuple[tuple, tuple[Fit, Rule, float]] | None = None

    @functools.cached_property
    def prepared(self) -> Prepared | None:
        """The scaled features and the prior (made on first use: a session without labels needs none)."""
        return prepare(*self._inputs)

    def _fitted(self, label: np.ndarray, active: np.ndarray, carried: CarriedLabels | None) -> tuple[Fit, Rule, float]:
        key = (label.tobytes(), active.tobytes(), id(carried), 0 if carried is None else len(carried))
        if self._last is None or self._last[0] != key:
            assert self.prepared is not None
            f = fit(self.prepared, label, active, carried)
            rule, f1 = best_cutoff(f, label, active)
            self._last = (key, (f, rule, f1))
        return self._last[1]

    def suggest(self, label: np.ndarray, active: np.ndarray, carried: CarriedLabels | None = None) -> Suggestion | None:
        """Return the cutoffs fitted to the labels, with their estimate (None until both kinds exist).

        Labels carried over from earlier sessions count: a seeded session has a
        suggestion before its first label.
        """
        label, active = np.asarray(label, bool), np.asarray(active, bool)
        if not _both_kinds(label, active, carried) or self.prepared is None:
            return None
        f, rule, _ = self._fitted(label, active, carried)
        decided = rule.predict(self.prepared.features)
        e = _estimate(f, label, active, decided)
        criteria: dict[str, tuple[float | None, float | None]] = {k: (None, None) for k in self.names}
        for name, side, cut in rule.bounds:
            lo, hi = criteria[name]
            criteria[name] = (cut, hi) if side == "min" else (lo, cut)
        return Suggestion(
            criteria,
            rule,
            e.n_labels,
            int(np.sum(decided[active] == label[active])),
            e.estimated_red,
            e.estimated_precision,
            e.estimated_recall,
            e.estimated_f1,
            e.f1_margin,
            0 if carried is None else len(carried),
            _doubtful(f, label, active),
        )

    def assess(
        self, label: np.ndarray, active: np.ndarray, selected: np.ndarray, carried: CarriedLabels | None = None
    ) -> Estimate | None:
        """Return how good ``selected`` is by the model fitted to the labels (None until both kinds exist).

        The same fit and numbers as :meth:`suggest`, for any selection: cutoffs the user
        dragged away from the suggestion, or copied from another session.
        """
        label, active = np.asarray(label, bool), np.asarray(active, bool)
        if not _both_kinds(label, active, carried) or self.prepared is None:
            return None
        f, _, _ = self._fitted(label, active, carried)
        return _estimate(f, label, active, np.asarray(selected, bool))

    def review_queue(self, label: np.ndarray, active: np.ndarray, carried: CarriedLabels | None = None) -> np.ndarray:
        """Return the unlabelled ROIs, most informative first (see the module docstring); ties to the lower index."""
        label, active = np.asarray(label, bool), np.asarray(active, bool)
        if self.prepared is None:
            return np.flatnonzero(~active).astype(np.int64)
        if not _both_kinds(label, active, carried):
            return _extremes(self.prepared.score, label, active).astype(np.int64)
        f, rule, f1 = self._fitted(label, active, carried)
        pos = np.flatnonzero(~active)
        n_labels = int(active.sum())
        order = _nearest_first(f, rule, f1, pos)
        if (n_labels + 1) % AUDIT_EVERY == 0 and order.size > 1:
            audit = _audit(f, rule, pos, rejected_side=(n_labels // AUDIT_EVERY) % 2 == 0)
            order = np.concatenate([[audit], order[order != audit]])
        return order.astype(np.int64)


def suggest(
    features: Mapping[str, np.ndarray],
    label: np.ndarray,
    active: np.ndarray,
    exclude: Iterable[str] = (),
    functional: bool = False,
    carried: CarriedLabels | None = None,
) -> Suggestion | None:
    """Fit cutoffs to the active manual labels (None until there is a label of each kind).

    Parameters
    ----------
    features : mapping of str to (N,) arrays
        The features.
    label, active : (N,) bool
        The manual labels (True = red) and whether each is active.
    exclude : iterable of str
        Features not to use.
    functional : bool
        Let features of the functional image (:data:`FUNCTIONAL`) take part too.
    carried : CarriedLabels, optional
        Labels of earlier sessions to seed the fit.
    """
    return Guide(features, exclude, functional).suggest(label, active, carried)


def review_queue(
    features: Mapping[str, np.ndarray],
    label: np.ndarray,
    active: np.ndarray,
    exclude: Iterable[str] = (),
    functional: bool = False,
    carried: CarriedLabels | None = None,
) -> np.ndarray:
    """Return the unlabelled ROIs, most informative first (:meth:`Guide.review_queue`)."""
    return Guide(features, exclude, functional).review_queue(label, active, carried)
