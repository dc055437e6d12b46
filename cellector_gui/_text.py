"""Words for counts in the window's messages ("1 manual edit", "3 manual edits")."""

from __future__ import annotations

__all__ = ["plural"]


def plural(n: int, noun: str, many: str | None = None) -> str:
    """Return ``"n noun"`` with the noun in the plural unless ``n`` is 1 (``many`` for irregular plurals)."""
    return f"{n} {noun if n == 1 else (many or noun + 's')}"
