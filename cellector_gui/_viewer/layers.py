"""SessionLayers: the napari layers of one session, kept in step with its manager.

It adds the images (the reference in red, the functional mean in green, the folder's
other image keys, the lam image) and the ROI overlay, recolours the ROIs itself on the
manager's ``selection_changed`` and ``focus_changed`` signals, and renders a plane when
it comes on screen. The dock only tells it how to colour (by decision or by a feature,
which ROIs to show, outlines or fill).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from napari.layers import Image

from cellector.manager import CellectorManager
from cellector.roi_processor.processor import RoiProcessor
from cellector_gui._viewer.meta import ROLE_KEY, ROOT_KEY
from cellector_gui._viewer.overlay import RoiOverlay, feature_colormap

__all__ = ["RoiImage", "SessionLayers", "add_evidence", "evidence_layers", "feature_limits", "processor"]


def processor(manager: CellectorManager) -> RoiProcessor:
    """Return the manager's RoiProcessor: the window needs the ROIs and the images, not only saved features."""
    rp = manager.roi_processor
    if not isinstance(rp, RoiProcessor):
        raise TypeError("the window needs a suite2p folder's ROIs and images; this manager holds saved features only")
    return rp


def robust_limits(image: np.ndarray) -> tuple[float, float]:
    """Contrast limits from robust percentiles (0.5, 99.8) of a subsample of ``image``.

    napari would otherwise scan the whole stack for its range (~0.2 s per 4 x 1024²
    image), and a few bright pixels would wash out the reference.
    """
    sample = image.ravel()[:: max(1, image.size // 250_000)]
    sample = sample[np.isfinite(sample)]
    lo, hi = np.percentile(sample, [0.5, 99.8]) if sample.size else (0.0, 1.0)
    return (float(lo), float(hi)) if hi > lo else (float(lo), float(lo) + 1.0)


def evidence_layers(session: Any) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """Return ``(image, add_image keywords)`` of a session's reference (red) and functional mean (green)."""
    out = []
    for role, image, style in (
        ("reference", session.reference, {"colormap": "red"}),
        ("functional", session.functional_reference, {"colormap": "green", "visible": False}),
    ):
        if image is not None:
            meta = {ROOT_KEY: str(session.root), ROLE_KEY: role}
            kwargs = {"name": role, "blending": "additive", "contrast_limits": robust_limits(image), **style}
            out.append((image, {**kwargs, "metadata": meta}))
    return out


def add_evidence(viewer: Any, session: Any) -> None:
    """Show a session's reference and functional images now (before its features are ready)."""
    if not _found(viewer, str(session.root)):
        for image, kwargs in evidence_layers(session):
            viewer.add_image(image, **kwargs)


def _found(viewer: Any, root: str) -> dict[str, Any]:
    """Return the evidence layers already in ``viewer`` for folder ``root``, by role."""
    return {
        layer.metadata[ROLE_KEY]: layer
        for layer in viewer.layers
        if layer.metadata.get(ROOT_KEY) == root and ROLE_KEY in layer.metadata
    }


def feature_limits(values: np.ndarray) -> tuple[float, float]:
    """Return the colour range of a feature: its 1st to 99th percentile (a few outliers do not wash it out)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = (float(x) for x in np.percentile(finite, [1, 99]))
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _evidence_images(rp: RoiProcessor) -> list[tuple[str, np.ndarray | None, dict[str, Any]]]:
    """Return the reference (red) and functional (green) stacks of a session, with their layer style."""
    return [
        ("reference", rp.reference, {"colormap": "red", "blending": "additive"}),
        ("functional", rp.functional_reference, {"colormap": "green", "visible": False, "blending": "additive"}),
    ]


def _extra_images(session: Any) -> dict[str, np.ndarray]:
    """Return the folder's other image keys (hidden layers a curator may switch on)."""
    if session is None:
        return {}
    return {k: v for k, v in session.images.items() if k not in (session.reference_key, session.functional_key)}


def _lam_image(rp: RoiProcessor) -> np.ndarray:
    """Return the ROIs' lam weights as an image (the largest where ROIs overlap)."""
    lam = np.zeros(rp.rois.shape, np.float32)
    np.maximum.at(lam, (rp.rois.zpix, rp.rois.ypix, rp.rois.xpix), rp.rois.lam)
    return lam


class RoiImage(Image):
    """The ROI overlay layer: its status line names the ROI under the cursor.

    napari's status bar shows the active layer's ``get_status``; for an RGBA overlay
    that would be the colour it is drawn with ("ROIs [0, 76, 82]: [0, 0, 0, 0]").
    ``describe_at(world_position)`` gives the text instead: the ROI's index, decision
    and feature values, or "background".
    """

    def __init__(self, data: np.ndarray, describe_at: Callable[[Any], str], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self._describe_at = describe_at

    def get_status(
        self,
        position: Any = None,
        *,
        view_direction: Any = None,
        dims_displayed: list[int] | None = None,
        world: bool = False,
        value: Any = None,
    ) -> dict[str, str]:
        """Return napari's status dict with the ROI's description as its value."""
        status = super().get_status(
            position, view_direction=view_direction, dims_displayed=dims_displayed, world=world, value=value
        )
        if position is not None:
            text = self._describe_at(position if world else self.data_to_world(position))
            status["value"] = text
            status["coordinates"] = f"{status['coords']}: {text}"
        return status


class SessionLayers:
    """The layers of ``manager``'s session in ``viewer`` (see the module docstring)."""

    def __init__(self, viewer: Any, manager: CellectorManager) -> None:
        self.viewer = viewer
        self.manager = manager
        self.color_by = "decision"
        self.color_limits = (0.0, 1.0)  # the feature colour range on screen (for the colour bar)
        self._cmap = feature_colormap()
        self.show = "all"
        self._held = 0
        self._pending = False
        self.added: list[Any] = []
        self.evidence: list[Any] = [None, None]  # our reference and functional layers, the crops' contrast
        self._contrast_callback: Callable[[], None] | None = None
        self.extra: dict[str, Any] = {}  # the folder's other image keys, hidden
        self._add_images()
        rp = processor(manager)
        self.overlay = RoiOverlay(rp.rois)
        self.layer = RoiImage(
            self.overlay.rgba,
            self.describe_at,
            name="ROIs",
            rgb=True,
            blending="translucent",
            contrast_limits=(0, 255),
        )
        viewer.add_layer(self.layer)
        self.layer.editable = False
        self.added.append(self.layer)
        self._follow(manager, True)
        viewer.dims.events.current_step.connect(self._on_dims_current_step)
        self.recolor()
        self.layer.refresh()  # with its thumbnail
        self._label_axes()

    def _label_axes(self) -> None:
        """Name the plane slider "plane" (napari numbers axes from the end: it read "-3")."""
        dims = self.viewer.dims
        if dims.ndim == 3:
            dims.axis_labels = ("plane", "y", "x")

    def _add_images(self) -> None:
        rp = processor(self.manager)
        session = rp.session
        self._adopt_or_add_evidence()
        for key, img in _extra_images(session).items():
            self.extra[key] = self._add(img, key, visible=False)
        self.lam_layer = self._add(
            _lam_image(rp), "ROI weights (lam)", colormap="magma", visible=False, blending="additive"
        )

    def _adopt_or_add_evidence(self) -> None:
        """Adopt the reference/functional layers already shown for this folder, else add them.

        The plugin's reader, or the window while it loads, may have shown them; either way
        they are ours to remove on close.
        """
        rp = processor(self.manager)
        root = str(rp.session.root) if rp.session is not None else str(rp.root_dir)
        found = _found(self.viewer, root)
        for k, (role, image, style) in enumerate(_evidence_images(rp)):
            if role in found:
                self.evidence[k] = found[role]
                self.added.append(found[role])
            elif image is not None:
                meta = {ROOT_KEY: root, ROLE_KEY: role}
                self.evidence[k] = self._add(image, role, metadata=meta, **style)

    def _add(self, image: np.ndarray, name: str, **kwargs: Any) -> Any:
        """Add an image with robust contrast limits (:func:`robust_limits`)."""
        kwargs.setdefault("colormap", "gray")
        layer = self.viewer.add_image(image, name=name, contrast_limits=robust_limits(image), **kwargs)
        self.added.append(layer)
        return layer

    def by_role(self, role: str) -> Any:
        """Return this session's layer ``"reference"``, ``"functional"``, ``"rois"`` or ``"lam"`` (None if absent)."""
        return {
            "reference": self.evidence[0],
            "functional": self.evidence[1],
            "rois": self.layer,
            "lam": self.lam_layer,
        }.get(role)

    def crop_limits(self) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
        """Return the contrast limits of the reference and functional layers (None: not ours)."""
        return tuple(None if layer is None else tuple(layer.contrast_limits) for layer in self.evidence)  # type: ignore[return-value]

    def on_contrast(self, callback: Any) -> None:
        """Call ``callback()`` whenever the reference's or the functional layer's contrast changes."""
        self._contrast_callback = callback
        for layer in self.evidence:
            if layer is not None:
                layer.events.contrast_limits.connect(self._on_evidence_contrast_limits)

    def _on_evidence_contrast_limits(self, _event: Any = None) -> None:
        if self._contrast_callback is not None:
            self._contrast_callback()

    def close(self) -> None:
        """Stop following the manager and remove the layers it added or adopted (nobody else's)."""
        self._follow(self.manager, False)
        self.viewer.dims.events.current_step.disconnect(self._on_dims_current_step)
        for layer in self.added:
            if layer in self.viewer.layers:
                self.viewer.layers.remove(layer)
        self.added.clear()

    def retarget(self, manager: CellectorManager) -> None:
        """Show another session of the study in the same layers (a new layer only for an image key not shown yet).

        The images are written into the layers' arrays when the frame is the same (no new
        layer, no napari re-layout), else replaced; the ROI overlay is built for the new ROIs.
        """
        self._follow(self.manager, False)
        self.manager = manager
        rp = processor(manager)
        root = str(rp.session.root) if rp.session is not None else str(rp.root_dir)
        for k, (role, image, style) in enumerate(_evidence_images(rp)):
            self.evidence[k] = self._replace(self.evidence[k], image, role, {ROOT_KEY: root, ROLE_KEY: role}, style)
            if self.evidence[k] is not None and self._contrast_callback is not None:
                self.evidence[k].events.contrast_limits.connect(self._on_evidence_contrast_limits)
        images = _extra_images(rp.session)
        for key in list(self.extra):
            if key not in images:
                self._replace(self.extra.pop(key), None, key, {}, {})
        for key, img in images.items():
            self.extra[key] = self._replace(self.extra.get(key), img, key, {}, {"visible": False})
        lam_style = {"colormap": "magma", "visible": False, "blending": "additive"}
        self.lam_layer = self._replace(self.lam_layer, _lam_image(rp), "ROI weights (lam)", {}, lam_style)
        self.overlay = RoiOverlay(rp.rois)
        if self.layer.data.shape == self.overlay.rgba.shape:
            self.overlay.rgba = self.layer.data  # render into the layer's own buffer
        else:
            self.layer.data = self.overlay.rgba
            self.viewer.reset_view()  # another frame: show all of it
        self._follow(manager, True)
        self.recolor()
        self.layer.refresh()
        self._label_axes()

    def _replace(self, layer: Any, image: np.ndarray | None, name: str, meta: dict, style: dict) -> Any:
        """Put ``image`` into ``layer`` (in place when the shapes agree); add or remove the layer as needed."""
        if image is None:
            if layer is not None and layer in self.viewer.layers:
                self.viewer.layers.remove(layer)
                self.added.remove(layer)
            return None
        if layer is None:
            return self._add(image, name, metadata=meta, **style)
        if layer.data.shape == image.shape and layer.data.dtype == image.dtype and layer.data.flags.writeable:
            layer.data[...] = image
        else:
            _set_data(layer, image)
        layer.metadata.update(meta)
        layer.contrast_limits_range = robust_limits(image)
        layer.contrast_limits = robust_limits(image)
        layer.refresh()
        return layer

    def _follow(self, manager: CellectorManager, on: bool) -> None:
        """Connect to (or disconnect from) the signals of ``manager`` that recolour the ROIs."""
        for signal, slot in (
            (manager.selection_changed, self._on_manager_selection_changed),
            (manager.focus_changed, self._on_manager_focus_changed),
        ):
            signal.connect(slot) if on else signal.disconnect(slot)

    # ------------------------------------------------------------------ colouring

    def current_plane(self) -> int:
        """Return the plane on screen (0 for single-plane data)."""
        if self.overlay.label.shape[0] == 1:
            return 0
        return int(self.viewer.dims.current_step[0])

    @contextlib.contextmanager
    def one_recolor(self) -> Iterator[None]:
        """Run a compound action (flip + focus) with a single repaint of the ROIs at the end."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held and self._pending:
                self._pending = False
                self.recolor()

    def set_style(self, color_by: str | None = None, show: str | None = None, outline: bool | None = None) -> None:
        """Colour by ``"decision"`` or a feature's name, show ``"all"|"selected"|"rejected"``, outline or fill."""
        self.color_by = self.color_by if color_by is None else color_by
        self.show = self.show if show is None else show
        if outline is not None:
            self.overlay.outline_mode = outline
        self.recolor()

    def recolor(self, selected: np.ndarray | None = None) -> None:
        """Recompute the ROI colours of the plane on screen from the manager."""
        if self._held:
            self._pending = True
            return
        m, ov = self.manager, self.overlay
        if self.color_by in m.features:
            v = m.features[self.color_by]
            self.color_limits = feature_limits(v)
            ov.feature_lut(v, self._cmap, *self.color_limits, m.focus)
        else:
            selected = m.compute_idx_selected() if selected is None else selected
            ov.decision_lut(selected, m.manual_selection, self.show, m.focus, decided=m.has_cutoffs)
        ov.render(self.current_plane())
        # the layer-list thumbnail of the ROI layer is not worth ~3 ms on every change
        self.layer.refresh(thumbnail=False)

    def describe_at(self, position: Any) -> str:
        """Return the description of the ROI under a world position, or "background"."""
        idx = self.roi_at(position)
        return self.manager.describe_roi(idx) if idx >= 0 else "background"

    def roi_at(self, position: Any) -> int:
        """Return the ROI under a world position (-1 for background or outside the image)."""
        data = tuple(self.layer.world_to_data(position))
        return self.overlay.roi_at(data[-3:] if self.overlay.label.shape[0] > 1 else data[-2:])

    # ------------------------------------------------------------------ manager -> view

    def _on_manager_selection_changed(self) -> None:
        self.recolor()

    def _on_manager_focus_changed(self, _idx: int) -> None:
        self.recolor()

    def _on_dims_current_step(self, _event: Any = None) -> None:
        if self.current_plane() in self.overlay.stale:
            self.overlay.render(self.current_plane())
            self.layer.refresh()


def _set_data(layer: Any, image: np.ndarray) -> None:
    """Give ``layer`` data of another shape, so that napari's extent follows even when the layer is hidden.

    napari refreshes a hidden layer's extent only once it is shown again: a hidden layer
    keeping an older session's extent (three planes, a wider frame) kept the plane slider
    and the view on that session. Shown for the assignment, it refreshes at once; nothing
    is painted in between.
    """
    if layer.visible:
        layer.data = image
        return
    layer.visible = True
    try:
        layer.data = image
    finally:
        layer.visible = False
