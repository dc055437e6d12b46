"""Draw the application icon (a cell with a red ring) into icons/ and cellector_gui/icons/."""

import struct
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def write_png(path: Path, rgba: np.ndarray) -> None:
    h, w, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[y].tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    )


def icon(n: int = 128) -> np.ndarray:
    yy, xx = np.mgrid[:n, :n] / (n - 1) * 2 - 1
    img = np.zeros((n, n, 4), np.uint8)
    disc = np.hypot(yy, xx) < 0.98
    img[disc] = (30, 32, 40, 255)
    r = np.hypot(yy + 0.05, xx + 0.05)
    img[r < 0.55] = (0, 158, 115, 255)
    img[(np.abs(r - 0.68) < 0.09) & disc] = (213, 94, 0, 255)
    img[np.hypot(yy - 0.45, xx - 0.5) < 0.18] = (86, 180, 233, 255)
    return img


if __name__ == "__main__":
    for target in (ROOT / "icons" / "cellector.png", ROOT / "cellector_gui" / "icons" / "cellector.png"):
        write_png(target, icon())
