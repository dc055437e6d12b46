"""The installed package's version, for files we write and ``--version`` (no other import)."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("cellector")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
