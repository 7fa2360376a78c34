"""Parametrizations: how each layer's initial scale, forward multiplier and learning rate change
with width. ``PARAMETRIZATIONS`` maps a name to a factory of ``Parametrization``.

An abc-parametrization (Yang & Hu 2021, "Feature Learning in Infinite-Width Neural Networks",
ICML) writes layer l's weights as ``W_l = m_l · θ_l`` with ``θ_l`` drawn by the initializer and then
scaled by ``s_l``, and trains ``θ_l`` with learning rate ``η · c_l``; the layer computes
``Z_l = m_l · (θ_l A_l) + b_l``. A parametrization is the rule that gives ``(s_l, m_l, c_l)`` for every
layer from its widths relative to a base network's::

    r_in = fan_in / base fan_in,   r_out = fan_out / base fan_out

where a hidden width n has base ``base_width`` (ratio n / base_width) and the input features and the
outputs keep their size (ratio 1). At the base width every parametrization here is the standard one
(all factors 1); they differ in how the factors move away from it. The factors assume an
initializer whose variance is ∝ 1/fan_in (He, LeCun, or any fan_in mode of variance_scaling): with
another (Xavier's fan_avg, a fixed std, orthogonal) the initial scales are not the paper's.

==========  ===========================  ===========  =======  ==============  ===============
name        layer                        s (init)     m        c, SGD          c, Adam
==========  ===========================  ===========  =======  ==============  ===============
sp          every weight and bias        1            1        1               1
ntk         every weight                 √r_in        1/√r_in  1               1
mup         input weights                1            1        r_out           1
mup         hidden weights               1            1        1               1/r_in
mup         output weights               1/√r_in      1        1/r_in          1/r_in
mup         biases                       (bias rule)  —        r_out           1
==========  ===========================  ===========  =======  ==============  ===============

``ntk`` is Jacot, Gabriel & Hongler 2018 ("Neural Tangent Kernel", NeurIPS): ``W = θ/√fan_in``
with θ of unit scale, the same initial function as SP. ``mup`` is Tensor Programs V (Yang et al.
2022, "Tuning Large Neural Networks via Zero-Shot Hyperparameter Transfer"), Table 3, divided by
its value at the base width: initial variances 1/fan_in (input, hidden) and 1/fan_in² (output);
SGD learning rates η·fan_out (input weights, biases), η (hidden), η/fan_in (output); Adam η
(input, biases), η/fan_in (hidden, output). ``readout="multiplier"`` moves the output layer's
factor into a forward multiplier, as the ``mup`` package's ``MuReadout`` does: ``m = 1/r_in``,
``s = √r_in``, SGD ``c = r_in``, Adam ``c = 1`` with Adam's ε / r_in — the same training, by the
abc-symmetry: ``m → m/k, s → k·s, c_SGD → k²·c_SGD, c_Adam → k·c_Adam, ε → ε/k`` for any k > 0
(θ is k times larger and its gradient k times smaller, so Adam's √v̂, which ε is added to, is too).
``zero_readout=True`` starts the output weights at 0 (TP5's recommendation).

>>> p = get_parametrization("mup(base_width=64, optimizer='adam')")
>>> [rule.lr for rule in p.rules((2, 256, 256, 1))]  # input, hidden (r_in = 4), output
[1.0, 0.25, 0.25]
>>> p.rules((2, 64, 64, 1)) == get_parametrization("sp").rules((2, 64, 64, 1))  # the base width: SP
True
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._spec import BuiltFromSpec, Scalar, Spec
from ._validation import InitlabError, Interval, OneOf, build, check_layer_sizes, validate

OPTIMIZER_FAMILIES = ("sgd", "adam")  # gd and momentum follow SGD's rules
READOUTS = ("init", "multiplier")


def optimizer_family(optimizer: str) -> str:
    """Whose rules an optimizer of ``optim.OPTIMIZERS`` trains under: adam's, or sgd's (gd, sgd, momentum).

    >>> optimizer_family("momentum"), optimizer_family("adam")
    ('sgd', 'adam')
    """
    return "adam" if optimizer == "adam" else "sgd"


@dataclass(frozen=True)
class LayerRule:
    """One layer's factors: ``init`` × the initializer's draw of W (0: start at zero),
    ``multiplier`` in ``Z = multiplier · W·A + b``, ``lr`` and ``bias_lr`` × the learning rate of W
    and of b, ``eps`` × Adam's ε for W."""

    init: float = 1.0
    multiplier: float = 1.0
    lr: float = 1.0
    bias_lr: float = 1.0
    eps: float = 1.0


