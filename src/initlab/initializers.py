"""Weight initializers: ``INITIALIZERS`` maps a name to a factory of init functions.

A factory takes the scheme's options and returns ``init(shape, rng) -> ndarray``, where
``shape = (fan_out, fan_in)`` (a weight matrix ``W`` maps ``fan_in`` inputs to ``fan_out``
units, ``Z = W @ A + b``), or an N-D kernel in torch's layout ``(out, in, *receptive field)``,
whose fans count the receptive field (:func:`fans`, which also reads Keras's and JAX's layouts;
the laws without a fan take any shape, 0-size and 1-D ones too; identity, sparse and
sklearn_default are defined on matrices only, dirac and delta_orthogonal on 3-D to 5-D kernels),
and ``rng`` is a ``numpy.random.Generator`` or ``RandomState`` (only ``standard_normal`` and
``uniform`` are used, so both give the same kind of draws), an int seed (``RandomState(seed)``,
the notebook's stream) or None (a fresh ``Generator``), as everywhere in initlab; anything else
is an InitlabError naming 'rng'.

Layouts and dtypes, as JAX's factories take them: every fan-based factory takes ``in_axis=1,
out_axis=0, batch_axis=()`` (the defaults are initlab's layout; ``in_axis=-2, out_axis=-1`` is
Keras's and JAX's ``(*k, in, out)``); the scheme draws each batch element's kernel in initlab's
layout ``(out, in, *k)``, the other axes in their order, and moves the axes back, so the defaults
transpose nothing. Every factory but ``lsuv`` takes ``dtype`` ("float64", "float32", "float16",
or "bfloat16" with the package ml_dtypes): the draw is made in float64 and rounded once, so a seed
gives the float64 draw, rounded.

Every factory returns a :class:`Scheme`, a frozen record of what an initializer is: ``draw``, the
weights (``scheme(shape, rng)`` calls it); ``bias``, the scheme's own bias rule ``(w_shape, rng) ->
(n_out, 1)`` or None for zeros (``torch_default``, ``sklearn_default``, ``mean_field`` have one);
``refine``, ``(network, params, X) -> params``, run after the draw by a data-dependent scheme
(``lsuv``), or None; and ``kernels``, the fan-based scheme's declared rule on kernels
(:class:`KernelRule`). :class:`Initializer` is the protocol ``Network.init`` needs (any callable
``(shape, rng) -> W`` is one; :func:`as_scheme` makes it a Scheme without bias or refinement).

The core is :func:`variance_scaling` (as in ``jax.nn.initializers``); He/Kaiming, Xavier/Glorot
and LeCun are one-line specializations that fix its scale and fan mode. Parity notes: He, Glorot
and LeCun "normal" draw a plain normal, as torch does (Keras 3 and JAX draw a truncated normal
there: ``variance_scaling(2.0, "fan_in", "truncated_normal")`` is their ``he_normal``). README's
table "initlab name ⇄ torch ⇄ Keras ⇄ JAX" lists every entry's counterparts and conventions.

>>> import numpy as np
>>> W = INITIALIZERS["he_normal"]()((10, 2), np.random.RandomState(3))
>>> W.shape
(10, 2)
"""
from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, NoReturn, Optional, Protocol

import numpy as np

from ._spec import Scalar, Spec, split_top_level
from ._validation import (InitlabError, Interval, RandomSource, SeedLike, _fail, build, check_choice, check_float,
                          check_int, check_random_state, lookup)
from .activations import ACTIVATIONS, get_activation

MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
DISTRIBUTIONS = ("normal", "uniform", "truncated_normal")
DISTRIBUTION_ALIASES = {"untruncated_normal": "normal"}  # Keras's name for the plain normal
DTYPES = ("float64", "float32", "float16", "bfloat16")  # bfloat16: with the package ml_dtypes
TRUNCATED_STD = 0.87962566103423978  # std of N(0, 1) cut to [−2, 2] (Keras, JAX)
SKLEARN_ACTIVATIONS = {"logistic": "sigmoid", "identity": "linear"}  # sklearn's names -> ours
LINEAR_LAYERS = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")

Shape = Sequence[int]  # a weight shape (fan_out, fan_in, *receptive field)
Kernel = tuple[int, ...]  # a shape in initlab's layout (out, in, *k), positive sizes
Draw = Callable[[Shape, SeedLike], np.ndarray]  # (shape, rng) -> W (fan_out, fan_in); also the bias rule's type
Cache = list[tuple[np.ndarray, np.ndarray]]  # Network.forward's [(A_0, Z_1), …, (A_{L−1}, Z_L)]


# --- what an initializer is ----------------------------------------------------------------------
class Initializer(Protocol):
    """Draws a weight matrix of `shape` (fan_out, fan_in) from `rng`."""

    def __call__(self, shape: tuple[int, ...], rng: RandomSource) -> np.ndarray: ...


class _Layered(Protocol):
    """What a data-dependent refinement reads of a network (``initlab.network.Network``, a later module)."""

    def unpack(self, params: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]: ...

    def forward(self, params: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, Cache]: ...


Refine = Callable[[_Layered, np.ndarray, np.ndarray], np.ndarray]  # (network, params, X) -> params


class KernelRule(NamedTuple):
    """What a fan-based scheme requires of a kernel read in initlab's layout (out, in, *k), declared
    with the scheme: `accepts(kernel)` for a kernel of positive sizes, at least 2-D; `text`, the
    requirement its error states.

    >>> MATRIX.accepts((3, 4)), MATRIX.accepts((3, 4, 5)), MATRIX.text
    (True, False, 'a 2-D shape (fan_out, fan_in) of positive ints')
    """

    text: str
    accepts: Callable[[Kernel], bool]


ANY_KERNEL = KernelRule("a shape (fan_out, fan_in, *receptive field) of positive ints, at least 2-D", lambda k: True)
MATRIX = KernelRule("a 2-D shape (fan_out, fan_in) of positive ints", lambda k: len(k) == 2)


@dataclasses.dataclass(frozen=True)
class Scheme:
    """An initialization scheme: the weight draw, the scheme's own bias rule (None: zero biases), its
    data-dependent refinement (None: none) and, for a fan-based law, its rule on kernels (None: a law
    without a fan, defined on every shape). Frozen: a scheme is configured by its factory's options,
    never patched afterwards.

    >>> import numpy as np
    >>> s = torch_default()
    >>> s((3, 2), np.random.default_rng(0)).shape, s.bias((3, 2), np.random.default_rng(0)).shape, s.refine
    ((3, 2), (3, 1), None)
    >>> dirac().defined_on((8, 4, 3, 3)), dirac().defined_on((8, 4)), normal().defined_on((5,))
    (True, False, True)
    """

    draw: Draw  # (shape, rng) -> W (fan_out, fan_in)
    bias: Optional[Draw] = None  # (w_shape, rng) -> b (fan_out, 1)
    refine: Optional[Refine] = None  # (network, params, X) -> params
    kernels: Optional[KernelRule] = None  # the kernels (out, in, *k) a fan-based law is defined on

    def __call__(self, shape: Shape, rng: SeedLike) -> np.ndarray:
        return self.draw(shape, rng)

    def defined_on(self, kernel: Shape) -> bool:
        """Whether the scheme draws `kernel`, a shape in initlab's layout (out, in, *k) (what
        ``scheme_variances`` asks before it draws): any shape of sizes >= 0 for a law without a fan;
        else positive sizes, at least 2-D, that its ``kernels`` rule accepts."""
        if self.kernels is None:
            return isinstance(kernel, (tuple, list)) and all(map(_is_size, kernel))
        return (isinstance(kernel, (tuple, list)) and len(kernel) >= 2 and all(map(_is_positive_int, kernel))
                and self.kernels.accepts(tuple(int(s) for s in kernel)))


def as_scheme(init: Callable[..., np.ndarray]) -> Scheme:
    """`init` as a Scheme: a Scheme as it is, any other callable ``(shape, rng) -> W`` as its draw."""
    if isinstance(init, Scheme):
        return init
    if not callable(init):
        _fail("init", "an initializer: a Scheme or a function f(shape, rng) returning a weight matrix", init)
    return Scheme(init)


