"""Guided curation: which ROI to look at next, and cutoffs fitted to the curator's own labels.

The curator labels a few ROIs (manual labels, True = red). From those labels:

- :func:`suggest` fits the monotone rule that reproduces them best: one cutoff on one
  feature (``feature >= t`` or ``feature <= t``), or two cutoffs on two features when
  that agrees with more labels in leave-one-out. Cutoffs sit half-way between the two
  labelled values they separate. NaN fails a bound, as in the selection. How well the
  rule generalises is its leave-one-out agreement: refitted without each label in turn,
  how many of the left-out labels does it get right.
- :func:`review_queue` orders the unlabelled ROIs, most informative first. Before both
  kinds of label exist it bisects the range of the strongest feature (so the first few
  looks spread over it and find both kinds); afterwards it favours ROIs closest to the
  fitted cutoffs (in rank) and those on which the best rules of different features
  disagree. Deterministic: ties go to the lower index.

Red evidence decides: features of the functional (green) image, :data:`FUNCTIONAL`,
take part in neither unless asked for (``functional=True``); a cutoff on the green
channel says nothing about the second fluorophore.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .registry import FUNCTIONAL_FEATURES

__all__ = ["FUNCTIONAL", "STRONGEST", "Rule", "Suggestion", "guiding_features", "review_queue", "suggest"]

#: Features computed on the functional (green) image, left out of guidance by default.
FUNCTIONAL = FUNCTIONAL_FEATURES

#: Features in the order they separated red from non-red ROIs on the genuine test sets
#: (AUC against ground truth; see docs/cutoffs.md). The first present one is bisected
#: before any label exists.
STRONGEST = ("local_contrast", "dot_product", "red_s2p", "phase_corr", "in_vs_out", "corr_coef")

Bound = tuple[str, str, float]  # (feature, "min" | "max", cutoff)

#: Up to this many labels the agreement is leave-one-out; beyond, 10-fold.
LOO_LIMIT = 40


@dataclass(frozen=True)
class Rule:
    """A conjunction of bounds; ``score`` is how many of the labels it fits got right."""

    bounds: tuple[Bound, ...]
    score: int
    margin: float

    def predict(self, features: Mapping[str, np.ndarray], index: np.ndarray | None = None) -> np.ndarray:
        """Return the rule's decision for ROIs ``index`` (all when None); NaN fails a bound."""
        n = len(next(iter(features.values())))
        out = np.ones(n if index is None else len(index), bool)
        for name, side, cut in self.bounds:
            v = features[name] if index is None else features[name][index]
            with np.errstate(invalid="ignore"):
                out &= (v >= cut) if side == "min" else (v <= cut)
        return out


@dataclass(frozen=True)
class Suggestion:
    """Cutoffs fitted to the active manual labels.

    Attributes
    ----------
    criteria : dict
        Every feature -> ``(min|None, max|None)``; the rule's bounds, None elsewhere.
    rule : Rule
        The fitted bounds.
    agreement : int
        Leave-one-out: how many labels the rule, refitted without each one, gets right.
    n_labels : int
        The active manual labels it was fitted to.
    """

    criteria: dict[str, tuple[float | None, float | None]]
    rule: Rule
    agreement: int
    n_labels: int

    def describe(self) -> str:
        """Return e.g. ``"dot_product >= 87.3: agrees with 11 of 12 of your labels"``."""
        parts = [f"{n} {'>=' if s == 'min' else '<='} {c:.4g}" for n, s, c in self.rule.bounds]
        return f"{' and '.join(parts)}: agrees with {self.agreement} of {self.n_labels} of your labels"


# --------------------------------------------------------------------------- fitting


