"""The model behind guided curation: a prior from the unlabelled ROIs and a robust fit to the labels.

Every red feature is put on a common scale per session (:mod:`cellector.guidance.scale`).
The probability that an ROI is red is a logistic function of the prior score (a weighted
sum of the scaled features, weights :data:`PRIOR_WEIGHTS`) and of each feature's own weight:
``P(red) = 1 / (1 + exp(-(b + c * score + d . z)))``. It is fitted to the curator's
labels by maximum a posteriori with

- a prior learnt from the session's own unlabelled ROIs: ``c`` starts at a fixed
  sharpness, ``b`` at the valley between the two modes of the prior score, found by a
  two-component Gaussian mixture over all ROIs (scikit-learn's ``GaussianMixture``: a
  well-kept implementation of exactly that), and each ``d_f`` at 0;
- label noise: a label may be wrong (rates :data:`LABEL_NOISE`), so one wrong label
  cannot move the fit anywhere. scikit-learn's ``LogisticRegression`` has neither a prior
  mean nor label noise, hence the few lines of iteratively reweighted least squares here.

How far the labels may move each ``d_f`` (:data:`WEIGHT_SDS`) and how often labels are
wrong are not fixed: the fit is averaged over them, each weighted by its Laplace
evidence, so labels that one feature separates cleanly let that feature take over. One
more model may bend each feature at its median (two hinges), for sessions whose dim red
cells make the probability fall off more slowly than a logistic.
Because the review queue picks ROIs by their features, a model of ``P(red | features)``
fitted to those labels stays unbiased.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from cellector.guidance.scale import CarriedLabels, guiding_features, median_spread, scale

__all__ = [
    "CARRIED_WEIGHT",
    "LABEL_NOISE",
    "PRIOR_WEIGHTS",
    "STRONGEST",
    "WEIGHT_SDS",
    "Fit",
    "Model",
    "Prepared",
    "fit",
    "label_doubt",
    "prepare",
]

#: The prior weight of each red feature: how well it separated red from non-red ROIs on the
#: genuine test recordings (AUC, docs/cutoffs.md). Other features start at 0; labels can raise them.
PRIOR_WEIGHTS = {
    "dot_product": 1.0,
    "local_contrast": 1.0,
    "phase_corr": 0.5,
    "corr_coef": 0.5,
    "red_s2p": 0.5,
    "in_vs_out": 0.25,
}

#: The features in the order of their prior weight (the strongest first).
STRONGEST = tuple(sorted(PRIOR_WEIGHTS, key=lambda k: -PRIOR_WEIGHTS[k]))

#: How often a label may be wrong: the fit is averaged over these rates, each weighted by how
#: well it explains the labels (a mistaken label then cannot move the fit far).
LABEL_NOISE = (0.02, 0.15)

#: Weight of one label carried over from an earlier session (a label of this session weighs 1).
CARRIED_WEIGHT = 0.5

_PRIOR_SLOPE = 3.0  # logit per unit of the prior score's robust spread
WEIGHT_SDS = (0.5, 1.5, 4.0, 10.0)  # how far labels may move each feature's own weight: averaged over
_PRIOR_SD_SLOPE = 3.0  # the overall sharpness: free
_PRIOR_SD_INTERCEPT = 2.0
_BEND_SD = 1.0  # how far labels may bend each feature at its median (the bent model's hinge weights)
_GMM_SAMPLE = 4000  # ROIs the prior's mixture is fitted on (every k-th by score)

# --------------------------------------------------------------------------- the prior


@dataclass(frozen=True)  # frozen, but the prior's centre is cached on first use
class Prepared:
    """What guidance needs of a session's features, computed once (no label involved).

    Attributes
    ----------
    features : dict of str to (N,) array
        The features guidance uses (float64).
    z : ndarray, (N, F)
        Each feature on the common scale; NaN set to 0 (the median).
    weights : ndarray, (F,)
        The prior direction: ``score = z @ weights``.
    prior_mean, prior_precision : ndarray, (F + 2,)
        The Gaussian prior of (intercept, sharpness of the score, each feature's own weight).
    score : ndarray, (N,)
        The prior score (the weighted sum the prior starts from): its extremes come first.
    ranks : ndarray, (N, F)
        Each ROI's rank in each feature, in [0, 1] (NaN ranks at the middle).
    orders : dict of str to ndarray
        Each feature's ROIs with a finite value, in ascending order of it.
    """

    features: dict[str, np.ndarray]
    z: np.ndarray
    weights: np.ndarray
    score: np.ndarray
    ranks: np.ndarray
    orders: dict[str, np.ndarray]

    @functools.cached_property
    def prior_mean(self) -> np.ndarray:
        """The prior's centre: the intercept at the valley of the prior score (learnt on first use)."""
        t = _valley(self.score)
        return np.concatenate([[-_PRIOR_SLOPE * t, _PRIOR_SLOPE], np.zeros(self.weights.size)])

    @property
    def prior_precision(self) -> np.ndarray:
        """The prior's precision at the middle width of :data:`WEIGHT_SDS`."""
        sd = np.concatenate([[_PRIOR_SD_INTERCEPT, _PRIOR_SD_SLOPE], np.full(self.weights.size, WEIGHT_SDS[1])])
        return sd**-2.0

    @property
    def names(self) -> list[str]:
        """The features, in the columns' order."""
        return list(self.features)

    @property
    def n(self) -> int:
        """Number of ROIs."""
        return self.z.shape[0]

    def design(self, z: np.ndarray | None = None) -> np.ndarray:
        """Return the model's rows ``(1, score, z, bends)`` for scaled features ``z`` (default: this session's).

        The bends are two hinges per feature at its session median, ``max(0, z - m)`` and
        ``max(0, m - z)``: only the bent model (:func:`_candidates`) uses them.
        """
        z = self.z if z is None else z
        m = self.knots[None, :]
        bends = [np.maximum(0.0, z - m), np.maximum(0.0, m - z)]
        return np.column_stack([np.ones(z.shape[0]), z @ self.weights, z, *bends])

    @functools.cached_property
    def knots(self) -> np.ndarray:
        """Each feature's median on the common scale: where the bent model may bend it."""
        return np.median(self.z, axis=0)


def _valley(score: np.ndarray) -> float:
    """Where a two-component Gaussian mixture over all ROIs' prior scores puts the boundary."""
    from sklearn.mixture import GaussianMixture

    s = np.sort(score[np.isfinite(score)])
    if s.size < 4 or s[0] == s[-1]:
        return float(np.median(s)) if s.size else 0.0
    sample = s[:: max(1, s.size // _GMM_SAMPLE)]  # evenly through the sorted values: same shape, bounded cost
    g = GaussianMixture(2, covariance_type="tied", random_state=0).fit(sample[:, None])
    m0, m1 = np.sort(g.means_[:, 0])
    var = float(g.covariances_.ravel()[0])
    w_hi = float(g.weights_[int(np.argmax(g.means_[:, 0]))])
    w_hi = min(max(w_hi, 0.02), 0.98)
    # the equal-posterior point of two Gaussians with a shared variance
    return float((m0 + m1) / 2 - var * np.log(w_hi / (1 - w_hi)) / max(m1 - m0, 1e-9))


def prepare(
    features: Mapping[str, np.ndarray], exclude: Iterable[str] = (), functional: bool = False
) -> Prepared | None:
    """Scale the guiding features and learn the prior from the unlabelled ROIs (None: no feature to use)."""
    use = guiding_features(features, exclude, functional)
    if not use:
        return None
    z = np.column_stack([scale(k, v) for k, v in use.items()])
    z = np.where(np.isfinite(z), z, 0.0)
    w = np.array([PRIOR_WEIGHTS.get(k, 0.0) for k in use])
    if not w.any():
        w = np.ones(len(use))  # features of a script's own: start from all of them alike
    w = w / w.sum()
    score = z @ w
    _, spread = median_spread(score)
    w = w / spread
    score = z @ w
    ranks = np.argsort(np.argsort(z, axis=0, kind="stable"), axis=0, kind="stable") / max(z.shape[0] - 1, 1)
    orders = {k: _ascending(v) for k, v in use.items()}
    return Prepared(use, z, w, score, ranks, orders)


def _ascending(v: np.ndarray) -> np.ndarray:
    """Return the indices of the finite values of ``v``, in ascending order of value (ties by index)."""
    finite = np.flatnonzero(np.isfinite(v))
    return finite[np.argsort(v[finite], kind="stable")]


# --------------------------------------------------------------------------- fitting


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))


@dataclass(frozen=True)
class Model:
    """One description of the labels: a logistic model on some columns of the design, fitted.

    Attributes
    ----------
    columns : ndarray of int
        Its columns of :meth:`Prepared.design` (the intercept is column 0).
    beta, covariance : ndarray
        Its coefficients (maximum a posteriori) and their Laplace covariance.
    noise : float
        The rate of wrong labels it was fitted with.
    """

    columns: np.ndarray
    beta: np.ndarray
    covariance: np.ndarray
    noise: float = 0.0

    def p(self, design: np.ndarray) -> np.ndarray:
        """Return the probability of red of each row of ``design`` (the full design's rows)."""
        return _sigmoid(design[:, self.columns] @ self.beta)


@dataclass(frozen=True)
class Fit:
    """The models fitted to the labels, averaged by how well each explains them.

    Attributes
    ----------
    prepared : Prepared
        The session's scaled features and prior.
    models : tuple of Model
        Every description of the labels that was tried.
    share : ndarray
        Each model's posterior weight (Laplace evidence times its prior weight).
    p : ndarray, (N,)
        Probability that each ROI is red, averaged over the models; labelled ROIs are what
        they were labelled.
    say : ndarray, (F,)
        Each feature's weight in the average (its sign says which side is red).
    """

    prepared: Prepared
    models: tuple[Model, ...]
    share: np.ndarray
    p: np.ndarray
    say: np.ndarray


def _irls(x: np.ndarray, y: np.ndarray, weight: np.ndarray, mean: np.ndarray, precision: np.ndarray, noise: float):
    """MAP of a logistic model with a Gaussian prior and label noise ``noise``; returns (beta, Hessian)."""
    beta = mean.copy()
    hessian = np.diag(precision)
    for _ in range(50):
        p = _sigmoid(x @ beta)
        agrees = np.where(y, p, 1 - p)
        trust = (1 - noise) * agrees / ((1 - noise) * agrees + noise * (1 - agrees))
        target = np.where(y, trust, 1 - trust)  # the probability that the ROI is red, given its label
        grad = x.T @ (weight * (target - p)) - precision * (beta - mean)
        hessian = (x * (weight * p * (1 - p))[:, None]).T @ x + np.diag(precision)
        step = np.linalg.solve(hessian, grad)
        beta = beta + step
        if np.abs(step).max() < 1e-7:
            break
    return beta, hessian


def _evidence(x, y, weight, beta, hessian, mean, precision, noise) -> float:
    """Laplace approximation of the log marginal likelihood of the labels under one prior."""
    p = _sigmoid(x @ beta)
    agrees = np.where(y, p, 1 - p)
    loglik = float(np.sum(weight * np.log((1 - noise) * agrees + noise * (1 - agrees))))
    logprior = 0.5 * float(np.sum(np.log(precision)) - np.sum(precision * (beta - mean) ** 2))
    return loglik + logprior - 0.5 * float(np.linalg.slogdet(hessian)[1])


_Candidate = tuple[np.ndarray, np.ndarray, np.ndarray, float, tuple[float, ...]]


def _candidates(prepared: Prepared) -> list[_Candidate]:
    """Every prior to try: ``(columns, prior mean, prior precision, log prior weight, noise rates)``.

    The model of all features (the prior score plus each feature's own say) at each width
    of :data:`WEIGHT_SDS`: labels that one feature separates cleanly let it take over. And
    one bent model, which may also bend each feature at its median (dim red cells make the
    probability of red fall off more slowly than a logistic); it is fitted at the higher
    label-noise rate only, so that it cannot bend to follow a wrong label.
    """
    n_features = prepared.z.shape[1]
    straight = np.arange(n_features + 2)
    log_prior = float(-np.log(len(WEIGHT_SDS) + 1))
    out: list[_Candidate] = []
    for sd in WEIGHT_SDS:
        precision = prepared.prior_precision.copy()
        precision[2:] = sd**-2.0
        out.append((straight, prepared.prior_mean, precision, log_prior, LABEL_NOISE))
    bent = np.arange(3 * n_features + 2)
    precision = np.concatenate([prepared.prior_precision, np.full(2 * n_features, _BEND_SD**-2.0)])
    precision[2 : n_features + 2] = WEIGHT_SDS[2] ** -2.0  # its straight part as free as the wide straight models
    mean = np.concatenate([prepared.prior_mean, np.zeros(2 * n_features)])
    out.append((bent, mean, precision, log_prior, (max(LABEL_NOISE),)))
    return out


def fit(prepared: Prepared, label: np.ndarray, active: np.ndarray, carried: CarriedLabels | None = None) -> Fit:
    """Fit every description of the labels (and carried ones) and average them by their evidence.

    With no label the average is the prior's. Each model is fitted at each label-noise
    rate of :data:`LABEL_NOISE`; its share is its Laplace evidence times its prior weight.
    """
    idx = np.flatnonzero(active)
    y = np.asarray(label, bool)[idx]
    x = prepared.design(prepared.z[idx])
    weight = np.ones(idx.size)
    if carried is not None and len(carried):
        x = np.vstack([x, prepared.design(carried.scaled(prepared.names))])
        y = np.concatenate([y, carried.labels])
        weight = np.concatenate([weight, np.full(len(carried), CARRIED_WEIGHT)])
    models, evidence = [], []
    tries = [(c, noise) for c in _candidates(prepared) for noise in c[4]]
    for (columns, mean, precision, log_prior, _), noise in tries:
        beta, hessian = _irls(x[:, columns], y, weight, mean, precision, noise)
        models.append(Model(columns, beta, np.linalg.inv(hessian), noise))
        evidence.append(log_prior + _evidence(x[:, columns], y, weight, beta, hessian, mean, precision, noise))
    share = np.exp(np.asarray(evidence) - max(evidence))
    share /= share.sum()
    design = prepared.design()
    p = np.zeros(prepared.n)
    say = np.zeros(prepared.z.shape[1])
    for w, model in zip(share, models, strict=True):
        if w > 1e-4:  # a model the labels all but rule out adds nothing
            p += w * model.p(design)
        full = np.zeros(design.shape[1])  # every model's weights in the full design's columns
        full[model.columns] = model.beta
        say += w * (full[1] * prepared.weights + full[2 : prepared.z.shape[1] + 2])
    p = p / share[share > 1e-4].sum()
    p[idx] = y[: idx.size]
    return Fit(prepared, tuple(models), share, p, say)


def label_doubt(f: Fit, label: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Return, for each active label, the fitted probability that it is a slip (in the order of the ROIs).

    Under each model, a label that the model's probability of red contradicts is wrong
    with probability ``noise * (1 - agrees) / (noise * (1 - agrees) + (1 - noise) * agrees)``;
    the result is averaged over the models by their share. A label near the boundary
    never looks doubtful (either answer is plausible there); one deep on the other side does.
    """
    idx = np.flatnonzero(active)
    y = np.asarray(label, bool)[idx]
    design = f.prepared.design(f.prepared.z[idx])
    doubt = np.zeros(idx.size)
    for w, model in zip(f.share, f.models, strict=True):
        if w > 1e-4:
            red = model.p(design)
            agrees = np.where(y, red, 1 - red)
            wrong = model.noise * (1 - agrees)
            doubt += w * wrong / np.maximum(wrong + (1 - model.noise) * agrees, 1e-300)
    return doubt / f.share[f.share > 1e-4].sum()
