"""Per-feature normalisation: hand-computed shift/scale, padding ignored, round trips, bad dicts."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lstm_core.errors import LabError
from lstm_core.normalise import NORMALISATIONS, Normalisation, fit_normalisation


def test_registry_names_the_three_kinds():
    assert list(NORMALISATIONS) == ["none", "zscore", "minmax"]
    assert all(isinstance(v, str) and v for v in NORMALISATIONS.values())


def test_zscore_by_hand():
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]])  # feature 1 is constant
    n = fit_normalisation(x, kind="zscore", feature_names=("a", "b"))
    std = math.sqrt(((1 - 3) ** 2 + 0 + (5 - 3) ** 2) / 3)  # population std: 1.63299...
    np.testing.assert_allclose(n.shift, [3.0, 10.0])
    np.testing.assert_allclose(n.scale, [std, 1.0], rtol=1e-6)  # a constant feature gets scale 1
    np.testing.assert_allclose(n.apply(x), [[-2 / std, 0], [0, 0], [2 / std, 0]], rtol=1e-6)
    assert n.shift.dtype == np.float32 and n.scale.dtype == np.float32
    assert n.feature_names == ("a", "b")


def test_minmax_by_hand():
    x = np.array([[2.0], [4.0], [6.0], [3.0]])
    n = fit_normalisation(x, kind="minmax")
    np.testing.assert_allclose(n.shift, [2.0])
    np.testing.assert_allclose(n.scale, [4.0])
    np.testing.assert_allclose(n.apply(x)[:, 0], [0.0, 0.5, 1.0, 0.25])


def test_none_is_identity():
    x = np.array([[[1.0, -7.0], [2.0, 9.0]]])
    n = fit_normalisation(x, kind="none")
    np.testing.assert_array_equal(n.shift, [0, 0])
    np.testing.assert_array_equal(n.scale, [1, 1])
    np.testing.assert_array_equal(n.apply(x), x)


def test_fit_ignores_padding_and_nan():
    x = np.full((2, 3, 1), 999.0)  # 999 marks padding: must not count
    x[0, :, 0] = [1.0, 2.0, 3.0]
    x[1, 0, 0] = 10.0
    n = fit_normalisation(x, lengths=[3, 1], kind="minmax")
    np.testing.assert_allclose([n.shift[0], n.scale[0]], [1.0, 9.0])
    x[0, 1, 0] = np.nan
    n = fit_normalisation(x, lengths=[3, 1], kind="zscore")
    np.testing.assert_allclose(n.shift, [(1 + 3 + 10) / 3], rtol=1e-6)


def test_apply_and_invert_work_on_one_sequence_and_on_a_batch():
    n = Normalisation("zscore", [1.0, 2.0], [2.0, 4.0])
    seq = np.array([[3.0, 6.0], [1.0, 2.0]])
    np.testing.assert_allclose(n.apply(seq), [[1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(n.apply(seq[None]), [[[1.0, 1.0], [0.0, 0.0]]])
    np.testing.assert_allclose(n.invert([[1.0, 1.0]]), [[3.0, 6.0]])


def test_apply_refuses_the_wrong_feature_count():
    n = Normalisation("zscore", [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(LabError, match=r"x must have 2 features on its last axis; got shape \(4, 3\)"):
        n.apply(np.zeros((4, 3)))


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=6),
                  elements=st.floats(-1e4, 1e4, width=32)),
       st.sampled_from(["zscore", "minmax", "none"]))
def test_invert_undoes_apply(x, kind):
    n = fit_normalisation(x, kind=kind)
    assert np.all(n.scale > 0)
    np.testing.assert_allclose(n.invert(n.apply(x)), x, rtol=1e-4, atol=1e-2)


def test_dict_round_trip_through_json():
    n = Normalisation("minmax", [1.5, -2.0], [3.0, 0.25], ("a", "b"))
    d = json.loads(json.dumps(n.to_dict()))
    assert d == {"kind": "minmax", "shift": [1.5, -2.0], "scale": [3.0, 0.25], "feature_names": ["a", "b"]}
    back = Normalisation.from_dict(d)
    assert back.kind == "minmax" and back.feature_names == ("a", "b")
    np.testing.assert_array_equal(back.shift, n.shift)
    np.testing.assert_array_equal(back.scale, n.scale)


@pytest.mark.parametrize("d, message", [
    ([1, 2], r"a normalisation must be a dict; got list"),
    ({"kind": "zscore", "shift": [0.0], "scale": [1.0], "mean": 1}, r"unknown normalisation key 'mean'"),
    ({"kind": "zscore", "shift": [0.0]}, r"normalisation is missing 'scale'"),
    ({"kind": "l2", "shift": [0.0], "scale": [1.0]}, r"unknown normalisation 'l2'; choose one of none"),
    ({"kind": "zscore", "shift": [0.0], "scale": [0.0]}, r"scale must not be 0; got 0 for feature 0"),
    ({"kind": "zscore", "shift": ["0"], "scale": [1.0]}, r"normalisation shift\[0\] must be a finite number"),
    ({"kind": "zscore", "shift": [0.0], "scale": [float("inf")]}, r"scale\[0\] must be a finite number"),
    ({"kind": "zscore", "shift": [0.0], "scale": [True]}, r"scale\[0\] must be a finite number; got True"),
    ({"kind": "zscore", "shift": [0.0, 1.0], "scale": [1.0]}, r"same length; got 2 and 1"),
    ({"kind": "zscore", "shift": [], "scale": []}, r"shift must be a non-empty list of numbers"),
    ({"kind": "zscore", "shift": [0.0], "scale": [1.0], "feature_names": ["a", "b"]},
     r"feature_names must name all 1 features; got 2 names"),
    ({"kind": "zscore", "shift": [0.0], "scale": [1.0], "feature_names": [3]}, r"feature_names must be a "),
    ({"kind": 3, "shift": [0.0], "scale": [1.0]}, r"normalisation kind must be a string; got 3"),
])
def test_bad_dict_is_a_lab_error(d, message):
    with pytest.raises(LabError, match=message):
        Normalisation.from_dict(d)


def test_fit_refuses_unknown_kind_bad_shape_and_empty_feature():
    with pytest.raises(LabError, match=r"unknown normalisation 'robust'; choose one of none, zscore, minmax"):
        fit_normalisation(np.zeros((3, 1)), kind="robust")
    with pytest.raises(LabError, match=r"x must have shape \(T, F\) or \(B, T, F\) with F >= 1; got \(3,\)"):
        fit_normalisation(np.zeros(3))
    with pytest.raises(LabError, match=r"lengths must have shape \(2,\); got \(3,\)"):
        fit_normalisation(np.zeros((2, 4, 1)), lengths=[1, 2, 3])
    with pytest.raises(LabError, match=r"feature 1 has no values to fit a normalisation on"):
        fit_normalisation(np.array([[1.0, np.nan], [2.0, np.nan]]))


def test_a_spread_too_small_for_float32_gets_scale_one():
    x = np.array([[0.0], [1e-50]])  # a float64 spread of 1e-50 is 0 in float32
    assert fit_normalisation(x, kind="minmax").scale[0] == 1.0
