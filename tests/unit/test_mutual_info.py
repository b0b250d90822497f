import math

import numpy as np
import pytest

from cliplens.core.errors import InvalidArgument
from cliplens.explanation.mutual import (
    aggregate_curves,
    auc,
    match_table,
    mi_dynamics,
    mutual_information,
)


def test_one_to_one_matches_hand_computed():
    dv, dy = ["a", "b", "c"], ["b", "c", "d", "e"]
    assert mutual_information(dv, dy) == pytest.approx(math.log(3 * 4 * 2))  # the default
    assert mutual_information(dv, dy, "contingency") == pytest.approx(math.log(2))
    assert mutual_information(dv, dy, "paper") == pytest.approx(math.log(3 * 4 * 2))


def test_contingency_cannot_tell_one_match_from_none():
    # The degeneracy that made "paper" the default: one match and no match are both 0.
    one, none = (["a", "b"], ["a", "c"]), (["a", "b"], ["c", "d"])
    assert mutual_information(*one, "contingency") == mutual_information(*none, "contingency")
    assert mutual_information(*one, "paper") == pytest.approx(math.log(2 * 2))


def test_no_match_is_zero_for_both_estimators():
    for estimator in ("contingency", "paper"):
        assert mutual_information(["a"], ["b"], estimator) == 0.0
        assert mutual_information([], ["b"], estimator) == 0.0


def test_many_to_one_matches_hand_computed():
    # D_v repeats "a": the joint puts 1/2 on each row of the one column -> MI 0
    assert mutual_information(["a", "a"], ["a"], "contingency") == pytest.approx(0.0)
    assert mutual_information(["a", "a"], ["a"], "paper") == pytest.approx(2 * math.log(2))
    # table [[1, 1, 0], [0, 0, 1]]: P = 1/3 on three cells, rows 2/3 and 1/3, columns 1/3
    expected = 2 / 3 * math.log(1.5) + 1 / 3 * math.log(3)
    assert mutual_information(["a", "b"], ["a", "a", "b"], "contingency") == \
        pytest.approx(expected)
    np.testing.assert_array_equal(match_table(["a", "b"], ["a", "a", "b"]),
                                  [[1, 1, 0], [0, 0, 1]])


def test_dynamics_hand_computed_and_inputs_unchanged():
    dv, dy = ["a", "x", "b"], ["a", "b", "c"]
    before = list(dv), list(dy)
    np.testing.assert_allclose(mi_dynamics(dv, dy, "contingency"), [math.log(2), 0.0, 0.0, 0.0],
                               atol=1e-12)
    paper = mi_dynamics(dv, dy)  # the default
    np.testing.assert_allclose(paper, [math.log(18), math.log(9), math.log(9), 0.0])
    assert (dv, dy) == before


def test_dynamics_fall_as_the_overlap_falls():
    dv = [f"d{i}" for i in range(10)]
    dy = [f"d{i}" for i in range(0, 20, 2)] + [f"y{i}" for i in range(40)]
    for estimator in ("contingency", "paper"):
        curve = mi_dynamics(dv, dy, estimator)
        assert curve.shape == (11,) and curve[-1] == 0.0
        assert np.all(np.diff(curve) <= 1e-12)
    # the backwards form ln N + ln M - H(joint) would rise while the overlap falls
    backwards = [math.log(10) + math.log(50) - math.log(m) for m in (5, 4, 3)]
    assert backwards[0] < backwards[1] < backwards[2]


def test_auc_and_zero_padded_aggregate():
    assert auc([1.0, 2.0, 3.0]) == 2.0
    mean, area = aggregate_curves([[1.0, 2.0, 3.0], [3.0]])
    np.testing.assert_allclose(mean, [2.0, 1.0, 1.5])
    assert area == pytest.approx(1.5)


def test_unknown_estimator_is_refused():
    with pytest.raises(InvalidArgument, match="estimator"):
        mutual_information(["a"], ["a"], "backwards")
