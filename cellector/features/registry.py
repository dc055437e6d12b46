"""The registry of default features: what each is computed from, its parameters, dtype and meaning.

Pure data (no computation): :mod:`cellector.features.compute` loops over it to compute, the
processor reads each feature's parameters and image for provenance, guidance reads
which features look at the functional image, exports read the descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FEATURE_PARAMETERS", "FUNCTIONAL_FEATURES", "REGISTRY", "SPECS", "FeatureSpec", "feature_names"]

_PATCH = ("centered_width", "centroid_method", "fill_value")
_FILTER = ("lowcut", "highcut", "order")


@dataclass(frozen=True)
class FeatureSpec:
    """What one default feature is computed from, and how.

    Attributes
    ----------
    name : str
        The feature's name (and file name in the store: ``{name}_feature.npy``).
    parameters : tuple of str
        The processing parameters it depends on (a change recomputes exactly it).
    stage : str
        ``"band-pass"``: from the band-passed full frame, per pixel (no patches);
        ``"chunk"``: from per-ROI patches, chunk by chunk.
    image : str
        The image it reads: ``"reference"`` (the red channel) or ``"functional"``.
    dtype : numpy dtype
        The dtype of its values (the published files' dtype).
    description : str
        One line for tables and exports.
    """

    name: str
    parameters: tuple[str, ...]
    stage: str
    image: str
    dtype: type[np.floating]
    description: str


#: The default features, in the spec's order (the order they are listed and saved in).
REGISTRY: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "phase_corr",
        (*_PATCH, "window_kernel", "phase_corr_eps"),
        "chunk",
        "reference",
        np.float64,
        "zero-lag phase correlation of the mask with the reference patch",
    ),
    FeatureSpec(
        "dot_product",
        _FILTER,
        "band-pass",
        "reference",
        np.float64,
        "band-passed reference summed over the mask, weighted by lam / ||lam||",
    ),
    FeatureSpec(
        "corr_coef",
        (*_PATCH, "surround_iterations", *_FILTER),
        "chunk",
        "reference",
        np.float64,
        "correlation of the mask with the band-passed reference over the mask's surround",
    ),
    FeatureSpec(
        "in_vs_out",
        (*_PATCH, "surround_iterations"),
        "chunk",
        "reference",
        np.float32,
        "reference inside the footprint over inside plus surround (at most 0.5)",
    ),
    FeatureSpec(
        "local_contrast",
        ("local_contrast_ring",),
        "chunk",
        "reference",
        np.float64,
        "lam-weighted reference inside minus the ring around the ROI, in robust spreads of the background",
    ),
    FeatureSpec(
        "functional_dot_product",
        _FILTER,
        "band-pass",
        "functional",
        np.float64,
        "dot_product on the functional (green) image",
    ),
)

#: Name -> spec of every default feature.
SPECS: dict[str, FeatureSpec] = {s.name: s for s in REGISTRY}

#: The parameters each feature depends on (a change recomputes exactly these).
FEATURE_PARAMETERS: dict[str, tuple[str, ...]] = {s.name: s.parameters for s in REGISTRY}

#: Features read from the functional (green) image rather than the red reference.
FUNCTIONAL_FEATURES: tuple[str, ...] = tuple(s.name for s in REGISTRY if s.image == "functional")


def feature_names(functional: bool) -> list[str]:
    """Return the computed default features in the spec's order (``functional``: those of the green image too)."""
    return [s.name for s in REGISTRY if functional or s.image != "functional"]
