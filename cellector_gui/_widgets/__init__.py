"""The dock's widgets: feature cards, buttons, the focus crops, the colour bar, the sessions panel, texts."""
