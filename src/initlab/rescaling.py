"""LSUV on weights you already have: :func:`lsuv` rescales each layer of a network to unit
pre-activation variance on a batch and says, per layer, what it did (:class:`LsuvReport`).

The ``"lsuv"`` initializer (``net.init("lsuv", X=batch)``) draws the weights and then runs the
same rescaling (``initializers._lsuv_rescale``, the one implementation); this module runs it on
given parameters, orthonormal or not, and keeps the per-layer record the initializer drops.

>>> import numpy as np
>>> from initlab.network import Network
>>> net = Network((4, 8, 1))
>>> X = np.random.default_rng(0).standard_normal((4, 100))
>>> params, report = lsuv(net, net.init("orthogonal", rng=0), X)
>>> report.converged
True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import numpy as np
from numpy.typing import ArrayLike

from ._validation import InitlabError, _fail, check_float, check_int, check_X
from .initializers import _lsuv_rescale
from .network import Network

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("layer", "variance_before", "variance", "factor", "rescalings", "converged")


@dataclass(frozen=True)
class LsuvLayer:
    """What :func:`lsuv` did to layer `layer` (1..L): Var(Z_l) on X before and after, the factor
    W_l was multiplied by in all (the product of its rescalings), how many rescalings it took, and
    whether |variance − 1| < tol."""

    layer: int
    variance_before: float
    variance: float
    factor: float
    rescalings: int
    converged: bool


@dataclass(frozen=True)
class LsuvReport:
    """One :func:`lsuv` run: one :class:`LsuvLayer` per layer, first to last, and the `tol` and
    `max_iter` it ran with."""

    layers: tuple[LsuvLayer, ...]
    tol: float
    max_iter: int

    @property
    def converged(self) -> bool:
        """Every layer reached |Var(Z_l) − 1| < tol."""
        return all(layer.converged for layer in self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __str__(self) -> str:
        unconverged = [layer.layer for layer in self.layers if not layer.converged]
        verdict = ("every layer converged" if not unconverged else
                   "not converged in layer" + ("s " if len(unconverged) > 1 else " ") + ", ".join(map(str, unconverged)))
        header = ("layer", "var before", "var reached", "factor", "rescalings", "converged")
        rows = [(str(r.layer), f"{r.variance_before:.4g}", f"{r.variance:.4g}", f"{r.factor:.4g}", str(r.rescalings),
                 "yes" if r.converged else "no") for r in self.layers]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in [header, *rows]]
        return "\n".join([f"LSUV (tol {self.tol:g}, max_iter {self.max_iter}): {verdict}", *lines])

    def to_frame(self) -> pd.DataFrame:
        """One row per layer, the columns of :class:`LsuvLayer`."""
        import pandas as pd  # imported when used: pandas costs 0.3 s at start-up

        return pd.DataFrame([[getattr(layer, c) for c in COLUMNS] for layer in self.layers], columns=list(COLUMNS))


def lsuv(network: Network, params: ArrayLike, X: ArrayLike, *, tol: float = 0.1,
         max_iter: int = 10) -> tuple[np.ndarray, LsuvReport]:
    """Layer-sequential unit-variance rescaling of `params` (shape (P,)) on the batch X (n_0, m).

    Mishkin & Matas, "All you need is a good init" (2015; ICLR 2016), Algorithm 1, after its
    orthonormal pre-initialization: from the first layer to the last,

        W_l ← W_l / √Var(Z_l),   Z_l = W_l · A_{l−1} + b_l  on X (over units and examples),

    repeated until |Var(Z_l) − 1| < `tol` or `max_iter` rescalings, each layer with the layers
    before it already rescaled. Biases are left as they are (with non-zero biases one rescaling
    is not exact, hence the loop). Returns a rescaled copy (`params` is never modified) and an
    :class:`LsuvReport`; `report.converged` is False where a layer ran out of rescalings, which is
    not an error. The same numbers as ``network.init("lsuv", X=X, tol=tol, max_iter=max_iter)``
    on that initializer's draw.

    A network with a parametrization is refused: its initial scales are the point of it and the
    rescaling would undo them. So is a layer whose pre-activations do not vary on X (all-zero
    weights, say), which no factor brings to variance 1.

    >>> import numpy as np
    >>> from initlab.network import Network
    >>> net = Network((10, 50, 50, 1), activation="relu")
    >>> X = np.random.default_rng(0).standard_normal((10, 256)) * 3.0
    >>> params, report = lsuv(net, net.init("orthogonal", rng=0), X)
    >>> print(report)
    LSUV (tol 0.1, max_iter 10): every layer converged
    layer  var before  var reached  factor  rescalings  converged
        1        1.79            1  0.7475           1        yes
        2      0.4928            1   1.425           1        yes
        3      0.3632            1   1.659           1        yes
    >>> [round(float(np.var(Z)), 6) for _, Z in net.forward(params, X)[1]]
    [1.0, 1.0, 1.0]
    """
    if not isinstance(network, Network):
        _fail("network", "an initlab Network", f"a {type(network).__name__}", described=True)
    if network.parametrization is not None:
        raise InitlabError(f"The 'network' parameter must use the standard parametrization: LSUV rescales each layer "
                           f"to unit variance, which would undo the parametrization '{network.parametrization}' "
                           f"(its initial scales). Got parametrization '{network.parametrization}' instead.",
                           param="network")
    if network.residual is not None:
        raise InitlabError(f"The 'network' parameter must be a plain network: LSUV rescales each layer to unit variance, "
                           f"which would undo the branch scheme '{network.residual}'. Got a residual network instead.",
                           param="network")
    try:
        params = network.check_params(params, batched=False)
    except InitlabError as exc:  # its shape message names 'params' but does not set .param
        raise InitlabError(str(exc), param=exc.param or "params") from None
    if not np.isfinite(params).all():
        _fail("params", "finite (no NaN or inf)", f"an array with {int((~np.isfinite(params)).sum())} non-finite values",
              described=True)
    X = check_X(X, network.sizes[0])
    tol = check_float("tol", tol, low=0.0)
    max_iter = check_int("max_iter", max_iter, low=1)

    def flat(l: int, var: float) -> NoReturn:
        _fail("params", f"weights whose layer-{l} pre-activations vary on X, which rescaling needs", f"variance {var:g}",
              described=True)

    rescaled, records = _lsuv_rescale(network, params, X, tol, max_iter, flat)
    layers = tuple(LsuvLayer(l, *r) for l, r in enumerate(records, start=1))  # the record's fields, in order
    return rescaled, LsuvReport(layers, tol, max_iter)