def _cuts(values: np.ndarray, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Cutoffs half-way between consecutive labelled values (and beyond both ends), with the gaps' widths."""
    uniq = np.unique(values[np.isfinite(values)])
    if uniq.size == 0:
        return np.zeros(0), np.zeros(0)
    cuts = np.concatenate([[uniq[0] - 1.0], (uniq[:-1] + uniq[1:]) / 2, [uniq[-1] + 1.0]])
    gaps = np.concatenate([[0.0], np.diff(uniq), [0.0]]) / spread
    return cuts, gaps


def _decisions(values: np.ndarray, cuts: np.ndarray, side: str) -> np.ndarray:
    """(cuts, labels) bool: each cutoff's decision on each labelled ROI (NaN fails)."""
    with np.errstate(invalid="ignore"):
        return values[None, :] >= cuts[:, None] if side == "min" else values[None, :] <= cuts[:, None]


def _candidates(
    values: np.ndarray, labels: np.ndarray, spread: float, name: str, keep: np.ndarray | None = None
) -> list[Rule]:
    """Return the best bound of each side on one feature (``keep``: ANDed with an earlier bound's decision).

    Best: most labels right, then the widest gap between the labelled values it splits.
    """
    cuts, gaps = _cuts(values, spread)
    out: list[Rule] = []
    for side in ("min", "max"):
        sel = _decisions(values, cuts, side)
        if keep is not None:
            sel &= keep[None, :]
        score = (sel == labels[None, :]).sum(1)
        if score.size:
            k = int(np.lexsort((-gaps, -score))[0])
            out.append(Rule(((name, side, float(cuts[k])),), int(score[k]), float(gaps[k])))
    return out


def _spread(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return 1.0
    q1, q3 = np.percentile(finite, [25, 75])
    return float(q3 - q1) or float(np.ptp(finite)) or 1.0


def _prior(rule: Rule) -> int:
    """How strong the rule's weakest feature is known to be (0 = strongest; other features last)."""
    return max(STRONGEST.index(n) if n in STRONGEST else len(STRONGEST) for n, _, _ in rule.bounds)


def _key(rule: Rule) -> tuple:
    # most labels right, then the fewest bounds, then the features known to be strongest
    # (with few labels many rules fit them all), then the widest gap between the labels
    return (rule.score, -len(rule.bounds), -_prior(rule), rule.margin)


def _best(rules: Iterable[Rule]) -> Rule | None:
    best = None
    for r in rules:
        if best is None or _key(r) > _key(best):
            best = r
    return best


def _fit(
    features: Mapping[str, np.ndarray], spreads: Mapping[str, float], idx: np.ndarray, labels: np.ndarray, two: bool
) -> Rule | None:
    """Return the best one-bound rule, or (``two``) the best of one or two bounds, on ROIs ``idx``."""
    singles: list[Rule] = []
    for name, v in features.items():
        singles += _candidates(v[idx], labels, spreads[name], name)
    best = _best(singles)
    if not two or best is None or best.score == labels.size:
        return best
    firsts = sorted(singles, key=_key, reverse=True)[:8]
    pairs = []
    for first in firsts:
        keep = first.predict(features, idx)
        (name1, _, _) = first.bounds[0]
        for name, v in features.items():
            if name == name1:
                continue
            # a second bound applies only to the ROIs the first one keeps
            for second in _candidates(v[idx], labels, spreads[name], name, keep):
                pairs.append(Rule(first.bounds + second.bounds, second.score, min(first.margin, second.margin)))
    return _best([best, *pairs])


def _loo(
    features: Mapping[str, np.ndarray], spreads: Mapping[str, float], idx: np.ndarray, labels: np.ndarray, two: bool
) -> int:
    """Count the labels a rule refitted without them gets right.

    Leave-one-out up to :data:`LOO_LIMIT` labels; beyond, 10 interleaved folds (the
    count means the same, and the cost stays bounded for a curator with many labels).
    """
    order = np.arange(idx.size)
    folds = [order[k::10] for k in range(10)] if idx.size > LOO_LIMIT else [order[k : k + 1] for k in order]
    right = 0
    for out in folds:
        keep = np.ones(idx.size, bool)
        keep[out] = False
        if labels[keep].all() or not labels[keep].any():
            continue  # without these labels one kind is missing: no rule to test
        rule = _fit(features, spreads, idx[keep], labels[keep], two)
        if rule is not None:
            right += int((rule.predict(features, idx[out]) == labels[out]).sum())
    return right


def guiding_features(
    features: Mapping[str, np.ndarray], exclude: Iterable[str] = (), functional: bool = False
) -> dict[str, np.ndarray]:
    """Return the features guidance uses: not ``exclude``, and not :data:`FUNCTIONAL` unless ``functional``."""
    leave = set(exclude) | (set() if functional else set(FUNCTIONAL))
    return {k: np.asarray(v, np.float64) for k, v in features.items() if k not in leave}


def suggest(
    features: Mapping[str, np.ndarray],
    label: np.ndarray,
    active: np.ndarray,
    exclude: Iterable[str] = (),
    functional: bool = False,
) -> Suggestion | None:
    """Fit cutoffs to the active manual labels (None with fewer than one label of each kind).

    Parameters
    ----------
    features : mapping of str to (N,) arrays
        The features.
    label, active : (N,) bool
        The manual labels (True = selected) and whether each is active.
    exclude : iterable of str
        Features not to use.
    functional : bool
        Let features of the functional image (:data:`FUNCTIONAL`) take part too.
    """
    use = guiding_features(features, exclude, functional)
    idx = np.flatnonzero(active)
    labels = np.asarray(label, bool)[idx]
    if not use or not labels.any() or labels.all():
        return None
    spreads = {k: _spread(v) for k, v in use.items()}
    one = _loo(use, spreads, idx, labels, False)
    two = _loo(use, spreads, idx, labels, True)
    rule = _fit(use, spreads, idx, labels, two > one)
    if rule is None:
        return None
    criteria: dict[str, tuple[float | None, float | None]] = {k: (None, None) for k in features}
    for name, side, cut in rule.bounds:
        lo, hi = criteria[name]
        criteria[name] = (cut, hi) if side == "min" else (lo, cut)
    return Suggestion(criteria, rule, max(one, two), int(idx.size))


# --------------------------------------------------------------------------- review order


def _ranks(v: np.ndarray) -> np.ndarray:
    """Ranks in [0, 1] (NaN last), for distances that compare across features."""
    order = np.argsort(np.where(np.isfinite(v), v, np.inf), kind="stable")
    r = np.empty(v.size)
    r[order] = np.arange(v.size) / max(v.size - 1, 1)
    return r


def _bisect(v: np.ndarray, label: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Unlabelled ROIs ordered to bisect the gap between labelled non-red (low) and red (high)."""
    free = ~active & np.isfinite(v)
    lo = np.max(v[active & ~label], initial=-np.inf)
    hi = np.min(v[active & label], initial=np.inf)
    inside = free & (v > lo) & (v < hi)
    pool = np.flatnonzero(inside if inside.any() else free)
    r = _ranks(v)[pool]
    mid = np.median(r) if pool.size else 0.0
    return pool[np.lexsort((pool, np.abs(r - mid)))]


def review_queue(
    features: Mapping[str, np.ndarray],
    label: np.ndarray,
    active: np.ndarray,
    exclude: Iterable[str] = (),
    functional: bool = False,
) -> np.ndarray:
    """Return the unlabelled ROIs, most informative first (see the module docstring)."""
    use = guiding_features(features, exclude, functional)
    n = len(label)
    label, active = np.asarray(label, bool), np.asarray(active, bool)
    if not use:
        return np.flatnonzero(~active)
    if not (label[active].any() and not label[active].all()):
        name = next((f for f in STRONGEST if f in use), next(iter(use)))
        first = _bisect(use[name], label, active)
        rest = np.setdiff1d(np.flatnonzero(~active), first)
        return np.concatenate([first, rest]).astype(np.int64)
    idx = np.flatnonzero(active)
    spreads = {k: _spread(v) for k, v in use.items()}
    rule = _fit(use, spreads, idx, label[idx], True)
    assert rule is not None  # both kinds are labelled
    dist = np.full(n, np.inf)
    for name, _, cut in rule.bounds:
        v = use[name]
        cut_rank = (np.sum(v < cut) - 0.5) / max(n - 1, 1)  # where the cutoff falls among the ranks
        dist = np.minimum(dist, np.abs(_ranks(v) - cut_rank))
    decision = rule.predict(use)
    disagree = np.zeros(n, bool)
    for name, v in use.items():  # another feature's best rule decides differently
        alt = _best(_candidates(v[idx], label[idx], spreads[name], name))
        if alt is not None and alt.score >= rule.score - 1:
            disagree |= alt.predict(use) != decision
    score = dist - 0.5 * disagree
    pool = np.flatnonzero(~active)
    return pool[np.lexsort((pool, score[pool]))].astype(np.int64)