# --- shapes and draws --------------------------------------------------------------------------
def _any_rng(draw: Callable[[Shape, RandomSource], np.ndarray]) -> Draw:
    """`draw(shape, rng)` that also takes a seed or None as `rng` (``check_random_state``'s rules)."""

    @functools.wraps(draw)
    def checked(shape: Shape, rng: SeedLike) -> np.ndarray:
        return draw(shape, check_random_state(rng, name="rng"))

    return checked


class Fans(NamedTuple):
    """A weight shape's fans: fan_in = (input size)·(receptive field), fan_out likewise."""

    fan_in: int
    fan_out: int
    receptive_field: int  # the product of the sizes on the axes that are neither in, out nor batch


# The frameworks' kernel layouts, as fans' axes: torch (out, in, *k), initlab's own; Keras and JAX (*k, in, out).
LAYOUTS: dict[str, dict[str, int]] = {
    "torch": {"in_axis": 1, "out_axis": 0},
    "keras": {"in_axis": -2, "out_axis": -1},
    "jax": {"in_axis": -2, "out_axis": -1},
}


def fans(shape: Shape, in_axis: int = 1, out_axis: int = 0, batch_axis: int | Sequence[int] = ()) -> Fans:
    """fan_in, fan_out and the receptive field of a weight `shape` whose input and output sizes
    lie on `in_axis` and `out_axis` (JAX's ``variance_scaling`` arguments; the defaults are initlab's
    and torch's layout (fan_out, fan_in, *k)); `batch_axis` axes (JAX's) count in neither:

        receptive field r = Π of the other axes' sizes,  fan_in = shape[in_axis]·r,  fan_out = shape[out_axis]·r

    (torch's ``_calculate_fan_in_and_fan_out``, Keras's ``compute_fans``; He et al. 2015 §2.2
    count a convolution's fan as k²·c). A fan is undefined for fewer than 2 axes: an error
    here (torch raises too; Keras takes a 1-D shape's one size as both fans). 0-size axes give 0.

    >>> fans((64, 32, 3, 3))                                # torch's Conv2d(32, 64, 3): (out, in, kh, kw)
    Fans(fan_in=288, fan_out=576, receptive_field=9)
    >>> fans((3, 3, 32, 64), **LAYOUTS["keras"])             # the same kernel in Keras's (kh, kw, in, out)
    Fans(fan_in=288, fan_out=576, receptive_field=9)
    >>> fans((8, 3, 3, 32, 64), in_axis=-2, out_axis=-1, batch_axis=0)  # 8 kernels stacked on a batch axis
    Fans(fan_in=288, fan_out=576, receptive_field=9)
    """
    if not isinstance(shape, (tuple, list)) or not all(_is_size(s) for s in shape):
        _fail("shape", "a sequence of ints >= 0", shape)
    sizes = tuple(int(s) for s in shape)
    if len(sizes) < 2:
        _fail("shape", "at least 2-D (a fan is undefined for a 1-D or 0-D shape)", shape)
    i, o, batch = _resolve_axes(sizes, in_axis, out_axis, batch_axis)
    field = math.prod(n for k, n in enumerate(sizes) if k not in (i, o, *batch))
    return Fans(sizes[i] * field, sizes[o] * field, field)


def _batch_tuple(batch_axis: Any) -> tuple[Any, ...]:
    """`batch_axis` (one axis or a sequence of them) as a tuple, its items still to be checked."""
    if isinstance(batch_axis, numbers.Integral):
        return (batch_axis,)
    if isinstance(batch_axis, (tuple, list)):
        return tuple(batch_axis)
    _fail("batch_axis", "an int axis or a sequence of int axes", batch_axis)


def _resolve_axes(sizes: Kernel, in_axis: Any, out_axis: Any, batch_axis: Any) -> tuple[int, int, tuple[int, ...]]:
    """(in, out, batch axes) of a shape of `sizes`, counted from 0; each axis in range, all distinct."""
    batch = _batch_tuple(batch_axis)
    named = {"in_axis": in_axis, "out_axis": out_axis, **{f"batch_axis[{k}]": a for k, a in enumerate(batch)}}
    axes = [_axis(name, a, len(sizes)) for name, a in named.items()]
    if len(set(axes)) != len(axes):
        _fail("batch_axis" if batch else "out_axis", f"axes distinct from each other for a {len(sizes)}-D shape "
              f"(in_axis {in_axis}, out_axis {out_axis})", batch_axis if batch else out_axis)
    return axes[0], axes[1], tuple(axes[2:])


def _axis(name: str, axis: Any, ndim: int) -> int:
    """`axis` of a `ndim`-D shape, counted from 0 (negative: from the end)."""
    if not _is_int(axis) or not -ndim <= int(axis) < ndim:
        _fail(name, f"an int axis in [-{ndim}, {ndim - 1}] for a {ndim}-D shape", axis)
    return int(axis) % ndim


def _is_int(s: Any) -> bool:
    return isinstance(s, numbers.Integral) and not isinstance(s, bool)


def _is_positive_int(s: Any) -> bool:
    return _is_int(s) and int(s) >= 1


def _is_size(s: Any) -> bool:
    return _is_int(s) and int(s) >= 0


class _Axes(NamedTuple):
    """A fan-based factory's axes options, checked for their types (against a shape when it draws)."""

    in_axis: int = 1
    out_axis: int = 0
    batch_axis: tuple[int, ...] = ()

    def __str__(self) -> str:
        batch = f", batch_axis={self.batch_axis}" if self.batch_axis else ""
        return f"in_axis={self.in_axis}, out_axis={self.out_axis}{batch}"


TORCH_AXES = _Axes()  # initlab's and torch's layout (out, in, *k): nothing to move


def _check_axes(in_axis: Any, out_axis: Any, batch_axis: Any) -> _Axes:
    """JAX's `in_axis`, `out_axis` and `batch_axis` (one int or a list of ints), at factory time:
    ints, none repeated (a negative and a positive one that name the same axis are found at draw time)."""
    for name, axis in (("in_axis", in_axis), ("out_axis", out_axis)):
        if not _is_int(axis):
            _fail(name, "an int axis", axis)
    if int(out_axis) == int(in_axis):
        _fail("out_axis", f"an axis other than in_axis ({int(in_axis)})", out_axis)
    batch = _batch_tuple(batch_axis)
    for k, axis in enumerate(batch):
        if not _is_int(axis):
            _fail(f"batch_axis[{k}]", "an int axis", axis)
    named = (int(in_axis), int(out_axis), *map(int, batch))
    if len(set(named)) != len(named):
        _fail("batch_axis", f"axes distinct from in_axis ({int(in_axis)}), out_axis ({int(out_axis)}) and each other",
              batch_axis)
    return _Axes(int(in_axis), int(out_axis), tuple(map(int, batch)))


class _Layout(NamedTuple):
    """How a fan-based scheme reads a shape: the kernel it draws in initlab's layout, the batch
    axes' sizes and the shape's axes in the drawn order (*batch, out, in, *the others)."""

    kernel: Kernel
    batch: tuple[int, ...]
    order: tuple[int, ...]


def _layout(shape: Any, axes: _Axes, rule: KernelRule) -> _Layout:
    """`shape` read with `axes`, checked: positive sizes, at least 2-D, axes in range and distinct
    (``fans``' messages), and a kernel that `rule` accepts (its text, naming 'shape')."""
    requirement = rule.text if axes == TORCH_AXES else f"{rule.text}, read with {axes}"
    if not isinstance(shape, (tuple, list)) or len(shape) < 2 or not all(map(_is_positive_int, shape)):
        _fail("shape", requirement, shape)
    sizes = tuple(int(s) for s in shape)
    i, o, batch = _resolve_axes(sizes, *axes)
    order = (*batch, o, i, *(k for k in range(len(sizes)) if k not in (i, o, *batch)))
    kernel = tuple(sizes[k] for k in order[len(batch):])
    if not rule.accepts(kernel):
        _fail("shape", requirement if kernel == sizes else f"{requirement} (this shape is the kernel {kernel})", shape)
    return _Layout(kernel, tuple(sizes[k] for k in batch), order)


def _check_dtype(dtype: Any) -> np.dtype:
    """A factory's `dtype` (a name of DTYPES) as a numpy dtype; bfloat16 comes from ml_dtypes."""
    if not isinstance(dtype, str) or dtype not in DTYPES:
        _fail("dtype", "one of " + ", ".join(DTYPES), dtype)
    if dtype != "bfloat16":
        return np.dtype(dtype)
    try:
        import ml_dtypes  # an optional extra: initlab[bfloat16]
    except ImportError:
        raise InitlabError("The 'dtype' parameter 'bfloat16' needs the package ml_dtypes, which is not installed: "
                           "pip install ml_dtypes (or pip install 'initlab[bfloat16]').", param="dtype") from None
    return np.dtype(ml_dtypes.bfloat16)


