"""The rules of one feature card's cutoffs, without Qt: what a slider move, a typed number or the model sets.

A card shows a criterion three ways at once: the range slider (clamped to the data), the
number boxes (the exact cutoffs, which may lie outside the data) and the min/max
switches. :class:`CardBounds` keeps them consistent; :class:`~._histogram.FeatureCard`
only copies its numbers into the widgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Bounds", "CardBounds"]

Bounds = tuple[float | None, float | None]


@dataclass
class CardBounds:
    """The cutoffs of one card over the data range ``[lo, hi]``.

    Attributes
    ----------
    lo, hi : float
        The data range (the slider's ends).
    cut : list of float
        The exact min and max cutoffs the number boxes show (used or not).
    use : list of bool
        Whether the min and the max bound are switched on.
    shown : tuple of float
        The slider's handles (the cutoffs clamped to the data range).
    """

    lo: float
    hi: float
    cut: list[float] = field(default_factory=list)
    use: list[bool] = field(default_factory=lambda: [False, False])
    shown: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if not self.cut:
            self.cut = [self.lo, self.hi]
        self.shown = (self.lo, self.hi)

    def bounds(self) -> Bounds:
        """Return the criterion shown: ``(min|None, max|None)``, exact."""
        return (self.cut[0] if self.use[0] else None, self.cut[1] if self.use[1] else None)

    def slider_moved(self, lo: float, hi: float) -> tuple[bool, bool]:
        """Take a slider move to handles ``(lo, hi)``; returns which cutoffs (min, max) changed.

        Moving a handle away from its end switches that bound on (the user clearly wants
        it); only the moved handle's cutoff changes, so one kept outside the data stays.
        """
        if not _close(lo, self.lo):
            self.use[0] = True
        if not _close(hi, self.hi):
            self.use[1] = True
        moved = (lo != self.shown[0], hi != self.shown[1])
        self.shown = (lo, hi)
        if moved[0]:
            self.cut[0] = float(lo)
        if moved[1]:
            self.cut[1] = float(hi)
        return moved

    def typed(self, side: str, value: float) -> Bounds:
        """Return the criterion after ``value`` is typed as the ``side`` ("min" or "max") cutoff.

        A typed number is the cutoff itself (kept even outside the data) and switches its
        bound on; it never crosses the other bound (it stops there).
        """
        lo, hi = self.bounds()
        if side == "min":
            lo = value if hi is None else min(value, hi)
        else:
            hi = value if lo is None else max(value, lo)
        self.cut = [self.cut[0] if lo is None else lo, self.cut[1] if hi is None else hi]
        return lo, hi

    def show(self, bounds: Bounds) -> tuple[float, float]:
        """Take a criterion from the model; returns the slider's handles (clamped to the data range)."""
        lo, hi = bounds
        self.shown = (
            self.lo if lo is None else min(max(lo, self.lo), self.hi),
            self.hi if hi is None else min(max(hi, self.lo), self.hi),
        )
        self.use = [lo is not None, hi is not None]
        self.cut = [self.shown[0] if lo is None else lo, self.shown[1] if hi is None else hi]
        return self.shown


def _close(a: float, b: float) -> bool:
    """Whether a handle at ``a`` sits at the end ``b`` (numpy's ``isclose`` tolerances)."""
    return abs(a - b) <= 1e-8 + 1e-5 * abs(b)
