"""The guided-review benchmark's own yardsticks, against hand-derived values."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_guided.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_guided", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_best_single_cutoff_returns_the_selection_it_scores(bench):
    # x separates perfectly from the top; y only with one non-red ROI kept (F1 = 2*2/(3+2) = 0.8)
    truth = np.array([True, True, False, False])
    features = {"y": np.array([9.0, 1.0, 5.0, 0.0]), "x": np.array([4.0, 3.0, 2.0, 1.0])}
    best, where, selected = bench.best_single_cutoff(features, truth)
    assert (best, where) == (1.0, "x min")
    assert selected.tolist() == [True, True, False, False]
    best_y, where_y, selected_y = bench.best_single_cutoff({"y": features["y"]}, truth)
    assert where_y == "y min" and best_y == pytest.approx(0.8)
    assert selected_y.tolist() == [True, True, True, False]
    assert bench.f1_score(selected_y, truth) == pytest.approx(best_y)


def test_random_label_floor_by_hand(bench):
    # truth 1 1 0 0, selected 1 0 0 0: true F1 = 2/(2+1) = 2/3. Of the six pairs of labels only
    # (0, 1) estimates it exactly; the others give 1 (no red missed or no label at all) or 0.
    truth = np.array([True, True, False, False])
    selected = np.array([True, False, False, False])
    assert bench.random_label_floor(selected, truth, 2, draws=6000) == pytest.approx(1 / 6, abs=0.02)
    # every ROI labelled: the estimate is the truth
    assert bench.random_label_floor(selected, truth, 4, draws=50) == 1.0