def _kernel_scheme(draw: Callable[[Kernel, RandomSource], np.ndarray], axes: _Axes, dtype: np.dtype,
                   rule: KernelRule = ANY_KERNEL, bias: Optional[Draw] = None) -> Scheme:
    """The Scheme of a fan-based law, the one place layouts and dtypes are handled: `draw(kernel, rng)`
    draws one kernel in initlab's layout (out, in, *k), in float64; the scheme reads a shape with
    `axes`, draws each batch element's kernel in turn, moves the axes back to the shape's layout
    (nothing moves at the default axes) and rounds once to `dtype`."""

    @_any_rng
    def init(shape: Shape, rng: RandomSource) -> np.ndarray:
        layout = _layout(shape, axes, rule)
        if layout.batch:
            kernels = [draw(layout.kernel, rng) for _ in range(math.prod(layout.batch))]
            W = np.stack(kernels).reshape(layout.batch + layout.kernel)
        else:
            W = draw(layout.kernel, rng)
        if layout.order != tuple(range(len(layout.order))):
            W = np.transpose(W, np.argsort(layout.order))  # drawn axis j is the shape's axis order[j]
        return W.astype(dtype, copy=False)

    return Scheme(init, bias=bias, kernels=rule)


def _any_shape_scheme(draw: Callable[[tuple[int, ...], RandomSource], np.ndarray], dtype: np.dtype) -> Scheme:
    """The Scheme of a law without a fan: `draw(shape, rng)` on any shape (sizes >= 0), in float64,
    rounded once to `dtype`."""

    @_any_rng
    def init(shape: Shape, rng: RandomSource) -> np.ndarray:
        return draw(_check_shape(shape), rng).astype(dtype, copy=False)

    return Scheme(init)


def _bias_rule(draw: Callable[[Shape, RandomSource], np.ndarray], dtype: np.dtype) -> Draw:
    """A scheme's bias rule `draw(w_shape, rng)`, rounded once to the scheme's `dtype`."""
    return _any_rng(lambda w_shape, rng: draw(w_shape, rng).astype(dtype, copy=False))


