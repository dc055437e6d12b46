"""The dock and what it composes: opening a session, the actions on ROIs, saving, exports, the study."""
