"""Weight initializers: ``INITIALIZERS`` maps a name to a factory of init functions.

A factory takes the scheme's options and returns ``init(shape, rng) -> ndarray``, where
``shape = (fan_out, fan_in)`` (a weight matrix ``W`` maps ``fan_in`` inputs to ``fan_out``
units, ``Z = W @ A + b``) and ``rng`` is a ``numpy.random.Generator`` or ``RandomState``.

The core is :func:`variance_scaling` (as in ``jax.nn.initializers``); He, Xavier/Glorot and
LeCun are one-line specializations that fix its scale and fan mode.

>>> import numpy as np
>>> W = INITIALIZERS["he_normal"]()((10, 2), np.random.RandomState(3))
>>> W.shape
(10, 2)
"""
from __future__ import annotations

import inspect

import numpy as np

from ._validation import InitlabError, _fail, check_choice, check_float, lookup

MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("normal", "uniform")


def _fans(shape):
    if len(shape) != 2:
        _fail("shape", "a 2-D shape (fan_out, fan_in)", tuple(shape))
    fan_out, fan_in = shape
    return fan_in, fan_out


def variance_scaling(scale=1.0, mode="fan_in", distribution="normal"):
    """Weights with variance ``scale / n``, n the fan chosen by `mode`.

    ``n = fan_in`` (forward signal preserved), ``fan_out`` (backward signal preserved) or
    ``(fan_in + fan_out) / 2`` (their compromise, Glorot & Bengio 2010).
    ``normal``: W ~ N(0, scale/n). ``uniform``: W ~ U(−√(3·scale/n), +√(3·scale/n)), the
    same variance.

    >>> import numpy as np
    >>> init = variance_scaling(2.0, "fan_in", "normal")          # He normal
    >>> W = init((500, 400), np.random.default_rng(0))
    >>> round(float(W.var() * 400), 1)
    2.0
    """
    scale = check_float("scale", scale, low=0.0)
    mode = check_choice("mode", mode, MODES)
    distribution = check_choice("distribution", distribution, DISTRIBUTIONS)

    def init(shape, rng):
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        if distribution == "normal":
            return rng.standard_normal(size=shape) * np.sqrt(scale / n)
        limit = np.sqrt(3.0 * scale / n)
        return rng.uniform(-limit, limit, size=shape)

    return init


def he_normal():
    """He et al. 2015 ("Delving Deep into Rectifiers", §2.2): N(0, 2/fan_in), for ReLU.

    Draws ``standard_normal(shape) * sqrt(2 / fan_in)``: with ``RandomState(3)`` these are the
    course notebook's ``initialize_parameters_he`` weights.
    """
    return variance_scaling(2.0, "fan_in", "normal")


def he_uniform():
    """He et al. 2015: U(±√(6/fan_in)), variance 2/fan_in."""
    return variance_scaling(2.0, "fan_in", "uniform")


def xavier_normal():
    """Glorot & Bengio 2010 ("Understanding the difficulty…", eq. 16 in normal form): N(0, 2/(fan_in+fan_out))."""
    return variance_scaling(1.0, "fan_avg", "normal")


def xavier_uniform():
    """Glorot & Bengio 2010, eq. 16: U(±√(6/(fan_in+fan_out)))."""
    return variance_scaling(1.0, "fan_avg", "uniform")


def lecun_normal():
    """LeCun et al. 1998 ("Efficient BackProp", §4.6): N(0, 1/fan_in)."""
    return variance_scaling(1.0, "fan_in", "normal")


def lecun_uniform():
    """LeCun et al. 1998: U(±√(3/fan_in)), variance 1/fan_in."""
    return variance_scaling(1.0, "fan_in", "uniform")


def random(scale=10.0):
    """The course notebook's "large random" weights: ``standard_normal(shape) * scale``.

    Variance scale² whatever the fans: with scale 10 the output saturates at initialization.
    """
    scale = check_float("scale", scale, low=0.0, low_inclusive=True)

    def init(shape, rng):
        _fans(shape)
        return rng.standard_normal(size=shape) * scale

    return init


def zeros():
    """All weights 0: every unit of a layer computes the same thing, so symmetry is never broken."""

    def init(shape, rng):
        _fans(shape)
        return np.zeros(shape)

    return init


INITIALIZERS = {
    "zeros": zeros,
    "random": random,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
    "he": he_normal,  # the course notebook's name
}


def get_initializer(name, **options):
    """The init function registered as `name`, built with `options` (e.g. ``scale=10``)."""
    factory = lookup("initializer", INITIALIZERS, name)
    try:
        return factory(**options)
    except TypeError:
        raise _options_error(name, options) from None


def _options_error(name, options):
    allowed = ", ".join(inspect.signature(INITIALIZERS[name]).parameters) or "none"
    return InitlabError(
        f"The initializer '{name}' does not take options {sorted(options)}. Allowed: {allowed}."
    )
