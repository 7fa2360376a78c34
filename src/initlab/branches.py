"""Residual branches: how a residual network's blocks add to their stream, and how each branch-scaling
scheme starts them. ``BRANCHES`` maps a name to a factory of ``BranchScheme``.

A residual network (``Network(sizes, residual="rezero")``) is a stem layer, K blocks of m dense layers
(the scheme's ``depth``) and a head; a block that changes the stream's width adds its branch to P_k·h
instead of h (a projection shortcut, trained). With
``F_k(a) = W_{k,m} φ(… φ(W_{k,1} a + b_{k,1}) …) + b_{k,m}`` (the branch: its last layer linear)::

    pre  (He et al. 2016, "Identity Mappings in Deep Residual Networks"):
        h_0 = W_0 x + b_0,      h_k = h_{k−1} + α_k·F_k(φ(h_{k−1})),     logits = W_head φ(h_K) + b_head
    post (He et al. 2016, "Deep Residual Learning"; Fixup's networks):
        h_0 = φ(W_0 x + b_0),   h_k = φ(h_{k−1} + α_k·F_k(h_{k−1})),     logits = W_head h_K + b_head

Each block's multiplier α_k is a parameter (the last K entries of the flat vector): a learnable one
is trained, a fixed one has learning rate 0 (it never moves). The schemes (L = K blocks, m layers per branch):

==========  ===============  =========  ================================================================
name        α_k at init      learnable  weights (as drawn by the initializer, then)
==========  ===============  =========  ================================================================
standard    alpha (1)        learnable  unchanged
fixup       1                yes        each branch's last layer 0, its others × K^(−1/(2m−2)), head 0, β = 0
skipinit    alpha (0)        yes        unchanged
rezero      0                yes        unchanged
depth_mup   K^(−1/2)         no         unchanged; branch learning rates × K^(2a−1) (SGD), K^(a−1) (Adam)
completep   K^(−1)           no         as depth_mup, with a = 1
==========  ===============  =========  ================================================================

Fixup: Zhang, Dauphin & Ma 2019, "Fixup Initialization: Residual Learning Without Normalization"
(ICLR), §3's rule: zero the classification layer and each branch's last layer, scale the other branch
layers by L^(−1/(2m−2)), add a scalar multiplier (at 1) per branch and a scalar bias (at 0) before each
linear layer and element-wise activation: here a learnable β per branch layer added to its input,
z = W(a + β) + b (``scalar_biases``, on by default; the one before an activation is the layer's own bias
vector b, of which a scalar is a special case). SkipInit: De &
Smith 2020 ("Batch Normalization Biases Residual Blocks Towards the Identity Function"), a learnable
scalar at the end of each branch, at 0 or a small constant. ReZero: Bachlechner et al. 2020 ("ReZero is
All You Need"), ``x + α·F(x)`` with α learnable from 0. Without normalization layers SkipInit at 0 and
ReZero are the same network. Depth-μP: Yang et al. 2023 ("Tensor Programs VI: Feature Learning in
Infinite-Depth Neural Networks") and Bordelon et al. 2023 ("Depthwise Hyperparameter Transfer in
Residual Networks"): branches × 1/√L. CompleteP: Dey et al. 2025 ("Don't be lazy: CompleteP enables
compute-efficient deep transformers"): branches × 1/L.

The depth schemes' learning rates (derived here): with branches × K^(−a), a branch parameter's gradient
is K^(−a) smaller and a step moves its branch's output by K^(−a)·Δ, Δ ∝ η·K^(−a) for SGD and ∝ η for
Adam (its steps are normalized); K branches add up, so the stream moves by η·K^(1−2a) (SGD) or
η·K^(1−a) (Adam). Branch learning rates × K^(2a−1) (SGD) or K^(a−1) (Adam) make that independent of
K: for a = 1/2, SGD's 1 and Adam's K^(−1/2) (Depth-μP's), for a = 1 SGD's K and Adam's 1; Adam's ε
follows the gradients' scale, × K^(−a).

>>> scheme = get_branch("fixup")
>>> scheme.order, scheme.learnable, scheme.initial_alpha(16), scheme.layer_scale(0, 16), scheme.layer_scale(1, 16)
('post', True, 1.0, 0.25, 0.0)
>>> round(get_branch("depth_mup").initial_alpha(16), 4), get_branch("completep(optimizer=adam)").lr_factor(16)
(0.25, 1.0)
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

from ._spec import BuiltFromSpec, Scalar, Spec
from ._validation import Constraint, Flag, InitlabError, Interval, OneOf, build, validate

ORDERS = ("pre", "post")  # where φ sits: on the branch's input (pre) or on the stream after the sum (post)
OPTIMIZER_FAMILIES = ("sgd", "adam")  # as parametrizations': gd and momentum follow SGD's rules


@dataclass(frozen=True, eq=False)
class BranchScheme(BuiltFromSpec):
    """How a residual network's blocks are wired (`order`, `depth` layers per branch) and started:
    α_k = ``initial_alpha(K)``, trained when `learnable`; branch layer j's drawn weights ×
    ``layer_scale(j, K)``; the head's weights × 0 when `zero_head`; the branch parameters' learning
    rates × ``lr_factor(K)`` and Adam's ε × ``eps_factor(K)``; with `scalar_biases`, a learnable β per
    branch layer added to its input. Equality, hashing and pickling go through `spec`."""

    spec: Spec
    order: str
    depth: int
    learnable: bool
    alpha: Callable[[int], float]  # K -> α_k at initialization
    scale: Callable[[int, int], float]  # (j, K) -> the factor on branch layer j's drawn weights
    zero_head: bool = False
    exponent: float = 0.0  # a: branches × K^(−a) (the depth schemes' learning-rate rule); 0: none
    family: str = "sgd"
    scalar_biases: bool = False  # a learnable scalar β added to each branch layer's input: z = W(a + β) + b (Fixup's)

    @classmethod
    def from_spec(cls, spec: Spec) -> BranchScheme:
        return build_branch(spec)

    def blocks(self, n_layers: int) -> int:
        """K, the blocks of a network of `n_layers` dense layers (stem + K·depth + head), else a clear error."""
        K, left = divmod(n_layers - 2, self.depth)
        if n_layers < 2 + self.depth or left:
            raise InitlabError(
                f"The 'sizes' parameter must give a stem layer, whole blocks of {self.depth} layers (the branch scheme "
                f"'{self.spec}') and a head: 2 + K·{self.depth} layers. Got {n_layers} layers instead.")
        return K

    def initial_alpha(self, K: int) -> float:
        return float(self.alpha(K))

    def layer_scale(self, j: int, K: int) -> float:
        return float(self.scale(j, K))

    def lr_factor(self, K: int) -> float:
        """The factor on every branch parameter's learning rate (1 unless a depth scheme)."""
        if self.exponent == 0.0:
            return 1.0
        return float(K) ** (self.exponent - 1.0 if self.family == "adam" else 2.0 * self.exponent - 1.0)

    def eps_factor(self, K: int) -> float:
        """The factor on Adam's ε for every branch parameter: K^(−a) with Adam, else 1."""
        return float(K) ** -self.exponent if self.family == "adam" else 1.0


