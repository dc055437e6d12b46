"""What cellector puts into napari's viewer: its layers, key and mouse bindings, the plugin, window filters."""
