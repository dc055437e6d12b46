"""The colours of a decision, shared by the window's ROI overlay and the report figure (no Qt, no matplotlib).

Okabe-Ito colours (colour-blind safe) chosen to stand out on the red reference and in
grayscale print: sky blue selected by the cutoffs, light gray not selected, bluish green
manually selected, yellow manually rejected.
"""

from __future__ import annotations

__all__ = ["DECISION_COLORS", "rgba"]

#: Decision -> colour, in the order the legends list them.
DECISION_COLORS = {
    "selected": "#56B4E9",
    "rejected": "#BEBEBE",
    "manually red": "#009E73",
    "manually not red": "#F0E442",
}


def rgba(hex_colour: str, alpha: int = 255) -> tuple[int, int, int, int]:
    """Return ``#RRGGBB`` as an RGBA tuple of uint8 values."""
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha
