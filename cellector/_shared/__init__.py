"""Small helpers every room may use: atomic writes, memory pages, numba's cache, the version, lazy faces.

Nothing here knows suite2p, ROIs or a store; each module is imported by its own name.
"""