def _fans(shape: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shape (fan_out, fan_in, *receptive field) of positive sizes:
    what the fan-based schemes divide by."""
    if not isinstance(shape, (tuple, list)) or len(shape) < 2 or not all(map(_is_positive_int, shape)):
        _fail("shape", ANY_KERNEL.text, shape)
    fan_in, fan_out, _ = fans(shape)
    return fan_in, fan_out


def _matrix(shape: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a 2-D shape (fan_out, fan_in): the schemes defined on matrices only."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 2 or not all(map(_is_positive_int, shape)):
        _fail("shape", MATRIX.text, shape)
    return _fans(shape)


def _check_shape(shape: Any) -> tuple[int, ...]:
    """Any array shape (sizes ≥ 0, any number of axes): the schemes whose law has no fan."""
    if not isinstance(shape, (tuple, list)) or not all(_is_size(s) for s in shape):
        _fail("shape", "a shape: a sequence of ints >= 0", shape)
    return tuple(int(s) for s in shape)


def _fan(mode: str, shape: Shape) -> float:
    """The n of variance_scaling's scale / n."""
    fan_in, fan_out = _fans(shape)
    return {
        "fan_in": fan_in,
        "fan_out": fan_out,
        "fan_avg": (fan_in + fan_out) / 2,
        "fan_geo_avg": math.sqrt(fan_in * fan_out),
    }[mode]


def _truncated_standard_normal(low: float, high: float, shape: Shape, rng: RandomSource) -> np.ndarray:
    """N(0, 1) cut to [low, high], by the inverse CDF of uniforms (no rejection loop).

    In log space, so that a cut far out in a tail keeps its precision: Φ(−40) underflows to 0
    (the plain ``ndtri(uniform(ndtr(low), ndtr(high)))`` returned the interval's end for every
    draw beyond about 38 standard deviations), log Φ(−40) = −804.6 does not. A uniform u maps to
    log p = log Φ(high) + log(u + (1 − u)·Φ(low)/Φ(high)) and x = Φ⁻¹(exp(log p)), computed by
    ``ndtri_exp``. One uniform per draw, as before.
    """
    from scipy.special import log_ndtr, ndtri_exp  # imported when used: it costs 0.2 s at start-up

    if low > 0:  # upper tail: draw its mirror image, where the lower tail's CDF keeps its precision
        return -_truncated_standard_normal(-high, -low, shape, rng)
    log_high = log_ndtr(high)
    log_ratio = log_ndtr(low) - log_high  # log Φ(low)/Φ(high) <= 0
    u = rng.uniform(size=shape)
    with np.errstate(divide="ignore"):  # u = 0 gives log u = −inf, and logaddexp the ratio's term
        log_p = log_high + np.logaddexp(np.log(u), np.log1p(-u) + log_ratio)
    return np.clip(ndtri_exp(log_p), low, high)


def _uniform(bound: float, shape: Shape, rng: RandomSource) -> np.ndarray:
    return rng.uniform(-bound, bound, size=shape)


def _orthogonal_matrix(rows: int, cols: int, rng: RandomSource) -> np.ndarray:
    """A Haar-random (rows, cols) matrix with orthonormal rows (rows <= cols) or columns: Q of the
    QR of a Gaussian matrix, each column's sign set by diag(R) (Mezzadri 2007), as torch and Keras."""
    wide = rows < cols
    Q, R = np.linalg.qr(rng.standard_normal(size=(cols, rows) if wide else (rows, cols)))
    Q = Q * np.where(np.diag(R) < 0, -1.0, 1.0)
    return Q.T if wide else Q


# --- the core ----------------------------------------------------------------------------------
def variance_scaling(scale: float = 1.0, mode: str = "fan_in", distribution: str = "normal", in_axis: int = 1,
                     out_axis: int = 0, batch_axis: int | Sequence[int] = (), dtype: str = "float64") -> Scheme:
    """Weights with variance ``scale / n``, n the fan chosen by `mode`.

    ``n = fan_in`` (forward signal preserved), ``fan_out`` (backward signal preserved),
    ``fan_avg = (fan_in + fan_out) / 2`` (their compromise, Glorot & Bengio 2010) or
    ``fan_geo_avg = √(fan_in · fan_out)``.
    ``normal`` (or Keras's name ``untruncated_normal``): W ~ N(0, scale/n).
    ``uniform``: W ~ U(−√(3·scale/n), +√(3·scale/n)).
    ``truncated_normal``: N(0, σ²) cut at ±2σ with σ = √(scale/n) / 0.8796…, so that the
    variance is still scale/n (as Keras 3 and ``jax.nn.initializers.variance_scaling``).
    Keras (2 and 3) reads ``distribution="normal"`` as ``truncated_normal``; here, as in JAX, it is
    the plain normal. `scale` >= 0: 0 gives zeros, as JAX accepts (Keras refuses scale <= 0).

    The fans are read with `in_axis`, `out_axis` and `batch_axis` (JAX's arguments, :func:`fans`;
    the defaults are initlab's layout (out, in, *k)); `dtype` is the result's (drawn in float64,
    rounded once: a truncation bound can then be exceeded by at most half an ulp of `dtype`).

    >>> import numpy as np
    >>> init = variance_scaling(2.0, "fan_in", "normal")          # He normal
    >>> W = init((500, 400), np.random.default_rng(0))
    >>> round(float(W.var() * 400), 1)
    2.0
    >>> W = variance_scaling(1.0, "fan_avg", "truncated_normal")((500, 400), np.random.default_rng(0))
    >>> round(float(W.var() * 450), 1), bool(np.abs(W).max() <= 2 * np.sqrt(1 / 450) / 0.8796)
    (1.0, True)
    >>> K = variance_scaling(2.0, in_axis=-2, out_axis=-1, dtype="float32")((3, 3, 32, 64), np.random.default_rng(0))
    >>> K.dtype, round(float(K.var() * 288), 1)               # Keras's (kh, kw, in, out): fan_in 288
    (dtype('float32'), 2.0)
    """
    scale = check_float("scale", scale, low=0.0, low_inclusive=True)
    mode = check_choice("mode", mode, MODES)
    distribution = check_choice("distribution", distribution, (*DISTRIBUTIONS, *DISTRIBUTION_ALIASES))
    law = DISTRIBUTION_ALIASES.get(distribution, distribution)

    def draw(kernel: Kernel, rng: RandomSource) -> np.ndarray:
        n = _fan(mode, kernel)
        if law == "normal":
            return rng.standard_normal(size=kernel) * np.sqrt(scale / n)
        if law == "uniform":
            return _uniform(np.sqrt(3.0 * scale / n), kernel, rng)
        return _truncated_standard_normal(-2.0, 2.0, kernel, rng) * (np.sqrt(scale / n) / TRUNCATED_STD)

    return _kernel_scheme(draw, _check_axes(in_axis, out_axis, batch_axis), _check_dtype(dtype))


# --- gains -------------------------------------------------------------------------------------
def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The weight-std factor for `nonlinearity`, as ``torch.nn.init.calculate_gain``.

    torch's table: 1 for linear, the conv layers and sigmoid; 5/3 for tanh; √2 for relu;
    √(2/(1+s²)) for leaky_relu with slope s = `param` (default 0.01); 3/4 for selu. Any other name
    of ``ACTIVATIONS`` gets its numeric gain 1/√E[φ(z)²] (the gains come from the activation
    registry). `param` is read only for leaky_relu, as torch does.

    >>> round(calculate_gain("tanh"), 4), round(calculate_gain("leaky_relu", 0.2), 4)
    (1.6667, 1.3868)
    """
    names = {**dict.fromkeys(LINEAR_LAYERS, "linear"), **{n: n for n in ACTIVATIONS}}
    name = lookup("nonlinearity", names, nonlinearity)
    if name != "leaky_relu" or param is None:
        return float(get_activation(name).gain)
    return float(get_activation(name, slope=check_float("param", param, low=0.0, low_inclusive=True)).gain)


def _kaiming_scale(a: float, mode: str, nonlinearity: str) -> float:
    """gain² for He init: He et al.'s 2/(1+a²) for the rectifiers, computed as such so that the
    default (a = 0) is exactly 2.0, not √2 squared; calculate_gain(nonlinearity)² otherwise."""
    a = check_float("a", a, low=0.0, low_inclusive=True)
    check_choice("mode", mode, ("fan_in", "fan_out"))
    gain = calculate_gain(nonlinearity, a)  # validates the name
    if nonlinearity in ("relu", "leaky_relu"):
        return 2.0 / (1.0 + (a * a if nonlinearity == "leaky_relu" else 0.0))
    return gain * gain


def _gain(name: str, gain: Any) -> float:
    """A gain or scale >= 0, finite: 0 gives zeros, as torch, Keras and JAX accept."""
    return check_float(name, gain, low=0.0, low_inclusive=True)


# --- named variance-scaling schemes ------------------------------------------------------------
def he_normal(a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", in_axis: int = 1,
              out_axis: int = 0, batch_axis: int | Sequence[int] = (), dtype: str = "float64") -> Scheme:
    """He et al. 2015 ("Delving Deep into Rectifiers", §2.2): N(0, gain²/fan), torch's kaiming_normal_.

    gain = calculate_gain(nonlinearity, a); the defaults (a = 0, leaky_relu) give N(0, 2/fan_in).
    Draws ``standard_normal(shape) * sqrt(2 / fan_in)``: with ``RandomState(3)`` these are the
    course notebook's ``initialize_parameters_he`` weights. Axes and dtype: :func:`variance_scaling`'s.

    >>> import numpy as np
    >>> W = he_normal(mode="fan_out", nonlinearity="tanh")((400, 300), np.random.default_rng(0))
    >>> round(float(W.var() * 400), 2)     # (5/3)² = 2.78
    2.78
    >>> K = he_normal(in_axis=-2, out_axis=-1)((3, 3, 32, 64), np.random.default_rng(0))  # Keras's layout
    >>> round(float(K.var() * 288), 1)     # N(0, 2/288)
    2.0
    """
    return variance_scaling(_kaiming_scale(a, mode, nonlinearity), mode, "normal", in_axis, out_axis, batch_axis, dtype)


def he_uniform(a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", in_axis: int = 1,
               out_axis: int = 0, batch_axis: int | Sequence[int] = (), dtype: str = "float64") -> Scheme:
    """He et al. 2015: U(±gain·√(3/fan)), variance gain²/fan; torch's kaiming_uniform_ (default U(±√(6/fan_in))).

    >>> import numpy as np
    >>> W = he_uniform()((300, 200), np.random.default_rng(0))
    >>> bool(np.abs(W).max() <= np.sqrt(6 / 200))
    True
    """
    return variance_scaling(_kaiming_scale(a, mode, nonlinearity), mode, "uniform", in_axis, out_axis, batch_axis, dtype)


def xavier_normal(gain: float = 1.0, in_axis: int = 1, out_axis: int = 0, batch_axis: int | Sequence[int] = (),
                  dtype: str = "float64") -> Scheme:
    """Glorot & Bengio 2010 ("Understanding the difficulty…", eq. 16, normal form): N(0, gain²·2/(fan_in+fan_out)).
    `gain` >= 0 (torch's xavier_normal_; 0 gives zeros).

    >>> import numpy as np
    >>> W = xavier_normal(gain=2.0)((300, 200), np.random.default_rng(0))
    >>> round(float(W.var() * 250), 1)
    4.0
    """
    return variance_scaling(_gain("gain", gain) ** 2, "fan_avg", "normal", in_axis, out_axis, batch_axis, dtype)


def xavier_uniform(gain: float = 1.0, in_axis: int = 1, out_axis: int = 0, batch_axis: int | Sequence[int] = (),
                   dtype: str = "float64") -> Scheme:
    """Glorot & Bengio 2010, eq. 16: U(±gain·√(6/(fan_in+fan_out))), `gain` >= 0.

    >>> import numpy as np
    >>> W = xavier_uniform()((300, 200), np.random.default_rng(0))
    >>> bool(np.abs(W).max() <= np.sqrt(6 / 500))
    True
    """
    return variance_scaling(_gain("gain", gain) ** 2, "fan_avg", "uniform", in_axis, out_axis, batch_axis, dtype)


def lecun_normal(in_axis: int = 1, out_axis: int = 0, batch_axis: int | Sequence[int] = (),
                 dtype: str = "float64") -> Scheme:
    """LeCun et al. 1998 ("Efficient BackProp", §4.6): N(0, 1/fan_in).

    >>> import numpy as np
    >>> round(float(lecun_normal()((300, 200), np.random.default_rng(0)).var() * 200), 1)
    1.0
    """
    return variance_scaling(1.0, "fan_in", "normal", in_axis, out_axis, batch_axis, dtype)


def lecun_uniform(in_axis: int = 1, out_axis: int = 0, batch_axis: int | Sequence[int] = (),
                  dtype: str = "float64") -> Scheme:
    """LeCun et al. 1998: U(±√(3/fan_in)), variance 1/fan_in.

    >>> import numpy as np
    >>> bool(np.abs(lecun_uniform()((300, 200), np.random.default_rng(0))).max() <= np.sqrt(3 / 200))
    True
    """
    return variance_scaling(1.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def mean_field(sigma_w2: float = 2.0, sigma_b2: float = 0.0, in_axis: int = 1, out_axis: int = 0,
               batch_axis: int | Sequence[int] = (), dtype: str = "float64") -> Scheme:
    """The mean-field parametrization (Poole et al. 2016, "Exponential expressivity in deep neural
    networks through transient chaos"; Schoenholz et al. 2017, "Deep information propagation"):
    W_l ~ N(0, σ_w²/fan_in) and b_l ~ N(0, σ_b²) (the ``.bias`` rule), the (σ_w², σ_b²) that
    ``initlab.theory`` speaks in (``length_map``, ``fixed_point``, ``critical_sigma_w2``).

    `sigma_w2` > 0 and `sigma_b2` >= 0, finite. The weights are ``variance_scaling(sigma_w2,
    "fan_in", "normal")`` (its axes and dtype); σ_b² = 0 gives zero biases without a draw, so the
    defaults are he_normal draw for draw (and ``sigma_w2=1`` is lecun_normal). The biases are
    (n_out, 1), n_out the size on `out_axis`, in `dtype`.

    >>> import numpy as np
    >>> init = mean_field(sigma_w2=1.5, sigma_b2=0.05)
    >>> W, b = init((400, 500), np.random.default_rng(0)), init.bias((20000, 500), np.random.default_rng(1))
    >>> round(float(W.var() * 500), 2), round(float(b.var()), 3), b.shape
    (1.5, 0.049, (20000, 1))
    """
    sigma_w2 = check_float("sigma_w2", sigma_w2, low=0.0)
    sigma_b2 = check_float("sigma_b2", sigma_b2, low=0.0, low_inclusive=True)
    weights = variance_scaling(sigma_w2, "fan_in", "normal", in_axis, out_axis, batch_axis, dtype)
    axes = _check_axes(in_axis, out_axis, batch_axis)
    bias = _bias_rule(lambda w_shape, rng: _normal_bias(sigma_b2, _layout(w_shape, axes, ANY_KERNEL).kernel[0], rng),
                      _check_dtype(dtype))
    return dataclasses.replace(weights, bias=bias)


def _normal_bias(variance: float, n_out: int, rng: RandomSource) -> np.ndarray:
    """N(0, variance) biases (n_out, 1); zeros, no draw, at 0."""
    return np.zeros((n_out, 1)) if variance == 0 else rng.standard_normal(size=(n_out, 1)) * np.sqrt(variance)


# --- fixed laws --------------------------------------------------------------------------------
def zeros(dtype: str = "float64") -> Scheme:
    """All weights 0: every unit of a layer computes the same thing, so symmetry is never broken.

    >>> import numpy as np
    >>> zeros()((2, 3), np.random.default_rng(0))
    array([[0., 0., 0.],
           [0., 0., 0.]])
    """
    return constant(0.0, dtype)


def ones(dtype: str = "float64") -> Scheme:
    """All weights 1 (torch's ones_, Keras's Ones): symmetric, like zeros.

    >>> import numpy as np
    >>> ones()((1, 3), np.random.default_rng(0))
    array([[1., 1., 1.]])
    """
    return constant(1.0, dtype)


def constant(value: float = 0.0, dtype: str = "float64") -> Scheme:
    """All weights `value` (torch's constant_, Keras's Constant, default 0 as Keras), rounded to `dtype`.

    >>> import numpy as np
    >>> constant(0.5)((1, 2), np.random.default_rng(0))
    array([[0.5, 0.5]])
    >>> constant(0.1, dtype="float16")((1, 2), np.random.default_rng(0))
    array([[0.1, 0.1]], dtype=float16)
    """
    value = check_float("value", value)
    return _any_shape_scheme(lambda shape, rng: np.full(shape, value), _check_dtype(dtype))


def normal(mean: float = 0.0, std: float = 0.01, dtype: str = "float64") -> Scheme:
    """N(mean, std²) whatever the fans. Default std 0.01, as ``jax.nn.initializers.normal`` and
    the classic "small random" ``randn * 0.01`` (torch's normal_ defaults to 1, Keras's to 0.05:
    ``random_normal``).

    >>> import numpy as np
    >>> round(float(normal()((300, 200), np.random.default_rng(0)).std()), 3)
    0.01
    """
    mean, std = check_float("mean", mean), check_float("std", std, low=0.0)
    return _any_shape_scheme(lambda shape, rng: rng.standard_normal(size=shape) * std + mean, _check_dtype(dtype))


def uniform(low: float = -0.05, high: float = 0.05, dtype: str = "float64") -> Scheme:
    """U(low, high) whatever the fans. Default ±0.05, Keras's RandomUniform (torch's uniform_
    defaults to U(0, 1), JAX's to U(0, 0.01): both not centred).

    >>> import numpy as np
    >>> W = uniform(-1, 1)((300, 200), np.random.default_rng(0))
    >>> bool(-1 <= W.min() and W.max() < 1)
    True
    """
    low = check_float("low", low)
    high = check_float("high", high, low=low)
    return _any_shape_scheme(lambda shape, rng: rng.uniform(low, high, size=shape), _check_dtype(dtype))


def truncated_normal(mean: float = 0.0, std: float = 0.01, a: float = -2.0, b: float = 2.0,
                     dtype: str = "float64") -> Scheme:
    """N(mean, std²) cut to [mean + a·std, mean + b·std]: `a`, `b` count standard deviations,
    as JAX (lower, upper) and Keras (±2 std) do. torch's trunc_normal_ takes absolute cut-offs
    (a = −2, b = 2 whatever std: with std 0.01 they never cut): that is ``trunc_normal`` here.
    `std` is the untruncated normal's (all three frameworks): the draws' std is smaller (× 0.8796
    for ±2). Drawn by the inverse CDF in log space, so a cut far out in a tail ([40, 41] std) is
    drawn as finely as one near the mean. Rounded to `dtype` after the cut: a draw can then pass
    the cut by at most half an ulp of `dtype`.

    >>> import numpy as np
    >>> W = truncated_normal(std=1.0, a=-1.0, b=3.0)((300, 200), np.random.default_rng(0))
    >>> bool(W.min() >= -1.0 and W.max() <= 3.0)
    True
    """
    mean, std = check_float("mean", mean), check_float("std", std, low=0.0)
    a = check_float("a", a)
    b = check_float("b", b, low=a)
    return _truncated(mean, std, a, b, (mean + a * std, mean + b * std), dtype)


def _truncated(mean: float, std: float, a: float, b: float, cut: tuple[float, float], dtype: str) -> Scheme:
    """N(mean, std²) cut to [a, b] standard deviations, and clipped to the absolute `cut` (a no-op
    for truncated_normal's own mean + a·std; trunc_normal's a_abs may differ from its round trip
    through standard deviations by an ulp)."""

    def draw(shape: tuple[int, ...], rng: RandomSource) -> np.ndarray:
        return np.clip(_truncated_standard_normal(a, b, shape, rng) * std + mean, *cut)

    return _any_shape_scheme(draw, _check_dtype(dtype))


def trunc_normal(mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                 dtype: str = "float64") -> Scheme:
    """torch's trunc_normal_: N(mean, std²) cut to the ABSOLUTE values [a, b] (defaults: torch's),
    i.e. ``truncated_normal(mean, std, (a − mean)/std, (b − mean)/std)``. Unlike torch, which warns
    and draws poorly when the mean lies more than 2 std outside [a, b], any cut is drawn exactly.

    >>> import numpy as np
    >>> W = trunc_normal(std=0.01)((300, 200), np.random.default_rng(0))   # a = −2, b = 2 never cut
    >>> bool(np.abs(W).max() < 0.1), round(float(W.std()), 3)
    (True, 0.01)
    """
    mean, std = check_float("mean", mean), check_float("std", std, low=0.0)
    a = check_float("a", a)
    b = check_float("b", b, low=a)
    return _truncated(mean, std, (a - mean) / std, (b - mean) / std, (a, b), dtype)


def random_normal(mean: float = 0.0, stddev: float = 0.05, dtype: str = "float64") -> Scheme:
    """Keras's RandomNormal, its argument names and defaults: N(mean, stddev²), stddev 0.05.

    >>> import numpy as np
    >>> round(float(random_normal()((300, 200), np.random.default_rng(0)).std()), 3)
    0.05
    """
    return normal(mean, check_float("stddev", stddev, low=0.0), dtype)


def random_uniform(minval: float = -0.05, maxval: float = 0.05, dtype: str = "float64") -> Scheme:
    """Keras's RandomUniform, its argument names and defaults: U(minval, maxval), ±0.05.

    >>> import numpy as np
    >>> W = random_uniform()((300, 200), np.random.default_rng(0))
    >>> bool(-0.05 <= W.min() and W.max() < 0.05)
    True
    """
    return uniform(minval, check_float("maxval", maxval, low=check_float("minval", minval)), dtype)


def random(scale: float = 10.0, dtype: str = "float64") -> Scheme:
    """The course notebook's "large random" weights: ``standard_normal(shape) * scale``.

    Variance scale² whatever the fans: with scale 10 the output saturates at initialization.

    >>> import numpy as np
    >>> random()((1, 2), np.random.RandomState(3)).round(2)
    array([[17.89,  4.37]])
    """
    scale = check_float("scale", scale, low=0.0, low_inclusive=True)
    return _any_shape_scheme(lambda shape, rng: rng.standard_normal(size=shape) * scale, _check_dtype(dtype))


# --- structured matrices -----------------------------------------------------------------------
def orthogonal(gain: float = 1.0, in_axis: int = 1, out_axis: int = 0, batch_axis: int | Sequence[int] = (),
               dtype: str = "float64") -> Scheme:
    """gain × a Haar-random (semi-)orthogonal matrix (Saxe et al. 2014, "Exact solutions to the
    nonlinear dynamics of learning in deep linear networks"): rows orthonormal when
    fan_out <= fan_in, else columns. Q of the QR of a Gaussian matrix, each column's sign set by
    diag(R) so that the law is uniform (Mezzadri 2007), as torch's orthogonal_ and Keras. An N-D
    kernel (out, in, *k) is drawn as torch draws it: the (out, in·k) matrix, reshaped. Read in
    Keras's layout (``in_axis=-2, out_axis=-1``) the kernel is the same law moved to (*k, in, out),
    so its (k·in, out) matrix, Keras's and JAX's flattening, has orthonormal columns (rows when
    out > k·in). `gain` >= 0.

    >>> import numpy as np
    >>> W = orthogonal()((3, 5), np.random.default_rng(0))
    >>> np.allclose(W @ W.T, np.eye(3))
    True
    >>> K = orthogonal()((4, 2, 3, 3), np.random.default_rng(0)).reshape(4, -1)  # (out, in·kh·kw)
    >>> np.allclose(K @ K.T, np.eye(4))
    True
    >>> K = orthogonal(in_axis=-2, out_axis=-1)((3, 3, 32, 64), np.random.default_rng(0)).reshape(-1, 64)
    >>> np.allclose(K.T @ K, np.eye(64))                                       # Keras's (kh·kw·in, out)
    True
    """
    gain = _gain("gain", gain)

    def draw(kernel: Kernel, rng: RandomSource) -> np.ndarray:
        return gain * _orthogonal_matrix(kernel[0], math.prod(kernel[1:]), rng).reshape(kernel)

    return _kernel_scheme(draw, _check_axes(in_axis, out_axis, batch_axis), _check_dtype(dtype))


def identity(gain: float = 1.0, in_axis: int = 1, out_axis: int = 0, batch_axis: int | Sequence[int] = (),
             dtype: str = "float64") -> Scheme:
    """gain × I, rectangular when fan_out != fan_in (ones on the main diagonal; torch's eye_, Keras's
    Identity), `gain` >= 0; a matrix only (a kernel's is ``dirac``). Deterministic: `rng` is not used.

    >>> import numpy as np
    >>> identity(2.0)((2, 3), np.random.default_rng(0))
    array([[2., 0., 0.],
           [0., 2., 0.]])
    """
    gain = _gain("gain", gain)
    return _kernel_scheme(lambda kernel, rng: np.eye(kernel[0], kernel[1]) * gain,
                          _check_axes(in_axis, out_axis, batch_axis), _check_dtype(dtype), MATRIX)


def _conv_kernel(requirement: str, accepts: Callable[[Kernel], bool]) -> KernelRule:
    """The rule of a scheme defined on convolution kernels, 3-D to 5-D (out, in, *k), as torch and JAX."""
    return KernelRule(f"a 3-D to 5-D kernel (out, in, *k) of positive ints {requirement}",
                      lambda k: 3 <= len(k) <= 5 and accepts(k))


def dirac(groups: int = 1, gain: float = 1.0, in_axis: int = 1, out_axis: int = 0,
          batch_axis: int | Sequence[int] = (), dtype: str = "float64") -> Scheme:
    """The Dirac delta kernel, torch's dirac_: a convolution that passes its first min(out/groups, in)
    input channels through to each group's outputs (Zagoruyko & Komodakis 2017, "DiracNets").

        W[g·(out/groups) + d, d, c_1, …, c_n] = gain  for g < groups, d < min(out/groups, in),
        c_j = k_j // 2 (torch's centre: the right one of the two middles of an even size); 0 elsewhere.

    A 3-D to 5-D kernel (out, in, *k), out divisible by `groups`; `gain` >= 0 (torch's dirac_ has
    none: 1). Deterministic. ``delta_orthogonal`` puts its centre at (k − 1)//2, JAX's: the two
    differ on even sizes.

    >>> import numpy as np
    >>> W = dirac()((2, 2, 3), np.random.default_rng(0))
    >>> W[:, :, 1], float(np.abs(W).sum())
    (array([[1., 0.],
           [0., 1.]]), 2.0)
    """
    groups = check_int("groups", groups, low=1)
    gain = _gain("gain", gain)
    rule = _conv_kernel(f"whose out size is divisible by groups ({groups})", lambda k: k[0] % groups == 0)

    def draw(kernel: Kernel, rng: RandomSource) -> np.ndarray:
        per_group = kernel[0] // groups
        d = np.arange(min(per_group, kernel[1]))
        rows = (np.arange(groups)[:, None] * per_group + d).ravel()
        W = np.zeros(kernel)
        index: tuple[Any, ...] = (rows, np.tile(d, groups), *(k // 2 for k in kernel[2:]))
        W[index] = gain
        return W

    return _kernel_scheme(draw, _check_axes(in_axis, out_axis, batch_axis), _check_dtype(dtype), rule)


def delta_orthogonal(scale: float = 1.0, in_axis: int = 1, out_axis: int = 0,
                     batch_axis: int | Sequence[int] = (), dtype: str = "float64") -> Scheme:
    """The delta-orthogonal kernel (Xiao et al. 2018, "Dynamical Isometry and a Mean Field Theory of
    CNNs: How to Train 10,000-Layer Vanilla CNNs", Algorithm 2), JAX's delta_orthogonal: zeros but
    at the spatial centre, whose (out, in) matrix is `scale` × a Haar-random matrix with orthonormal
    columns (``orthogonal``'s draw):

        W[:, :, c_1, …, c_n] = scale·Q,  QᵀQ = I_in,  c_j = (k_j − 1)//2 (JAX's centre: the left
        middle of an even size, where ``dirac``, torch's, takes k_j // 2); 0 elsewhere.

    A 3-D to 5-D kernel (out, in, *k) with in <= out (JAX's rule); `scale` >= 0.

    >>> import numpy as np
    >>> W = delta_orthogonal()((4, 3, 3, 3), np.random.default_rng(0))
    >>> Q = W[:, :, 1, 1]
    >>> np.allclose(Q.T @ Q, np.eye(3)), float(np.abs(W).sum() - np.abs(Q).sum())
    (True, 0.0)
    """
    scale = _gain("scale", scale)
    rule = _conv_kernel("with in <= out (JAX's rule: the centre's columns are orthonormal)", lambda k: k[1] <= k[0])

    def draw(kernel: Kernel, rng: RandomSource) -> np.ndarray:
        W = np.zeros(kernel)
        centre: tuple[Any, ...] = (slice(None), slice(None), *((k - 1) // 2 for k in kernel[2:]))
        W[centre] = scale * _orthogonal_matrix(kernel[0], kernel[1], rng)
        return W

    return _kernel_scheme(draw, _check_axes(in_axis, out_axis, batch_axis), _check_dtype(dtype), rule)


def sparse(sparsity: float = 0.1, std: float = 0.01, in_axis: int = 1, out_axis: int = 0,
           batch_axis: int | Sequence[int] = (), dtype: str = "float64") -> Scheme:
    """A sparse matrix, torch's sparse_ (after Martens 2010, "Deep learning via Hessian-free
    optimization"): each column (one input's weights) gets exactly ⌈sparsity·rows⌉ zeros (computed
    as torch does, in floating point), at rows drawn uniformly without replacement; the other
    weights are N(0, std²). A matrix (fan_out, fan_in) only; `sparsity` in [0, 1) (torch requires
    it; 0.1 is its example), `std` > 0. The rows are the argsort of a column of uniforms, a uniformly
    random permutation (torch's randperm), so only standard_normal and uniform are drawn.

    >>> import numpy as np
    >>> W = sparse(sparsity=0.25)((8, 5), np.random.default_rng(0))
    >>> (W == 0).sum(axis=0)
    array([2, 2, 2, 2, 2])
    """
    sparsity = Interval(numbers.Real, 0.0, 1.0, closed="left").check("sparsity", sparsity)
    std = check_float("std", std, low=0.0)

    def draw(kernel: Kernel, rng: RandomSource) -> np.ndarray:
        rows, cols = kernel
        W = rng.standard_normal(size=kernel) * std
        zero_rows = np.argsort(rng.uniform(size=kernel), axis=0)[:math.ceil(sparsity * rows)]
        W[zero_rows, np.arange(cols)] = 0.0
        return W

    return _kernel_scheme(draw, _check_axes(in_axis, out_axis, batch_axis), _check_dtype(dtype), MATRIX)


# --- data-dependent ----------------------------------------------------------------------------
def lsuv(tol: float = 0.1, max_iter: int = 10, base: str = "orthogonal") -> Scheme:
    """Layer-sequential unit-variance init (Mishkin & Matas 2015, "All you need is a good init", ICLR 2016).

    Draws every W with the initializer `base`, then (``refine``, given a batch X) from the first
    layer to the last rescales W_l by 1/√Var(Z_l), Z_l that layer's pre-activation on X, until
    |Var(Z_l) − 1| < `tol` or `max_iter` rescalings.

    >>> import numpy as np
    >>> from initlab import Network
    >>> net = Network((4, 8, 1))
    >>> X = np.random.default_rng(0).standard_normal((4, 100))
    >>> params = net.init("lsuv", rng=0, X=X)
    >>> round(float(net.forward(params, X)[1][0][1].var()), 6)
    1.0
    """
    tol = check_float("tol", tol, low=0.0)
    max_iter = check_int("max_iter", max_iter, low=1)
    scheme = get_initializer(base)
    if scheme.refine is not None:
        _fail("base", "a data-independent initializer", base)

    def refine(network: _Layered, params: np.ndarray, X: np.ndarray) -> np.ndarray:
        def flat(l: int, var: float) -> NoReturn:
            _fail("base", f"an initializer whose layer-{l} pre-activations vary on X (variance {var:g})", base)

        return _lsuv_rescale(network, params, X, tol, max_iter, flat)[0]

    return dataclasses.replace(scheme, refine=refine)


class _LsuvLayer(NamedTuple):
    """What :func:`_lsuv_rescale` did to one layer (``initlab.rescaling.LsuvLayer`` is its public form)."""

    variance_before: float  # Var(Z_l) on X before the first rescaling
    variance: float  # Var(Z_l) reached
    factor: float  # the product of the rescalings applied to W_l
    rescalings: int
    converged: bool  # |variance − 1| < tol


def _lsuv_rescale(network: _Layered, params: np.ndarray, X: np.ndarray, tol: float, max_iter: int,
                  flat: Callable[[int, float], NoReturn]) -> tuple[np.ndarray, list[_LsuvLayer]]:
    """Mishkin & Matas's Algorithm 1, the one implementation (``lsuv``'s refine and
    ``initlab.rescaling.lsuv`` call it): a copy of `params` in which, from the first layer to the last,
    W_l is divided by √Var(Z_l) (Z_l its pre-activation on X) until |Var(Z_l) − 1| < `tol` or
    `max_iter` rescalings; and one record per layer. `flat(l, var)` raises for a layer l (1-based)
    whose pre-activations do not vary (variance 0 or not finite), which cannot be rescaled."""
    params = np.array(params, dtype=np.result_type(params, np.float32))  # a copy, in the network's float type
    records = []
    for l, (W, _) in enumerate(network.unpack(params)):
        before, factor, n, converged = math.nan, 1.0, 0, False
        while True:
            var = _preactivation_variance(network, params, X, l)
            if n < max_iter and not (np.isfinite(var) and var > 0):
                flat(l + 1, var)
            if n == 0:
                before = var
            converged = abs(var - 1.0) < tol
            if converged or n == max_iter:  # the last rescaling's result is measured, not rescaled again
                break
            W /= np.sqrt(var)
            factor /= math.sqrt(var)
            n += 1
        records.append(_LsuvLayer(before, var, factor, n, converged))
    return params, records


def _preactivation_variance(network: _Layered, params: np.ndarray, X: np.ndarray, l: int) -> float:
    """Var(Z_{l+1}) on X (l zero-based); NaN or inf where it overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.var(network.forward(params, X)[1][l][1]))


# --- the frameworks' defaults ------------------------------------------------------------------
def torch_default(dtype: str = "float64") -> Scheme:
    """torch.nn.Linear's reset_parameters: W by kaiming_uniform(a=√5), i.e. U(±1/√fan_in), and
    bias U(±1/√fan_in) (the ``.bias`` rule), both in `dtype`. A dense layer's default: no axes.

    >>> import numpy as np
    >>> init = torch_default()
    >>> W, b = init((300, 100), np.random.default_rng(0)), init.bias((300, 100), np.random.default_rng(1))
    >>> bool(np.abs(W).max() <= 0.1 and np.abs(b).max() <= 0.1), b.shape
    (True, (300, 1))
    """
    bias = _bias_rule(lambda w_shape, rng: _uniform(1.0 / np.sqrt(_fans(w_shape)[0]), (w_shape[0], 1), rng),
                      _check_dtype(dtype))
    return dataclasses.replace(he_uniform(a=math.sqrt(5.0), dtype=dtype), bias=bias)


def keras_default(dtype: str = "float64") -> Scheme:
    """Keras Dense's defaults: glorot_uniform weights, zero bias. A dense layer's default: no axes.

    >>> import numpy as np
    >>> bool(np.abs(keras_default()((30, 20), np.random.default_rng(0))).max() <= np.sqrt(6 / 50))
    True
    """
    return xavier_uniform(dtype=dtype)


def sklearn_default(activation: str = "relu", dtype: str = "float64") -> Scheme:
    """scikit-learn MLP's ``_init_coef`` (after Glorot & Bengio 2010): weights AND biases
    U(±√(factor/(fan_in+fan_out))), factor 6, or 2 for the logistic activation ('sigmoid' here;
    sklearn's names 'logistic' and 'identity' are accepted). Draws W as sklearn's (fan_in, fan_out)
    coef, transposed, then b: the same RandomState gives sklearn's numbers (in float64; `dtype`
    rounds both).

    >>> import numpy as np
    >>> init = sklearn_default("sigmoid")
    >>> W, b = init((30, 20), np.random.RandomState(0)), init.bias((30, 20), np.random.RandomState(0))
    >>> bool(np.abs(W).max() <= np.sqrt(2 / 50) and np.abs(b).max() <= np.sqrt(2 / 50))
    True
    """
    name = SKLEARN_ACTIVATIONS.get(activation, activation) if isinstance(activation, str) else activation
    factor = 2.0 if lookup("activation", ACTIVATIONS, name) is ACTIVATIONS["sigmoid"] else 6.0
    dt = _check_dtype(dtype)

    def bound(w_shape: Shape) -> float:
        return np.sqrt(factor / sum(_matrix(w_shape)))

    def draw(kernel: Kernel, rng: RandomSource) -> np.ndarray:
        return _uniform(bound(kernel), kernel[::-1], rng).T

    bias = _bias_rule(lambda w_shape, rng: _uniform(bound(w_shape), (w_shape[0], 1), rng), dt)
    return _kernel_scheme(draw, TORCH_AXES, dt, MATRIX, bias=bias)


# --- the registry ------------------------------------------------------------------------------
INITIALIZERS: dict[str, Callable[..., Scheme]] = {
    "variance_scaling": variance_scaling,
    "zeros": zeros,
    "ones": ones,
    "constant": constant,
    "normal": normal,
    "uniform": uniform,
    "truncated_normal": truncated_normal,
    "random_normal": random_normal,  # Keras's names and defaults
    "random_uniform": random_uniform,
    "trunc_normal": trunc_normal,  # torch's, absolute cut-offs
    "random": random,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "kaiming_normal": he_normal,
    "kaiming_uniform": he_uniform,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
    "mean_field": mean_field,
    "orthogonal": orthogonal,
    "identity": identity,
    "eye": identity,
    "dirac": dirac,
    "delta_orthogonal": delta_orthogonal,
    "sparse": sparse,
    "lsuv": lsuv,
    "torch_default": torch_default,
    "keras_default": keras_default,
    "sklearn_default": sklearn_default,
    "he": he_normal,  # the course notebook's name
}


ENTRIES, DRAWS = 100_000, 200  # scheme_variances' sample: at least ENTRIES weights, from at most DRAWS kernels


def layout_fans(shape: Shape, layout: str = "torch") -> Fans:
    """fans of `shape` read in a framework's `layout` (a key of LAYOUTS: torch, keras or jax)."""
    return fans(shape, **LAYOUTS[check_choice("layout", layout, tuple(LAYOUTS))])


def _kernel_in_layout(shape: Shape, layout: str) -> Kernel:
    """`shape`, read in `layout`, as the kernel (out, in, *k) in initlab's layout (positive sizes)."""
    layout_fans(shape, layout)  # the layout's name and the shape's sizes, with fans' messages
    return _layout(tuple(shape), _Axes(LAYOUTS[layout]["in_axis"], LAYOUTS[layout]["out_axis"]), ANY_KERNEL).kernel


def _schemes() -> Iterable[tuple[str, Scheme]]:
    """Each registered scheme at its defaults, an alias once (under its first name), lsuv (data-dependent) left out."""
    seen = set()
    for name, factory in INITIALIZERS.items():
        if factory in seen:
            continue
        seen.add(factory)
        scheme = factory()
        if scheme.refine is None:
            yield name, scheme


def scheme_variances(shape: Shape, layout: str = "torch", seed: int = 0) -> list[dict[str, Any]]:
    """What each registered scheme (at its defaults; an alias once, under its first name) draws for
    a kernel of `shape` read in `layout`: one row per scheme, its variance measured over draws
    from `seed` of the kernel in initlab's layout (out, in, *k) with the same sizes (enough kernels
    for ENTRIES weights, at most DRAWS), and that variance
    × fan_in (2 for He's laws, 1 for LeCun's). A scheme that is not defined on the kernel (its
    declared ``kernels`` rule: identity, sparse and sklearn_default on N-D shapes, dirac and
    delta_orthogonal on matrices, delta_orthogonal with in > out; :func:`undefined_schemes`) is
    skipped; data-dependent ones (lsuv) are left out.

    >>> rows = scheme_variances((64, 32, 3, 3))
    >>> [(r["scheme"], round(r["variance × fan_in"], 1)) for r in rows if r["scheme"] in ("he_normal", "lecun_uniform")]
    [('he_normal', 2.0), ('lecun_uniform', 1.0)]
    """
    fan_in = layout_fans(shape, layout).fan_in
    seed = check_int("seed", seed, low=0)
    kernel = _kernel_in_layout(shape, layout)
    draws = min(DRAWS, -(-ENTRIES // math.prod(kernel)))  # kernels pooled: at least ENTRIES weights, up to DRAWS kernels
    rows = []
    for name, scheme in _schemes():
        if scheme.defined_on(kernel):
            rng = np.random.default_rng(seed)
            W = np.concatenate([scheme(kernel, rng).ravel() for _ in range(draws)])
            variance = float(W.var())
            rows.append({"scheme": name, "variance": variance, "variance × fan_in": variance * fan_in})
    return rows


def undefined_schemes(shape: Shape, layout: str = "torch") -> list[tuple[str, str]]:
    """(name, what it requires) of each registered scheme (as ``scheme_variances`` lists them)
    that is not defined on `shape` read in `layout`, by its declared ``kernels`` rule.

    >>> undefined_schemes((64, 32, 3, 3))[0]
    ('identity', 'a 2-D shape (fan_out, fan_in) of positive ints')
    """
    kernel = _kernel_in_layout(shape, layout)
    return [(name, scheme.kernels.text) for name, scheme in _schemes()
            if scheme.kernels is not None and not scheme.defined_on(kernel)]


def layout_notes(shape: Shape, layout: str = "torch") -> list[str]:
    """Where the frameworks read `shape` differently: the other layouts' fans when they differ
    from `layout`'s, and the kernels whose fans the frameworks' own conventions get wrong."""
    mine = layout_fans(shape, layout)
    notes = []
    readers: dict[tuple[tuple[str, int], ...], list[str]] = {}  # the other layouts by their axes (keras and jax: one note)
    for name, axes in LAYOUTS.items():
        if axes != LAYOUTS[layout]:
            readers.setdefault(tuple(axes.items()), []).append(name)
    for their_axes, names in readers.items():
        theirs = fans(shape, **dict(their_axes))
        if theirs != mine:
            owners = " and ".join(f"{name}'s" for name in names)
            notes.append(f"read in {owners} layout this shape has fan_in {theirs.fan_in}, fan_out {theirs.fan_out} "
                         f"(receptive field {theirs.receptive_field})")
    if len(shape) >= 3 and layout == "torch":
        notes.append("a transposed convolution's weight in torch is (in, out/groups, *k): torch's fan_in for it is "
                     "dim 1 × k, the output side, and its fan_out the input side")
        if int(shape[1]) == 1:
            notes.append("one input channel per group (a depthwise convolution): fan_in is the receptive field alone")
    return notes


def get_initializer(name: str, **options: Any) -> Scheme:
    """The scheme registered as `name`, built with `options` (e.g. ``scale=10``).

    >>> import numpy as np
    >>> get_initializer("constant", value=3)((1, 2), np.random.default_rng(0))
    array([[3., 3.]])
    """
    return as_scheme(build("initializer", INITIALIZERS, name, options))


# --- configured entries as text: "name(key=value, …)" ------------------------------------------
def format_spec(name: str, options: Mapping[str, Scalar] | None = None) -> str:
    """The label of an initializer with options, as sweeps print it and ``parse_spec`` reads it:
    the text form of its ``Spec``.

    >>> format_spec("random", {"scale": 0.01}), format_spec("he")
    ('random(scale=0.01)', 'he')
    """
    return str(Spec.make(name, options))


def parse_spec(text: str) -> tuple[str, dict[str, Scalar]]:
    """``"name"`` or ``"name(key=value, …)"`` → (name, options); values are ints, floats, True,
    False, None or (quoted or bare) strings. The name and options are checked against the registry.

    >>> parse_spec("random(scale=0.01)"), parse_spec(" he ")
    (('random', {'scale': 0.01}), ('he', {}))
    """
    spec = Spec.parse(text, param="init", kind="initializer")
    build("initializer", INITIALIZERS, spec.key, spec.kwargs)  # unknown names and options: the registry's errors
    return spec.key, spec.kwargs


def check_specs(param: str, values: str | Iterable[str]) -> list[tuple[str, str, dict[str, Scalar]]]:
    """A non-empty list of initializer specs — names or ``"name(key=value, …)"`` (one string is a
    list of one) — as (label, name, options) triples, each checked against the registry; the
    label is ``format_spec``'s (``random(scale=0.01)``)."""
    if isinstance(values, str):
        values = [values]
    elif values is None or not hasattr(values, "__iter__"):
        _fail(param, "one initializer name (or name(key=value, …)) or a list of them", values)
    values = list(values)
    if not values:
        raise InitlabError(f"The '{param}' parameter must name at least one initializer. Got [] instead.")
    specs = [parse_spec(v) for v in values]
    return [(format_spec(name, options), name, options) for name, options in specs]


def mean_field_specs(sigma_w2: float | list[float] | tuple[float, ...] | np.ndarray,
                     sigma_b2: float | None = None) -> list[str]:
    """One configured ``mean_field`` entry per value of `sigma_w2` (a number or a list), all at the
    bias variance `sigma_b2` (None: the entry's default 0, left out of the label), as the labels
    ``check_specs`` reads; each value is checked here (``mean_field``'s rules).

    >>> mean_field_specs([1.5, 2]), mean_field_specs(2.5, sigma_b2=0.05)
    (['mean_field(sigma_w2=1.5)', 'mean_field(sigma_w2=2)'], ['mean_field(sigma_b2=0.05, sigma_w2=2.5)'])
    """
    values = list(sigma_w2) if isinstance(sigma_w2, (list, tuple, np.ndarray)) else [sigma_w2]
    if not values:
        _fail("sigma_w2", "at least one finite float > 0, such as 1.5,2", "no value", described=True)
    specs = []
    for value in values:
        options = {"sigma_w2": value} if sigma_b2 is None else {"sigma_w2": value, "sigma_b2": sigma_b2}
        mean_field(value, 0.0 if sigma_b2 is None else sigma_b2)  # the option checks, with their names
        specs.append(format_spec("mean_field", options))
    return specs


def split_specs(text: str) -> list[str]:
    """Comma-separated specs, commas inside parentheses kept: "zeros,random(scale=0.01),he"."""
    return split_top_level(text)
