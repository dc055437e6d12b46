"""Draw the house: the rooms (packages) of the core and the window, top to bottom, as the import contracts order them.

Writes ``docs/images/rooms.png``. The rooms and their order come from the import-linter
contracts in ``pyproject.toml`` (the same ones ``scripts/check.sh`` enforces); the size of
each room is its lines of code, and its modules are listed inside it.
"""

import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"


def _layers(name: str) -> list[list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    contract = next(c for c in project["tool"]["importlinter"]["contracts"] if c["name"] == name)
    return [[m.strip() for m in layer.split("|")] for layer in contract["layers"]]


def _files(module: str) -> list[Path]:
    base = ROOT / module.replace(".", "/")
    if base.is_dir():
        return sorted(p for p in base.rglob("*.py") if p.name != "__init__.py")
    return [base.with_suffix(".py")]


def _lines(files: list[Path]) -> int:
    return sum(len(p.read_text("utf-8").splitlines()) for p in files)


def _room(ax, x: float, y: float, w: float, h: float, module: str, colour: str) -> None:
    from matplotlib.patches import FancyBboxPatch

    files = _files(module)
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.01", fc=colour, ec="#334", lw=1.2))
    ax.text(x + 0.01, y + h - 0.012, f"{module}  ({_lines(files)} lines)", va="top", fontsize=9, weight="bold")
    base = ROOT / module.replace(".", "/")
    names = [str(p.relative_to(base).with_suffix("")) if base.is_dir() else p.stem for p in files]
    lines = [", ".join(names[k : k + 7]) for k in range(0, len(names), 7)]
    ax.text(x + 0.01, y + h - 0.04, "\n".join(lines), va="top", fontsize=7, color="#223")


def draw_rooms(out: Path = OUT) -> list[Path]:
    """Draw ``rooms.png`` into ``out``; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    core = _layers("The core's rooms: every import runs down")
    gui = _layers("The window's rooms: every import runs down")
    rows = [("window", layer) for layer in gui] + [("core", layer) for layer in core]
    fig = Figure(figsize=(11, 1.0 + 0.62 * len(rows)), dpi=110)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, len(rows) * 0.1 + 0.08)
    ax.axis("off")
    top = len(rows) * 0.1 + 0.04
    ax.text(0.02, top, "cellector's rooms: each imports only from the rooms below it (import-linter)", fontsize=11)
    for i, (part, layer) in enumerate(rows):
        y = top - 0.1 * (i + 1)
        w = 0.94 / len(layer)
        for j, module in enumerate(layer):
            _room(ax, 0.03 + j * w, y, w - 0.01, 0.085, module, "#f4dde4" if part == "window" else "#dde6f4")
        if i:
            arrow = {"arrowstyle": "->", "color": "#667"}
            ax.annotate("", xy=(0.5, y + 0.085), xytext=(0.5, y + 0.1), arrowprops=arrow)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "rooms.png"
    fig.savefig(path)
    return [path]


if __name__ == "__main__":
    for p in draw_rooms(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(f"wrote {p}")
