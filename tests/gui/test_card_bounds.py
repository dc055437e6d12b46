"""The feature card's bound rules, without Qt widgets: slider moves, typed cutoffs, criteria from the model."""

from cellector_gui._widgets.bounds import CardBounds


def test_a_fresh_card_uses_no_bound_and_spans_the_data():
    m = CardBounds(10.0, 20.0)
    assert m.bounds() == (None, None)
    assert m.shown == (10.0, 20.0) and m.cut == [10.0, 20.0]


def test_moving_a_handle_switches_only_its_bound_on_and_changes_only_its_cutoff():
    m = CardBounds(10.0, 20.0)
    assert m.slider_moved(12.5, 20.0) == (True, False)
    assert m.bounds() == (12.5, None)  # the max handle never left its end: still unused
    assert m.slider_moved(12.5, 18.0) == (False, True)
    assert m.bounds() == (12.5, 18.0)
    # a handle dragged back to its end keeps its bound on (the user switched it on by moving it)
    m.slider_moved(10.0, 18.0)
    assert m.bounds() == (10.0, 18.0)


def test_a_cutoff_kept_outside_the_data_survives_a_move_of_the_other_handle():
    m = CardBounds(10.0, 20.0)
    assert m.show((5.0, 30.0)) == (10.0, 20.0)  # shown clamped...
    assert m.bounds() == (5.0, 30.0)  # ...but kept as it is
    m.slider_moved(10.0, 15.0)  # only the max handle moved
    assert m.bounds() == (5.0, 15.0)


def test_a_typed_cutoff_is_exact_switches_its_bound_on_and_never_crosses_the_other():
    m = CardBounds(10.0, 20.0)
    assert m.typed("min", 3.25) == (3.25, None)  # outside the data, exactly as typed
    m.show((3.25, 15.0))
    assert m.typed("min", 17.0) == (15.0, 15.0)  # stops at the max
    m.show((12.0, 15.0))
    assert m.typed("max", 11.0) == (12.0, 12.0)  # stops at the min
    assert m.typed("max", 1e6) == (12.0, 1e6)


def test_a_criterion_from_the_model_sets_switches_cutoffs_and_handles():
    m = CardBounds(0.0, 1.0)
    assert m.show((None, 0.25)) == (0.0, 0.25)
    assert m.use == [False, True] and m.cut == [0.0, 0.25]
    assert m.show((None, None)) == (0.0, 1.0) and m.bounds() == (None, None)
