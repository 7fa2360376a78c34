"""A multilayer perceptron of any depth and width, on one flat parameter vector.

Notation (the course's): layer l = 1..L computes ``Z_l = W_l @ A_{l−1} + b_l`` (``m_l·W_l @ A_{l−1} + b_l``
with a parametrization's forward multiplier m_l) and ``A_l = φ_l(Z_l)``; ``A_0 = X`` has shape (n_0, m), examples as columns. Hidden layers use the
registered activations; the output activation belongs to the loss, which is computed from the
logits ``Z_L``.

Parameters are one flat vector of the network's ``dtype`` (float64, or float32), laid out W_1, b_1, W_2, b_2, …
(each W row-major, shape (n_l, n_{l−1}); each b shape (n_l, 1)); a layer built without a bias
(``bias=False``) has no b_l in it (``Z_l = W_l @ A_{l−1}``). Every function also accepts a stack of B parameter
vectors, shape (B, P): the same code then trains B networks at once.

>>> import numpy as np
>>> net = Network((2, 10, 5, 1))
>>> params = net.init("he_normal", rng=np.random.RandomState(3))
>>> params.shape
(91,)
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import cached_property
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._validation import (Checked, Constraint, InitlabError, OneOf, RandomSource, SeedLike, _fail, check_data, check_int,
                          check_layer_sizes, check_random_state, check_X, validate)
from ._spec import Spec
from .activations import Activation, activation_spec, build_activation
from .branches import BranchScheme, build_branch, get_branch
from .initializers import Cache, Scheme, get_initializer
from .losses import Loss, build_loss, get_loss
from .parametrizations import LayerRule, build_parametrization, get_parametrization


class Slot(NamedTuple):
    """Where W_l and b_l live in the flat vector."""

    w_start: int
    w_shape: tuple[int, int]  # (n_l, n_{l-1})
    b_start: int
    b_end: int  # == b_start for a layer without a bias

    @property
    def has_bias(self) -> bool:
        return self.b_end > self.b_start


NETWORK_DTYPES = ("float64", "float32")  # a network's parameters, data and arithmetic (float64: the notebook's, the default)
BiasRule = Callable[[tuple[int, int], RandomSource], ArrayLike]  # f(shape (n_l, 1), rng) -> b
BIAS_LAWS = ("a finite float, None, an initializer by name (normal(std=0.2), a Spec) or a function f(shape, rng) "
             "returning an (n_l, 1) array")


class Backward(NamedTuple):
    grad: np.ndarray | None  # same shape as params; None from backward_from(weights=False)
    dZ: list[np.ndarray]  # dZ[l-1] = dCost/dZ_l, shape (..., n_l, m)
    dA: list[np.ndarray]  # dA[l-1] = dCost/dA_l for the hidden layers l = 1..L-1 (A_l: layer l+1's input)


class Block(NamedTuple):
    """Residual block k: its branch is layers first … last (0-based), its multiplier α_k is params[alpha];
    where the block changes the stream's width, its skip path is a projection P_k (n_out, n_in) at
    params[proj:proj + n_out·n_in] (row-major; proj −1: the identity)."""

    first: int
    last: int
    alpha: int
    proj: int = -1
    proj_shape: tuple[int, int] = (0, 0)  # (n_out, n_in) of P_k
    shift: int = -1  # Fixup's scalar biases: params[shift + j] is β added to branch layer j's input (−1: none)

    @property
    def projected(self) -> bool:
        return self.proj >= 0


class ResidualCache(list[tuple[np.ndarray, np.ndarray]]):
    """A residual network's forward cache: [(A_0, Z_1), …] as a plain network's (each layer's input and
    pre-activation; a branch's last Z is its output F_k before α_k), and `streams` [T_0, …, T_K]: the
    stream after the stem and after each block (pre: h_k; post: the sum before φ), each (…, width, m)."""

    streams: list[np.ndarray]


def _loss_spec(name: str, value: Any) -> Spec:
    """The canonical spec of a loss given as a name, a ``Spec``, a ``Loss`` or its JSON."""
    return get_loss(Spec.from_json(value, name) if isinstance(value, Mapping) else value).spec


def _bias_flags(value: Any, n_layers: int) -> tuple[bool, ...]:
    """One bool per layer: True (every layer has a bias), False (none has), or one bool per layer."""
    flags = (value,) * n_layers if isinstance(value, (bool, np.bool_)) else value
    if not isinstance(flags, (tuple, list)) or len(flags) != n_layers or not all(isinstance(f, (bool, np.bool_)) for f in flags):
        raise InitlabError(
            f"The 'bias' parameter must be True, False or {n_layers} bools (one per layer: whether it adds a bias b_l). "
            f"Got {value!r} instead."
        )
    return tuple(bool(f) for f in flags)


def _bias_scheme(value: str | Spec | Mapping[str, Any]) -> Scheme:
    """The initializer a bias law names (``"normal(std=0.2)"``, a ``Spec`` or its JSON): data-independent only."""
    try:
        spec = Spec.from_json(value, "bias") if isinstance(value, Mapping) else (
            value if isinstance(value, Spec) else Spec.parse(value, param="bias", kind="initializer"))
        scheme = get_initializer(spec.key, **spec.kwargs)
    except InitlabError as exc:
        raise InitlabError(f"The 'bias' parameter must be {BIAS_LAWS}. Got {value!r} instead ({exc})") from None
    if scheme.refine is not None:
        _fail("bias", "a data-independent initializer (zeros, constant(value=0.1), normal(std=0.2), uniform, …)", str(spec))
    return scheme


def _residual_spec(name: str, value: Any) -> Spec | None:
    """None for a plain network, else the canonical spec of a branch scheme (``initlab.branches``)."""
    if value is None:
        return None
    return get_branch(Spec.from_json(value, name) if isinstance(value, Mapping) else value).spec


def _parametrization_spec(name: str, value: Any) -> Spec | None:
    """None for the standard parametrization (every factor 1 at every width), else the canonical
    spec of a parametrization given as a name, a text spec, a ``Spec``, a ``Parametrization`` or its JSON."""
    if value is None:
        return None
    spec = get_parametrization(Spec.from_json(value, name) if isinstance(value, Mapping) else value).spec
    return None if spec.key == "sp" else spec


@dataclass(frozen=True)
class Network:
    """Layer sizes (n_0, …, n_L), hidden activation(s) and loss; parameters live outside.

    A network is plain data: hashable, picklable (for Dask, joblib) and JSON-round-trippable
    (``to_json``/``from_json``). `activation` is one activation for every hidden layer or one per
    hidden layer, each a name, a text spec (``"leaky_relu(slope=0.2)"``), a ``Spec`` or an
    ``Activation`` (taken by its spec); it is stored as a tuple of canonical ``Spec``s, one per
    hidden layer, and `loss` as the loss's ``Spec``. The callables are built from the registries.
    `parametrization` (``initlab.parametrizations``: None or "sp", "ntk", "mup(optimizer=adam)", …)
    sets each layer's factors (``rules``): W_l's initial scale, a forward multiplier
    ``Z_l = m_l·W_l A_{l−1} + b_l`` and the learning rates (``lr_scale``, ``eps_scale``).
    `bias`: True (every layer adds a bias b_l), False (none does: ``Z_l = W_l A_{l−1}``, as in deep
    linear networks) or one bool per layer; a layer without a bias has no b_l in the parameters,
    so no initializer draws it and no optimizer updates it. `dtype`: "float64" (the default, the
    notebook's) or "float32": the parameters, the data and the arithmetic of training, in both the
    numpy and the compiled engine (initial weights are drawn in float64 and rounded once).
    `residual`: None (a plain MLP) or a branch scheme (``initlab.branches``: "standard", "fixup",
    "rezero", "standard(alpha=0.5, order=post)", …): the layers are then a stem, K residual blocks of the
    scheme's ``depth`` layers and a head (``residual_network`` builds the sizes), a block that changes the
    stream's width having a projection P_k on its skip path (``Block``), and the last K parameters are the
    blocks' multipliers α_k.

    >>> Network((3, 4, 1), bias=False).n_params          # W_1 (4, 3) and W_2 (1, 4) only
    16

    >>> net = Network((2, 10, 5, 1), activation="leaky_relu(slope=0.2)")
    >>> [str(a) for a in net.activation], str(net.loss)
    (['leaky_relu(slope=0.2)', 'leaky_relu(slope=0.2)'], 'binary_cross_entropy')
    >>> Network.from_json(net.to_json()) == net
    True
    """

    sizes: tuple[int, ...]
    activation: Any = "relu"
    loss: Any = "binary_cross_entropy"
    parametrization: Any = None
    bias: Any = True
    dtype: str = "float64"
    residual: Any = None

    _constraints: ClassVar[dict[str, Constraint]] = {"sizes": Checked(check_layer_sizes), "loss": Checked(_loss_spec),
                                                     "parametrization": Checked(_parametrization_spec),
                                                     "dtype": OneOf(NETWORK_DTYPES), "residual": Checked(_residual_spec)}

    def __post_init__(self) -> None:
        sizes, loss_spec, parametrization, _, residual = validate(self._constraints, vars(self)).values()
        if residual is not None:
            build_branch(residual).blocks(len(sizes) - 1)  # whole blocks, or a clear error
        n_hidden = len(sizes) - 2
        one = isinstance(self.activation, (str, Spec, Activation, Mapping))
        given = (self.activation,) * n_hidden if one else self.activation
        if not isinstance(given, (tuple, list)) or len(given) != n_hidden:
            raise InitlabError(
                f"The 'activation' parameter must be one name or {n_hidden} names (one per "
                f"hidden layer; a name may carry options: leaky_relu(slope=0.2)). Got {self.activation!r} instead."
            )
        specs = tuple(activation_spec(Spec.from_json(a, "activation") if isinstance(a, Mapping) else a) for a in given)
        loss = build_loss(loss_spec)
        if (loss.targets == "binary") != (sizes[-1] == 1) and loss.targets != "real":
            need = "1 output unit" if loss.targets == "binary" else "at least 2 output units (one per class)"
            raise InitlabError(
                f"The 'sizes' parameter must end with {need} for the loss '{loss.name}'. Got {list(sizes)} instead."
            )
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "activation", specs)
        object.__setattr__(self, "loss", loss_spec)
        object.__setattr__(self, "parametrization", parametrization)
        object.__setattr__(self, "bias", _bias_flags(self.bias, len(sizes) - 1))
        object.__setattr__(self, "residual", residual)

    def __getstate__(self) -> dict[str, Any]:
        """Only the spec is pickled: the callables are rebuilt from the registries."""
        return {"sizes": self.sizes, "activation": self.activation, "loss": self.loss, "parametrization": self.parametrization,
                "bias": self.bias, "dtype": self.dtype, "residual": self.residual}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "dtype", "float64")  # a network pickled before dtypes
        object.__setattr__(self, "residual", None)  # or before residual networks
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def to_json(self) -> dict[str, Any]:
        """``{"sizes": [...], "activation": [one per hidden layer], "loss": ...}`` and
        ``"parametrization"`` when it is not the standard one, ``"bias"`` (one bool per layer) when a
        layer has none, ``"dtype"`` when it is not float64, ``"residual"`` for a residual network; a spec
        without options is its bare name. (What every earlier network wrote is written the same way:
        stored runs keep their ids.)"""
        data: dict[str, Any] = {"sizes": list(self.sizes), "activation": [a.to_json() for a in self.activation],
                                "loss": self.loss.to_json()}
        if self.parametrization is not None:
            data["parametrization"] = self.parametrization.to_json()
        if not all(self.bias):
            data["bias"] = list(self.bias)
        if self.dtype != "float64":
            data["dtype"] = self.dtype
        if self.residual is not None:
            data["residual"] = self.residual.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Network:
        """The network ``to_json`` wrote (every part checked as when built)."""
        if not isinstance(data, Mapping) or not {"sizes", "activation", "loss"} <= set(data) <= {
                "sizes", "activation", "loss", "parametrization", "bias", "dtype", "residual"}:
            _fail("network", 'a mapping with the keys "sizes", "activation", "loss" (and "parametrization", "bias", "dtype", '
                  '"residual")', data)
        bias = data.get("bias", True)
        return cls(tuple(data["sizes"]), tuple(data["activation"]), data["loss"], data.get("parametrization"),
                   tuple(bias) if isinstance(bias, list) else bias, data.get("dtype", "float64"), data.get("residual"))

    @property
    def activation_names(self) -> tuple[str, ...]:
        """The hidden activations' text forms, one per hidden layer (``relu``, ``elu(alpha=0.5)``)."""
        return tuple(str(a) for a in self.activation)

    # --- layout -----------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @cached_property
    def hidden_activations(self) -> tuple[Activation, ...]:
        return tuple(build_activation(spec) for spec in self.activation)

    @cached_property
    def loss_fn(self) -> Loss:
        return build_loss(self.loss)

    @cached_property
    def slots(self) -> tuple[Slot, ...]:
        slots, start = [], 0
        for n_in, n_out, has_bias in zip(self.sizes[:-1], self.sizes[1:], self.bias):
            b_start = start + n_out * n_in
            slots.append(Slot(start, (n_out, n_in), b_start, b_start + n_out * has_bias))
            start = slots[-1].b_end
        return tuple(slots)

    @property
    def n_params(self) -> int:
        return self._alpha_start + len(self.blocks)

    @property
    def _alpha_start(self) -> int:
        """Where the α_k start: after the layers' W_l, b_l and the blocks' projections."""
        return self.blocks[-1].alpha - len(self.blocks) + 1 if self.blocks else self.slots[-1].b_end

    # --- residual blocks -----------------------------------------------------------------
    @cached_property
    def branch(self) -> BranchScheme | None:
        """The branch scheme of a residual network (None for a plain one)."""
        return None if self.residual is None else build_branch(self.residual)

    @cached_property
    def blocks(self) -> tuple[Block, ...]:
        """The residual blocks, in order (none for a plain network): block k's branch is layers
        1 + k·m … (k + 1)·m (0-based, m the scheme's depth) and α_k the k-th of the last K parameters;
        a block whose output width differs from its input's has a projection P_k on its skip path (after
        every layer's W_l, b_l, in block order), a scheme with scalar biases (Fixup's) one β per branch
        layer (after the projections); the α_k come last."""
        if self.branch is None:
            return ()
        m, K = self.branch.depth, self.branch.blocks(self.n_layers)
        spans = [(1 + k * m, (k + 1) * m) for k in range(K)]
        shapes = [(self.sizes[last + 1], self.sizes[first]) for first, last in spans]  # (n_out, n_in) of the skip
        at = self.slots[-1].b_end
        projections = []
        for n_out, n_in in shapes:
            projections.append(at if n_out != n_in else -1)
            at += n_out * n_in if n_out != n_in else 0
        shifts = [-1] * K
        if self.branch.scalar_biases:
            shifts, at = [at + k * m for k in range(K)], at + K * m
        return tuple(Block(first, last, at + k, p, shape if p >= 0 else (0, 0), shift)
                     for k, ((first, last), p, shape, shift) in enumerate(zip(spans, projections, shapes, shifts)))

    def shifts(self, params: np.ndarray, block: Block) -> np.ndarray:
        """A view of block's scalar biases β (one per branch layer, added to its input) in `params`: (…, m)."""
        return params[..., block.shift:block.shift + block.last - block.first + 1]

    def projection(self, params: np.ndarray, block: Block) -> np.ndarray:
        """A view of block's projection P_k in `params` (P,) or (B, P): shape (…, n_out, n_in)."""
        n_out, n_in = block.proj_shape
        return params[..., block.proj:block.proj + n_out * n_in].reshape(params.shape[:-1] + (n_out, n_in))

    def alphas(self, params: np.ndarray) -> np.ndarray:
        """A view of the blocks' multipliers α_k in `params` (P,) or (B, P): shape (…, K)."""
        return params[..., self._alpha_start:]

    # --- the parametrization's per-layer factors --------------------------------------------
    @cached_property
    def rules(self) -> tuple[LayerRule, ...]:
        """One ``LayerRule`` per layer (all factors 1 for the standard parametrization)."""
        if self.parametrization is None:
            return (LayerRule(),) * self.n_layers
        return build_parametrization(self.parametrization).rules(self.sizes)

    @cached_property
    def lr_scale(self) -> np.ndarray:
        """(P,): each parameter's learning-rate factor, in the flat layout (W_l: rule.lr, b_l: rule.bias_lr;
        × the branch scheme's factor in a branch; α_k: 1 if the scheme trains it, else 0)."""
        out = self._per_parameter(lambda rule: (rule.lr, rule.bias_lr), lambda scheme, K: scheme.lr_factor(K))
        if self.branch is not None:
            self.alphas(out)[...] = 1.0 if self.branch.learnable else 0.0
        return out

    @cached_property
    def eps_scale(self) -> np.ndarray:
        """(P,): each parameter's factor on Adam's ε (W_l: rule.eps, b_l: 1; × the branch scheme's in a branch)."""
        return self._per_parameter(lambda rule: (rule.eps, 1.0), lambda scheme, K: scheme.eps_factor(K))

    @property
    def has_rate_factors(self) -> bool:
        """Whether some parameter's learning rate or ε has a factor other than 1 (a parametrization's, a
        branch scheme's, a fixed α_k's 0): the engines then use ``lr_scale`` and ``eps_scale``."""
        return self.parametrization is not None or self.residual is not None

    def _per_parameter(self, factors: Callable[[LayerRule], tuple[float, float]],
                       branch_factor: Callable[[BranchScheme, int], float]) -> np.ndarray:
        out = np.ones(self.n_params)
        for slot, rule in zip(self.slots, self.rules):
            out[slot.w_start:slot.b_start], out[slot.b_start:slot.b_end] = factors(rule)
        if self.branch is not None and self.blocks:
            factor = branch_factor(self.branch, len(self.blocks))
            for block in self.blocks:
                out[self.slots[block.first].w_start:self.slots[block.last].b_end] *= factor
        return out

    def unpack(self, params: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Views (W_l, b_l) into `params` (P,) or (B, P): writing to them writes to `params`. A layer
        without a bias gets a read-only array of zeros for b_l (writing to it is an error)."""
        lead = params.shape[:-1]
        return [(params[..., s.w_start : s.b_start].reshape(lead + s.w_shape), self._b(params, s, lead)) for s in self.slots]

    @staticmethod
    def _b(params: np.ndarray, s: Slot, lead: tuple[int, ...]) -> np.ndarray:
        if s.has_bias:
            return params[..., s.b_start : s.b_end].reshape(lead + (s.w_shape[0], 1))  # (…, n_l, 1)
        zeros = np.zeros(lead + (s.w_shape[0], 1), dtype=params.dtype)
        zeros.flags.writeable = False
        return zeros

    def check_params(self, params: ArrayLike, name: str = "params", batched: bool = True) -> np.ndarray:
        """`params` in the network's dtype, shape (P,) — or (B, P) when `batched` — else a clear error."""
        shapes = f"({self.n_params},)" + (f" or (B, {self.n_params})" if batched else "")
        try:
            params = np.asarray(params, dtype=self.dtype)
        except (TypeError, ValueError):
            _fail(name, f"a numeric array of shape {shapes}", f"a {type(params).__name__} that is not numeric", described=True)
        if params.ndim not in ((1, 2) if batched else (1,)) or params.shape[-1] != self.n_params:
            raise InitlabError(
                f"The '{name}' parameter must have shape {shapes} for layer sizes {list(self.sizes)}. "
                f"Got shape {params.shape} instead."
            )
        return params

    # --- initialization ------------------------------------------------------------------
    def init(self, weights: str = "he_normal", rng: SeedLike = None, *, bias: float | str | Spec | BiasRule | None = None,
             X: ArrayLike | None = None, **options: Any) -> np.ndarray:
        """A flat parameter vector: each W_l drawn by the initializer `weights` (built with
        `options`), in layer order from one random source.

        `rng`: a seed, ``Generator`` or ``RandomState`` (an int seed gives the notebook's stream:
        ``init("he_normal", rng=3)`` equals ``initialize_parameters_he`` for the same sizes).
        `bias`: None (the scheme's own bias rule if it has one, e.g. ``torch_default``, else zeros),
        a number (constant), an initializer by name (``"normal(std=0.2)"``, a ``Spec``: drawn as an
        (n_l, 1) array, so a fan-based scheme sees fan_in 1), or a function ``f(shape, rng)`` of
        shape (n_l, 1). Draw order: W_1, then b_1 (if layer 1 has a bias and its rule draws), W_2, b_2, …,
        then a residual network's projections P_k (by `weights`, in block order)
        `X`: a data batch (n_0, m), needed by data-dependent schemes such as ``lsuv``.
        """
        init = get_initializer(weights, **options)
        rng = check_random_state(rng)
        params = np.zeros(self.n_params, dtype=self.dtype)  # each draw rounded once into it (float32)
        law = _bias_scheme(bias) if isinstance(bias, (str, Spec, Mapping)) else bias  # a name is looked up once
        for (W, b), rule, has_bias in zip(self.unpack(params), self.rules, self.bias):
            W[...] = init(W.shape, rng)
            if rule.init != 1.0:
                W *= rule.init  # the parametrization's initial scale (0: a zero readout)
            if has_bias:  # a layer without one draws nothing: the stream is W_1, b_1, W_2, … of the layers that have them
                b[...] = self._bias(init, law, W.shape, rng)
        for block in self.blocks:  # the projections' draws come after every layer's, in block order
            if block.projected:
                self.projection(params, block)[...] = init(block.proj_shape, rng)
        if self.branch is not None:
            self._start_branches(params)
        refine = init.refine  # data-dependent schemes: f(network, params, X) -> params
        if refine is not None:
            if self.branch is not None:
                raise InitlabError(f"The initializer '{weights}' rescales each layer to unit variance, which would undo the "
                                   f"branch scheme '{self.residual}': use a plain draw (he_normal, lecun_normal) with it.")
            if self.parametrization is not None:
                raise InitlabError(f"The initializer '{weights}' rescales each layer to unit variance, which would undo the "
                                   f"parametrization '{self.parametrization}': use a plain draw (he_normal, lecun_normal) with it.")
            if X is None:
                raise InitlabError(f"The initializer '{weights}' needs data: pass a batch X of shape ({self.sizes[0]}, m).")
            params = refine(self, params, check_X(X, self.sizes[0]))
        return params

    def _start_branches(self, params: np.ndarray) -> None:
        """The branch scheme's start, on drawn weights: branch layer j × layer_scale(j, K), the head × 0
        when the scheme says (Fixup), every α_k = initial_alpha(K)."""
        assert self.branch is not None
        K, layers = len(self.blocks), self.unpack(params)
        for block in self.blocks:
            for j, l in enumerate(range(block.first, block.last + 1)):
                layers[l][0][...] *= self.branch.layer_scale(j, K)
        if self.branch.zero_head:
            layers[-1][0][...] = 0.0
        self.alphas(params)[...] = self.branch.initial_alpha(K)

    @staticmethod
    def _bias(init: Scheme, bias: float | BiasRule | None, w_shape: tuple[int, ...],
              rng: RandomSource) -> np.ndarray | float:
        if bias is None:
            return 0.0 if init.bias is None else init.bias(w_shape, rng)  # the scheme's rule: (n_l, 1)
        shape = (w_shape[0], 1)
        if callable(bias):
            value = bias(shape, rng)
            requirement = f"a function f(shape, rng) returning a finite array of shape {shape}"
            try:
                array = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                _fail("bias", requirement, f"a {type(value).__name__} that is not numeric", described=True)
            if array.shape != shape:
                _fail("bias", requirement, f"an array of shape {array.shape}", described=True)
            if not np.isfinite(array).all():
                n_bad = int((~np.isfinite(array)).sum())
                _fail("bias", requirement, f"an array with {n_bad} non-finite values", described=True)
            return array
        if isinstance(bias, bool) or not isinstance(bias, numbers.Real) or not np.isfinite(bias):
            _fail("bias", BIAS_LAWS, bias)
        return float(bias)

    # --- forward and backward --------------------------------------------------------------
    def forward(self, params: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, Cache]:
        """Logits Z_L (…, n_L, m) and the cache [(A_0, Z_1), …, (A_{L−1}, Z_L)] (a ``ResidualCache``
        for a residual network)."""
        if self.blocks:
            return self._residual_forward(params, X)
        A, cache = X, []
        layers = self.unpack(params)
        activations = self.hidden_activations
        for l in range(self.n_layers):
            Z = self._affine(layers, l, A)  # (…, n_l, m)
            cache.append((A, Z))
            if l < len(activations):
                A = activations[l].fn(Z)
        return Z, cache

    def _affine(self, layers: list[tuple[np.ndarray, np.ndarray]], l: int, A: np.ndarray) -> np.ndarray:
        """Z_l = m_l·W_l A + b_l (…, n_l, m) for layer l (0-based) of the unpacked `layers`."""
        (W, b), m = layers[l], self.rules[l].multiplier
        Z = W @ A if m == 1.0 else m * (W @ A)
        if self.bias[l]:
            Z += b
        return Z

    def _residual_forward(self, params: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, ResidualCache]:
        """The stem, the blocks (T_{k+1} = base + α_k·F_k, base = T_k (pre) or φ(T_k) (post)) and the head."""
        assert self.branch is not None
        layers, phi, pre = self.unpack(params), self.hidden_activations, self.branch.order == "pre"
        alphas = self.alphas(params)[..., None, None]  # (…, K, 1, 1)
        cache = ResidualCache()
        T = self._affine(layers, 0, X)  # T_0 (…, width, m)
        cache.append((X, T))
        cache.streams = [T]
        writer = 0  # the layer whose activation φ applies to the stream
        for k, block in enumerate(self.blocks):
            A = phi[writer].fn(T)  # the branch's input
            base = T if pre else A
            if block.projected:
                base = self.projection(params, block) @ base  # (…, n_out, m): the skip path changes the width
            betas = None if block.shift < 0 else self.shifts(params, block)[..., None, None]  # (…, m, 1, 1)
            for j, l in enumerate(range(block.first, block.last + 1)):
                if betas is not None:
                    A = A + betas[..., j, :, :]  # Fixup's scalar bias before the linear layer
                Z = self._affine(layers, l, A)
                cache.append((A, Z))
                if l < block.last:
                    A = phi[l].fn(Z)
            T = base + alphas[..., k, :, :] * Z  # (…, width, m)
            cache.streams.append(T)
            writer = block.last
        A = phi[writer].fn(T)
        Z = self._affine(layers, self.n_layers - 1, A)  # the logits
        cache.append((A, Z))
        return Z, cache

    def backward(self, params: np.ndarray, cache: Sequence[tuple[np.ndarray, np.ndarray]], Y: np.ndarray) -> Backward:
        """Gradient of the mean cost with respect to every parameter, in the flat layout."""
        return self.backward_from(params, cache, self.loss_fn.gradient(cache[-1][1], Y))

    def backward_from(self, params: np.ndarray, cache: Sequence[tuple[np.ndarray, np.ndarray]], dZ: np.ndarray,
                      weights: bool = True) -> Backward:
        """Back-propagate `dZ` = dCost/dZ_L (…, n_L, m) through the layers (diagnostics send noise).
        `weights` False: only the signal (dZ, dA), no parameter gradient (``grad`` is None) — what
        a per-layer reading needs, at about half the cost."""
        grad = np.empty_like(params) if weights else None
        if self.blocks:
            assert isinstance(cache, ResidualCache)
            return self._residual_backward(params, cache, dZ, grad)
        layers = self.unpack(params)
        grads = None if grad is None else self.unpack(grad)
        activations = self.hidden_activations
        dZs: list[np.ndarray] = [dZ]
        dAs: list[np.ndarray] = []
        for l in range(self.n_layers - 1, -1, -1):
            self._layer_gradient(grads, l, dZ, cache[l][0])
            if l == 0:
                break
            dA = self._input_gradient(layers, l, dZ)  # (…, n_{l-1}, m)
            dZ = dA * activations[l - 1].derivative(cache[l - 1][1])
            dAs.insert(0, dA)
            dZs.insert(0, dZ)
        return Backward(grad, dZs, dAs)

    def _layer_gradient(self, grads: list[tuple[np.ndarray, np.ndarray]] | None, l: int, dZ: np.ndarray,
                        A: np.ndarray) -> None:
        """dCost/dW_l = m_l·dZ Aᵀ and dCost/db_l = Σ_e dZ into `grads` (the unpacked gradient; None: not wanted)."""
        if grads is None:
            return
        gW, gb = grads[l]
        np.matmul(dZ, np.swapaxes(A, -1, -2), out=gW)  # (…, n_l, n_{l-1})
        m = self.rules[l].multiplier  # Z_l = m·W_l A_{l−1} + b_l
        if m != 1.0:
            gW *= m
        if self.bias[l]:
            np.sum(dZ, axis=-1, keepdims=True, out=gb)  # (…, n_l, 1)

    def _input_gradient(self, layers: list[tuple[np.ndarray, np.ndarray]], l: int, dZ: np.ndarray) -> np.ndarray:
        """dCost/d(layer l's input) = m_l·W_lᵀ dZ (…, n_{l-1}, m)."""
        dA = np.swapaxes(layers[l][0], -1, -2) @ dZ
        m = self.rules[l].multiplier
        return dA if m == 1.0 else m * dA

    def _skip_gradient(self, params: np.ndarray, grad: np.ndarray | None, block: Block, G: np.ndarray,
                       base: np.ndarray) -> np.ndarray:
        """P_kᵀ·G (…, n_in, m), the skip path's gradient below a projection, after dCost/dP_k = G·baseᵀ into `grad`."""
        if grad is not None:
            np.matmul(G, np.swapaxes(base, -1, -2), out=self.projection(grad, block))  # (…, n_out, n_in)
        return np.swapaxes(self.projection(params, block), -1, -2) @ G

    def _residual_backward(self, params: np.ndarray, cache: ResidualCache, dZ: np.ndarray, grad: np.ndarray | None) -> Backward:
        """The residual network's backward pass. At a block's first layer and at the head (their input
        is φ(T_k)): dT_k = G + φ′(T_k)·dA (pre) or φ′(T_k)·(G + dA) (post), G = dT_{k+1} the stream's
        own gradient (none at the head); the layer below writes T_k: the stem's dZ is dT_0, block k−1's
        last dZ is α_{k−1}·dT_k and dα_{k−1} = Σ dT_k·F_{k−1}."""
        assert self.branch is not None
        layers, phi, pre = self.unpack(params), self.hidden_activations, self.branch.order == "pre"
        grads = None if grad is None else self.unpack(grad)
        alphas, dalphas = self.alphas(params), None if grad is None else self.alphas(grad)
        into = {block.first: k for k, block in enumerate(self.blocks)}  # layers whose input is φ(T_k)
        into[self.n_layers - 1] = len(self.blocks)
        dZs: list[np.ndarray] = [dZ] * self.n_layers
        dAs: list[np.ndarray] = [dZ] * (self.n_layers - 1)
        G: np.ndarray | None = None  # dCost/dT_{k+1} through the skip path
        shifted = {l: (block, l - block.first) for block in self.blocks if block.shift >= 0
                   for l in range(block.first, block.last + 1)}
        for l in range(self.n_layers - 1, 0, -1):
            self._layer_gradient(grads, l, dZs[l], cache[l][0])
            dA = dAs[l - 1] = self._input_gradient(layers, l, dZs[l])  # (…, n_{l-1}, m)
            if grad is not None and l in shifted:  # dβ: the input's gradient, summed
                block, j = shifted[l]
                self.shifts(grad, block)[..., j] = np.sum(dA, axis=(-2, -1))
            if l not in into:  # inside a branch
                dZs[l - 1] = dA * phi[l - 1].derivative(cache[l - 1][1])
                continue
            k = into[l]
            slope = phi[l - 1].derivative(cache.streams[k])
            if G is not None and self.blocks[k].projected:  # G = dCost/dT_{k+1}: back through P_k, and P_k's gradient
                base = cache.streams[k] if pre else phi[l - 1].fn(cache.streams[k])  # (post: φ(T_k), before any scalar bias)
                G = self._skip_gradient(params, grad, self.blocks[k], G, base)
            dT = dA * slope if G is None else (G + dA * slope if pre else (G + dA) * slope)  # dCost/dT_k
            if k == 0:
                dZs[0] = dT
            else:
                dZs[l - 1] = alphas[..., k - 1, None, None] * dT
                if dalphas is not None:
                    dalphas[..., k - 1] = np.sum(dT * cache[l - 1][1], axis=(-2, -1))
                G = dT
        self._layer_gradient(grads, 0, dZs[0], cache[0][0])
        return Backward(grad, dZs, dAs)

    def check_data(self, X: ArrayLike, Y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """X (n_0, m) and targets Y as the loss wants them (copies in the network's dtype)."""
        X, Y = check_data(X, Y, self.sizes[0], self.loss_fn.targets, self.sizes[-1])
        return (X, Y) if self.dtype == "float64" else (X.astype(self.dtype), Y.astype(self.dtype))

    # --- outputs (an overflow gives inf or nan, returned without a warning: callers check) --
    def cost(self, params: np.ndarray, X: np.ndarray, Y: np.ndarray) -> float | np.ndarray:
        """Mean loss on (X, Y), computed stably from the logits."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self.loss_fn.value(self.forward(params, X)[0], Y)

    def predict_proba(self, params: np.ndarray, X: np.ndarray) -> np.ndarray:
        """The output activation of the logits: P(y = 1 | x) for binary cross-entropy."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self.loss_fn.output(self.forward(params, X)[0])

    def predict(self, params: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Class labels (…, 1, m): 0/1 where σ(z) > 0.5 (as the course's ``predict``), or the argmax."""
        if self.loss_fn.predict is None:
            raise InitlabError(f"The loss '{self.loss}' is a regression loss: it predicts values, not classes. Use predict_proba.")
        with np.errstate(over="ignore", invalid="ignore"):
            return self.loss_fn.predict(self.forward(params, X)[0])

    def accuracy(self, params: np.ndarray, X: np.ndarray, Y: ArrayLike) -> float | np.ndarray:
        """Fraction of examples predicted right (targets Y as the loss takes them)."""
        predicted = self.predict(params, X)  # an error for a regression loss
        target_labels = self.loss_fn.target_labels
        assert target_labels is not None  # a loss that predicts classes has both
        return np.mean(predicted == target_labels(np.asarray(Y)), axis=(-2, -1))


def residual_network(n_in: int, width: int, blocks: int, n_out: int = 1, *, residual: Any = "standard",
                     hidden: int | None = None, **options: Any) -> Network:
    """A residual network: a stem n_in → `width`, `blocks` residual blocks of the scheme's depth m
    (width → `hidden` → … → width; `hidden` defaults to `width`) and a head width → n_out; `options`
    are the other ``Network`` fields (activation, loss, …).

    >>> net = residual_network(2, 16, blocks=3, residual="rezero")
    >>> net.sizes, len(net.blocks), net.n_params - Network(net.sizes).n_params   # the three α_k
    ((2, 16, 16, 16, 16, 16, 16, 16, 1), 3, 3)
    """
    scheme = get_branch(Spec.from_json(residual, "residual") if isinstance(residual, Mapping) else residual)
    count = check_int("blocks", blocks, low=1)
    inner = width if hidden is None else hidden
    branch = [inner] * (scheme.depth - 1) + [width]
    return Network((n_in, width, *branch * count, n_out), residual=scheme.spec, **options)