_CHECKS: dict[str, Constraint] = {"order": OneOf(ORDERS), "depth": Interval(numbers.Integral, 1), "learnable": Flag(),
                                  "scalar_biases": Flag(), "alpha": Interval(numbers.Real, text="a finite float"),
                                  "optimizer": OneOf(OPTIMIZER_FAMILIES)}


def _unchanged(j: int, K: int) -> float:
    return 1.0


def _scheme(key: str, factory: Callable[..., BranchScheme], *, start: Callable[[int], float], trained: bool,
            scale: Callable[[int, int], float] = _unchanged, zero_head: bool = False, exponent: float = 0.0,
            shifts: bool = False, **options: Scalar) -> BranchScheme:
    """The core every entry is built by: α_k = start(K), trained or not; `options` (order, depth and the
    entry's own) checked and kept in the spec."""
    values = validate({name: _CHECKS[name] for name in options}, options)
    return BranchScheme(Spec.of_call(key, factory, **values), str(values["order"]), int(values["depth"]), trained, start,
                        scale, zero_head, exponent, str(values.get("optimizer", "sgd")), shifts)


def standard(alpha: float = 1.0, learnable: bool = False, order: str = "pre", depth: int = 2) -> BranchScheme:
    """x + α·F(x), every α_k = `alpha` (fixed unless `learnable`): the plain ResNet at α = 1.

    >>> get_branch("standard(alpha=0.5)").initial_alpha(64)
    0.5
    """
    value = float(validate({"alpha": _CHECKS["alpha"]}, {"alpha": alpha})["alpha"])
    return _scheme("standard", standard, start=lambda K: value, trained=bool(learnable), alpha=alpha, learnable=learnable,
                   order=order, depth=depth)


def fixup(order: str = "post", depth: int = 2, scalar_biases: bool = True) -> BranchScheme:
    """Fixup (Zhang et al. 2019): each branch's last layer and the head start at 0, the branch's other
    layers × K^(−1/(2m−2)) (m = `depth` ≥ 2), α_k learnable from 1; with `scalar_biases`, a learnable
    scalar β (from 0) added to each branch layer's input, z = W(a + β) + b, as Fixup's scalar biases
    before each linear layer (those before an activation are the layers' bias vectors b here).

    >>> get_branch("fixup(depth=3)").layer_scale(0, 16)  # 16^(−1/4)
    0.5
    """
    if isinstance(depth, numbers.Integral) and not isinstance(depth, bool) and depth < 2:
        raise InitlabError(f"The 'depth' parameter must be an int >= 2 for fixup (its scale K^(-1/(2m-2)) needs two layers "
                           f"per branch). Got {depth!r} instead.")

    def scale(j: int, K: int) -> float:
        return 0.0 if j == depth - 1 else float(K) ** (-1.0 / (2 * depth - 2))

    shifts = bool(validate({"scalar_biases": _CHECKS["scalar_biases"]}, {"scalar_biases": scalar_biases})["scalar_biases"])
    return _scheme("fixup", fixup, start=lambda K: 1.0, trained=True, scale=scale, zero_head=True, shifts=shifts,
                   order=order, depth=depth, scalar_biases=scalar_biases)


def skipinit(alpha: float = 0.0, order: str = "pre", depth: int = 2) -> BranchScheme:
    """SkipInit (De & Smith 2020): α_k learnable from `alpha` (0, or a small constant)."""
    value = float(validate({"alpha": _CHECKS["alpha"]}, {"alpha": alpha})["alpha"])
    return _scheme("skipinit", skipinit, start=lambda K: value, trained=True, alpha=alpha, order=order, depth=depth)


def rezero(order: str = "pre", depth: int = 2) -> BranchScheme:
    """ReZero (Bachlechner et al. 2020): α_k learnable from 0, so every block starts as the identity."""
    return _scheme("rezero", rezero, start=lambda K: 0.0, trained=True, order=order, depth=depth)


def _depth_scaled(key: str, factory: Callable[..., BranchScheme], exponent: float, optimizer: str, order: str,
                  depth: int) -> BranchScheme:
    """Branches × K^(−exponent), fixed, with the learning-rate and ε factors of the module's derivation."""
    return _scheme(key, factory, start=lambda K: float(K) ** -exponent, trained=False, exponent=exponent,
                   optimizer=optimizer, order=order, depth=depth)


def depth_mup(optimizer: str = "sgd", order: str = "pre", depth: int = 2) -> BranchScheme:
    """Depth-μP (Yang et al. 2023; Bordelon et al. 2023): α_k = 1/√K, fixed; Adam's branch learning
    rates × 1/√K (SGD's unchanged)."""
    return _depth_scaled("depth_mup", depth_mup, 0.5, optimizer, order, depth)


def completep(optimizer: str = "sgd", order: str = "pre", depth: int = 2) -> BranchScheme:
    """CompleteP (Dey et al. 2025): α_k = 1/K, fixed; SGD's branch learning rates × K, Adam's ε × 1/K."""
    return _depth_scaled("completep", completep, 1.0, optimizer, order, depth)


BRANCHES: dict[str, Callable[..., BranchScheme]] = {"standard": standard, "fixup": fixup, "skipinit": skipinit,
                                                     "rezero": rezero, "depth_mup": depth_mup, "completep": completep}


def build_branch(spec: Spec) -> BranchScheme:
    """The branch scheme a spec names, built by its registry factory."""
    return build("branch scheme", BRANCHES, spec.key, spec.kwargs)


def get_branch(name: str | Spec | BranchScheme, **options: Scalar) -> BranchScheme:
    """The branch scheme `name` (a name, a text spec such as ``standard(alpha=0.5)``, a ``Spec``),
    built with `options` (added to the spec's own)."""
    spec = name.spec if isinstance(name, BranchScheme) else Spec.parse(name, "residual", "branch scheme")
    return build_branch(Spec.make(spec.key, {**spec.kwargs, **options}, param="residual"))
