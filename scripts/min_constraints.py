"""Print pip constraints that pin every dependency of pyproject.toml to its declared lower bound.

``pip install -c <(python scripts/min_constraints.py) -e ".[test]"`` then installs the
oldest versions cellector claims to support (their own dependencies resolve to what
pip finds), so the minimum-versions CI run tests the bounds we publish.
"""

import re
import sys
from pathlib import Path

import tomllib

_BOUND = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*>=\s*([0-9][A-Za-z0-9.]*)\s*(,.*)?$")


def lower_bounds(pyproject: Path) -> dict[str, str]:
    """Return ``{distribution: lowest version}`` for every ``name>=X`` requirement."""
    project = tomllib.loads(pyproject.read_text("utf-8"))["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    bounds = {}
    for req in requirements:
        m = _BOUND.match(req.split(";")[0])
        if m and m.group(1).lower() != project["name"]:
            bounds[m.group(1).lower()] = m.group(3)
    return bounds


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    for name, version in sorted(lower_bounds(root / "pyproject.toml").items()):
        print(f"{name}=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