@dataclass(frozen=True, eq=False)
class Parametrization(BuiltFromSpec):
    """A named rule for the per-layer factors; ``rules(sizes)`` gives one ``LayerRule`` per layer.
    Equality, hashing and pickling go through ``spec``."""

    spec: Spec
    layer_rule: Callable[[str, float, float], LayerRule]  # (role, r_in, r_out) -> the layer's factors
    base_width: int

    @classmethod
    def from_spec(cls, spec: Spec) -> Parametrization:
        return build_parametrization(spec)

    def ratios(self, sizes: Sequence[int]) -> list[tuple[float, float]]:
        """(r_in, r_out) of each layer of a network with layer sizes `sizes`: a hidden width over
        ``base_width``; the input features and the outputs 1."""
        sizes = check_layer_sizes("sizes", sizes)
        width = [1.0] + [n / self.base_width for n in sizes[1:-1]] + [1.0]  # (L + 1,) one per layer boundary
        return [(width[l], width[l + 1]) for l in range(len(sizes) - 1)]

    def rules(self, sizes: Sequence[int]) -> tuple[LayerRule, ...]:
        """The factors of every layer, input layer first (``role``: input, hidden or output; a
        network with one layer has only an output layer, of ratios 1)."""
        ratios = self.ratios(sizes)
        roles = ["input"] + ["hidden"] * (len(ratios) - 2) + ["output"] if len(ratios) > 1 else ["output"]
        return tuple(self.layer_rule(role, r_in, r_out) for role, (r_in, r_out) in zip(roles, ratios))


_BASE = Interval(numbers.Integral, 1)  # the base network's hidden width


def sp(base_width: int = 64) -> Parametrization:
    """The standard parametrization: every factor 1 (the initializer's own scale, one learning rate).

    >>> sp().rules((2, 128, 1))
    (LayerRule(init=1.0, multiplier=1.0, lr=1.0, bias_lr=1.0, eps=1.0), LayerRule(init=1.0, multiplier=1.0, lr=1.0, bias_lr=1.0, eps=1.0))
    """
    (base_width,) = validate({"base_width": _BASE}, {"base_width": base_width}).values()
    return Parametrization(Spec.of_call("sp", sp, base_width=base_width), lambda role, r_in, r_out: LayerRule(), base_width)


def ntk(base_width: int = 64) -> Parametrization:
    """The NTK parametrization (Jacot et al. 2018): ``W = θ·(1/√r_in)`` with θ drawn √r_in wider,
    so the network computes SP's function at initialization; the learning rate of θ is not scaled,
    so the effective step on W shrinks as 1/r_in (SGD). Biases are left as in SP.

    >>> ntk(base_width=16).rules((2, 64, 1))[1].multiplier  # output layer, r_in = 4
    0.5
    """
    (base_width,) = validate({"base_width": _BASE}, {"base_width": base_width}).values()

    def rule(role: str, r_in: float, r_out: float) -> LayerRule:
        return LayerRule(init=math.sqrt(r_in), multiplier=1.0 / math.sqrt(r_in))

    return Parametrization(Spec.of_call("ntk", ntk, base_width=base_width), rule, base_width)


