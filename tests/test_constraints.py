"""The declarative constraints (initlab._validation): intervals open or closed at either end,
choices, registry names, None; and every table that uses them covers exactly its parameters."""
import dataclasses
import inspect
from numbers import Integral, Real

import pytest

from initlab._validation import Checked, InitlabError, Interval, Nullable, OneOf, Registered, checked, validate

# (interval, accepted values, refused values, the requirement a refusal states)
INTERVALS = [
    (Interval(Real, 0.0, closed="neither"), [1e-300, 5.0], [0.0, -1.0, float("inf"), float("nan"), True, "1"], "a finite float > 0"),
    (Interval(Real, 0.0, closed="left"), [0.0, 2.5], [-1e-300, float("inf")], "a finite float >= 0"),
    (Interval(Real, 0.0, 1.0, closed="left"), [0.0, 0.999], [1.0, -0.1], "a finite float >= 0 and < 1"),
    (Interval(Real, 0.0, 1.0, closed="right"), [1.0, 1e-9], [0.0, 1.5], "a finite float > 0 and <= 1"),
    (Interval(Real, -1.0, 1.0, closed="both"), [-1.0, 1.0], [-1.01, 1.01], "a finite float >= -1 and <= 1"),
    (Interval(Real), [-1e300, 0, 3], [float("-inf"), None], "a finite float"),
    (Interval(Integral, 1), [1, 10**12], [0, 1.0, True, "2"], "an int >= 1"),
    (Interval(Integral, 0, 2**63, text="an int in [0, 2**63)"), [0, 2**63 - 1], [2**63, -1], "an int in [0, 2**63)"),
    (Interval(Integral, 0, 5, closed="both"), [0, 5], [6, -1], "an int in [0, 5]"),
    (Interval(Integral, 0, 5, closed="neither"), [1, 4], [0, 5], "an int in (0, 5)"),
]


@pytest.mark.parametrize("interval, good, bad, requirement", INTERVALS)
def test_intervals(interval, good, bad, requirement):
    assert interval.requirement == requirement
    for value in good:
        got = interval.check("x", value)
        assert got == value and type(got) is (int if interval.type is Integral else float)
    for value in bad:
        with pytest.raises(InitlabError, match=rf"^The 'x' parameter must be {__import__('re').escape(requirement)}\. Got .* instead\.$") as info:
            interval.check("x", value)
        assert info.value.param == "x"


def test_numpy_numbers_are_numbers():
    import numpy as np

    assert Interval(Integral, 1).check("n", np.int64(3)) == 3 and Interval(Real, 0.0).check("r", np.float32(0.5)) == 0.5


def test_choices_registry_none_and_checked():
    assert OneOf(("a", "b")).check("mode", "b") == "b"
    with pytest.raises(InitlabError, match=r"The 'mode' parameter must be one of a, b\. Got \['a'\] instead\."):
        OneOf(("a", "b")).check("mode", ["a"])  # unhashable: the message, not a TypeError
    with pytest.raises(InitlabError, match="Unknown optimizer 'adma'. Expected one of: .* Did you mean 'adam'"):
        Registered("optimizer", {"adam": 1, "gd": 2}).check("solver", "adma")
    assert Nullable(Interval(Integral, 1)).check("batch_size", None) is None
    with pytest.raises(InitlabError, match="The 'batch_size' parameter must be an int >= 1"):
        Nullable(Interval(Integral, 1)).check("batch_size", 0)
    assert Checked(lambda name, v: v * 2).check("k", 3) == 6


def test_validate_wraps_an_error_that_names_another_parameter():
    table = {"solver": Registered("optimizer", {"adam": 1}), "rate": Interval(Real, 0.0, closed="neither")}
    assert validate(table, {"rate": 0.5, "solver": "adam", "other": object()}) == {"solver": "adam", "rate": 0.5}
    with pytest.raises(InitlabError, match=r"^Unknown optimizer 'x'"):
        validate(table, {"solver": "x", "rate": 1.0})
    with pytest.raises(InitlabError, match=r"^The 'solver' parameter is invalid\. Unknown optimizer 'x'") as info:
        validate(table, {"solver": "x", "rate": 1.0}, wrap=True)
    assert info.value.param == "solver"
    with pytest.raises(InitlabError, match=r"^The 'rate' parameter must be a finite float > 0\. Got -1 instead\.$"):
        validate(table, {"solver": "adam", "rate": -1}, wrap=True)  # names its own parameter: not wrapped
    with pytest.raises(InitlabError, match=r"^The 'opts' parameter is invalid\. The 'beta' parameter must be"):
        checked("opts", Interval(Real, 0.0, 1.0, closed="left").check, "beta", 2.0)


# --- every table covers exactly the parameters it checks --------------------------------------------
def _tables():
    from initlab import compare, estimators, network, options, sweep

    fields = lambda cls: {f.name for f in dataclasses.fields(cls)}  # noqa: E731
    params = lambda fn: set(inspect.signature(fn).parameters)  # noqa: E731
    return [
        ("TrainOptions", set(options.TrainOptions._constraints), fields(options.TrainOptions)),
        ("Network", set(network.Network._constraints), fields(network.Network) - {"activation", "bias"}),  # activation, bias: per layer (need the sizes)
        ("compare_initializers", set(compare.CONSTRAINTS),
         params(compare.compare_initializers) - {"activation", "dtype", "residual", "learning_rate", "iterations", "record_every", "engine"}),  # Network, TrainOptions, engines
        ("MLPClassifier", set(estimators.MLPClassifier._constraints), set(estimators.MLPClassifier().get_params()) - {"random_state"}),
        ("MLPRegressor", set(estimators.MLPRegressor._constraints), set(estimators.MLPRegressor().get_params()) - {"random_state"}),
        ("sweep axes", set(sweep.AXIS_CONSTRAINTS), set(sweep.AXES)),
        ("sweep settings", set(sweep.SETTING_CONSTRAINTS), set(sweep.SWEEP_KEYS)),
    ]


@pytest.mark.parametrize("name, table, expected", _tables(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_table_names_its_parameters(name, table, expected):
    assert table == expected, f"{name}: constraints for {sorted(table - expected)}, none for {sorted(expected - table)}"
