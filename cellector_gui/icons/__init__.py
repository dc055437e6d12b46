"""The window and plugin icon, shipped in the wheel."""