def mup(base_width: int = 64, optimizer: str = "sgd", readout: str = "init", zero_readout: bool = False) -> Parametrization:
    """μP (Tensor Programs V, Table 3, relative to the base width; see the module's table).
    `optimizer`: sgd (also gd and momentum) or adam; `readout`: init (the output layer's factor in
    its initial scale and learning rate) or multiplier (in a forward multiplier, as ``mup``'s
    MuReadout, with Adam's ε scaled so that training is the same: the package itself leaves ε as it
    is, which differs once √v̂ is as small as ε); `zero_readout`: output weights
    start at 0.

    >>> [r.lr for r in mup(base_width=64).rules((2, 256, 256, 1))]  # SGD: input r_out = 4, hidden, output 1/r_in
    [4.0, 1.0, 0.25]
    >>> mup(base_width=64, readout="multiplier").rules((2, 256, 1))[-1].multiplier
    0.25
    """
    values = validate({"base_width": _BASE, "optimizer": OneOf(OPTIMIZER_FAMILIES), "readout": OneOf(READOUTS),
                       "zero_readout": OneOf((False, True))},
                      {"base_width": base_width, "optimizer": optimizer, "readout": readout, "zero_readout": zero_readout})
    base_width, optimizer, readout, zero_readout = values.values()
    adam = optimizer == "adam"

    def rule(role: str, r_in: float, r_out: float) -> LayerRule:
        bias_lr = 1.0 if adam else r_out
        if role == "input":
            return LayerRule(lr=1.0 if adam else r_out, bias_lr=bias_lr)
        if role == "hidden":
            return LayerRule(lr=1.0 / r_in if adam else 1.0, bias_lr=bias_lr)
        start = 0.0 if zero_readout else 1.0
        if readout == "multiplier":  # Table 3's output factors moved by k = r_in (the abc-symmetry)
            return LayerRule(init=start * math.sqrt(r_in), multiplier=1.0 / r_in, lr=1.0 if adam else r_in,
                             bias_lr=bias_lr, eps=1.0 / r_in if adam else 1.0)
        return LayerRule(init=start / math.sqrt(r_in), lr=1.0 / r_in, bias_lr=bias_lr)

    spec = Spec.of_call("mup", mup, base_width=base_width, optimizer=optimizer, readout=readout, zero_readout=zero_readout)
    return Parametrization(spec, rule, base_width)


PARAMETRIZATIONS: dict[str, Callable[..., Parametrization]] = {"sp": sp, "ntk": ntk, "mup": mup}


def build_parametrization(spec: Spec) -> Parametrization:
    """The parametrization a spec names, built by its registry factory."""
    return build("parametrization", PARAMETRIZATIONS, spec.key, spec.kwargs)


def for_optimizer(name: str | Spec, optimizer: str, param: str = "parametrization") -> Spec:
    """The canonical spec of the parametrization `name` for training with `optimizer` (a key of
    ``optim.OPTIMIZERS``): μP's rules follow the optimizer's family (:func:`optimizer_family`) unless
    the spec names one, which must then agree; other parametrizations are the same for every optimizer.

    >>> str(for_optimizer("mup(base_width=32)", "adam")), str(for_optimizer("ntk", "adam"))
    ('mup(base_width=32, optimizer=adam)', 'ntk')
    """
    written = Spec.parse(name, param, "parametrization")  # the options as given, defaults included
    spec = get_parametrization(written).spec
    if spec.key != "mup":
        return spec
    family, given = optimizer_family(optimizer), written.kwargs.get("optimizer")
    if given is not None and given != family:
        raise InitlabError(f"The '{param}' parameter's μP rules are for {given}, but the network trains with "
                           f"{optimizer}: give mup(optimizer={family}), or leave optimizer out. Got '{written}'.")
    return get_parametrization(spec, optimizer=family).spec


def for_training(name: str | Spec, optimizer: str, base_width: int, param: str = "parametrization") -> Spec | None:
    """What a network trained with `optimizer` stores for the parametrization `name`: None for the
    standard one, else :func:`for_optimizer`'s spec relative to `base_width` unless `name` names its own.

    >>> for_training("sp", "adam", 32), str(for_training("mup", "adam", 32)), str(for_training("ntk(base_width=8)", "gd", 32))
    (None, 'mup(base_width=32, optimizer=adam)', 'ntk(base_width=8)')
    """
    written = Spec.parse(name, param, "parametrization")
    if written.key == "sp":
        return None
    return for_optimizer(Spec.make(written.key, {"base_width": base_width, **written.kwargs}), optimizer, param)


def get_parametrization(name: str | Spec | Parametrization, **options: Scalar) -> Parametrization:
    """The parametrization `name` (a name, a text spec such as ``mup(optimizer='adam')``, a ``Spec``),
    built with `options` (added to the spec's own)."""
    spec = name.spec if isinstance(name, Parametrization) else Spec.parse(name, "parametrization", "parametrization")
    return build_parametrization(Spec.make(spec.key, {**spec.kwargs, **options}, param="parametrization"))
