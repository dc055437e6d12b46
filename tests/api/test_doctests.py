"""The examples in the core's docstrings run and print what they show."""

import doctest
import importlib

import pytest

MODULES = [
    "cellector.utils",
    "cellector.features.rois",
    "cellector.features.compute",
    "cellector.features.filters",
    "cellector.roi_processor.processor",
    "cellector.manager",
    "cellector.io.store",
    "cellector.io.datasets",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_utils_has_examples():
    assert doctest.testmod(importlib.import_module("cellector.utils")).attempted >= 10
