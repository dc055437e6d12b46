"""Names a package's face resolves on first use (PEP 562), so importing the package imports little."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(namespace: dict[str, Any], homes: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list]]:
    """Return a package's ``__getattr__`` and ``__dir__`` for names that live in other modules.

    Parameters
    ----------
    namespace : dict
        The package's ``globals()``: a name is stored there once resolved.
    homes : dict of str to str
        Name -> the module that defines it.
    """

    def getattr_(name: str) -> Any:
        if name in homes:
            value = getattr(import_module(homes[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return getattr_, dir_
