"""Mean-field signal propagation through deep random networks, for any registered activation.

The theory of Poole et al. 2016 ("Exponential expressivity in deep neural networks through
transient chaos") and Schoenholz et al. 2017 ("Deep information propagation"). A layer computes
``h^l = W^l φ(h^{l−1}) + b^l`` with ``W_ij ~ N(0, σ_w²/N_{l−1})`` and ``b_i ~ N(0, σ_b²)``; as the
widths grow, each pre-activation ``h^l_i`` is Gaussian with variance ``q^l`` and

* the length map   q^l = σ_w² E[φ(√q^{l−1} z)²] + σ_b²,                z ~ N(0, 1);
* its fixed point  q*, and χ₁ = σ_w² E[φ′(√q* z)²], the mean squared singular value of a layer's
  Jacobian: χ₁ < 1 ordered (gradients vanish), χ₁ > 1 chaotic (they explode), χ₁ = 1 the edge
  of chaos, reached at ``critical_sigma_w2(σ_b²)``;
* the correlation map  c^l = (σ_w² E[φ(u₁)φ(u₂)] + σ_b²)/q*,  u₁ = √q* z₁,
  u₂ = √q* (c z₁ + √(1−c²) z₂), its stable fixed point c*, and the depth scales
  ξ_q = −1/log χ_q, ξ_c = −1/log χ_c over which q^l → q* and c^l → c* (Schoenholz et al.).

Every expectation uses the rule behind ``activations.gaussian_expectation`` (its nodes and weights;
in 2-D their tensor product), divided by the rule's E[1] so that constants come out exact.
Choices where the papers leave room:

* **Kinks.** Each integrand is read as the mean of its values just left and right of each node
  (±10⁻⁹·√q; in 2-D along z₁). Smooth integrands do not notice; the kink of the relu family then
  counts half on each side where a node sits on it: at q = 0, where every node does (χ₁ of relu at
  q* = 0 is σ_w²/2, its q → 0 limit), and in any rule with a node at 0 (odd Gauss–Hermite). The
  2-D rule still only approximates the oblique kink u₂ = 0 (see tests/test_theory.py: the relu
  correlation map against the arc-cosine kernel).
* **q^0** is a pre-activation variance (the input of layer 1 is φ(h^0)). For raw inputs x of mean
  square m = ‖x‖²/N₀ the first pre-activation variance is q¹ = σ_w² m + σ_b²: start there.
* **q*** is the limit of q^l from q0, reached by iteration with guarded Aitken Δ² steps (near the
  edge of chaos plain iteration crawls), and near 0 by solving L(q)/q = 1. ``fixed_point`` raises
  ``InitlabError`` when q^l grows without bound (relu with σ_w² > 2) or has not settled after
  ``max_iter`` steps. A collapse q^l → 0 (relu with σ_w² < 2 and σ_b² = 0, tanh with σ_w² ≤ 1 and
  σ_b² = 0) is a genuine fixed point: it returns 0.0, and any q* below tol·max(q0, 1) reads as 0.
* **χ_q** is the slope dq^l/dq^{l−1} of the length map at q*, by central finite differences: it
  equals σ_w² E[φ″(u)φ(u) + φ′(u)²] (Stein's lemma) without needing φ″, which the registry lacks.
* **c*** is 1 when χ₁ ≤ 1 (c = 1 is then the only fixed point in [0, 1] — the map is increasing
  and convex there); when χ₁ > 1 it is the root of c^l = c in [0, 1), found by bracketing and
  brentq rather than by iterating (convergence near the edge of chaos is only polynomial).

>>> round(fixed_point(1.5, 0.05, "tanh"), 4)
0.418
>>> round(critical_sigma_w2(0.05, "tanh"), 3)
1.761
>>> mean_field(2.0, 0.0, "relu").phase
'critical'
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from scipy.optimize import brentq

from ._spec import Spec
from ._validation import InitlabError, check_float, check_int
from .activations import GAUSS_NODES, GAUSS_WEIGHTS, Activation, gaussian_expectation, get_activation

_ActivationLike: TypeAlias = "str | Spec | Activation"  # a registered name, a text spec, a Spec or an Activation

_KINK = 1e-9  # half-width, in units of √q, of the left/right reading of an integrand at each node
_TINY = math.ulp(0.0)  # the left/right half-width at q = 0: the kink's two sides, nothing else
_ONE = gaussian_expectation(np.ones_like)  # the rule's E[1]
_W2 = np.outer(GAUSS_WEIGHTS, GAUSS_WEIGHTS)  # tensor-product weights: Σ w_i w_j f(x_i, x_j) ≈ E[f(z₁, z₂)]
_Q_BOUND = 1e12  # q^l above this many times max(q0, 1): "grows without bound"
_SMALL_Q = 1e-4  # q^l falling below this many times max(q0, 1) towards a fixed 0: solve L(x)/x = 1
_CRITICAL_TOL = 1e-9  # |χ₁ − 1| at most this: "critical"
_JUMP_TOL = 1e-4  # |χ₁ − 1| above this at brentq's root: χ₁ jumped over 1 rather than crossing it


# --- checks ---------------------------------------------------------------------------------------
def _params(sigma_w2, sigma_b2, activation):
    """Validated (σ_w², σ_b², Activation)."""
    return (check_float("sigma_w2", sigma_w2, low=0.0), check_float("sigma_b2", sigma_b2, low=0.0, low_inclusive=True),
            _activation(activation))


def _activation(activation) -> Activation:
    """An Activation from a registered name or an Activation (unknown names list the valid ones)."""
    return get_activation(activation)


def _variance(name, q):
    return check_float(name, q, low=0.0, low_inclusive=True)


# --- Gaussian expectations ----------------------------------------------------------------------
def _expect(g, q):
    """E[g(√q z)], z ~ N(0, 1), each node read as the mean of g just left and right of it.

    Divided by the rule's E[1] (1 − ~1e-14), so that constants come out exact.
    """
    h = _KINK * math.sqrt(q) if q > 0 else _TINY
    with np.errstate(over="ignore"):  # the notebook's sigmoid overflows exp(−z) on its way to 0
        return gaussian_expectation(lambda x: 0.5 * (g(x - h) + g(x + h)), q) / _ONE


def _expect2(g, q, c):
    """E[g(u₁, u₂)], u₁ = √q z₁, u₂ = √q (c z₁ + √(1−c²) z₂): the tensor product of the 1-D rule."""
    r = math.sqrt(q)
    h = _KINK * r if r > 0 else _TINY
    s = math.sqrt(max(0.0, 1.0 - c * c))
    x2 = s * r * GAUSS_NODES[None, :]
    total = 0.0
    with np.errstate(over="ignore"):
        for x1 in (r * GAUSS_NODES[:, None] - h, r * GAUSS_NODES[:, None] + h):
            total += float(np.sum(_W2 * g(x1, c * x1 + x2)))
    return 0.5 * total / _ONE**2


def mean_square(q: float, activation: _ActivationLike) -> float:
    """E[φ(√q z)²], z ~ N(0, 1): the mean square of φ(h) for a pre-activation h of variance q.

    >>> round(mean_square(3.0, "relu"), 12)  # closed form q/2
    1.5
    """
    q = _variance("q", q)
    act = _activation(activation)
    return _expect(lambda x: act.fn(x) ** 2, q)


def _mean_derivative_square(q, act):
    """E[φ′(√q z)²]."""
    return _expect(lambda x: act.derivative(x) ** 2, q)


# --- the length map and its fixed point -----------------------------------------------------------
def length_map(q: float, sigma_w2: float, sigma_b2: float, activation: _ActivationLike) -> float:
    """q^l = σ_w² E[φ(√q^{l−1} z)²] + σ_b² (Poole et al. 2016), with q = q^{l−1}.

    >>> round(length_map(1.0, 2.0, 0.1, "relu"), 12)  # closed form σ_w² q/2 + σ_b²
    1.1
    >>> round(length_map(1.0, 1.0, 0.0, "tanh"), 6)
    0.394294
    """
    q = _variance("q", q)
    sigma_w2, sigma_b2, act = _params(sigma_w2, sigma_b2, activation)
    return _length(q, sigma_w2, sigma_b2, act)


def _length(q, sigma_w2, sigma_b2, act):
    return sigma_w2 * _expect(lambda x: act.fn(x) ** 2, q) + sigma_b2


def variance_trajectory(q0: float, depth: int, sigma_w2: float, sigma_b2: float, activation: _ActivationLike) -> np.ndarray:
    """[q^0, q^1, …, q^depth]: the predicted pre-activation variance of each layer.

    q^0 is the variance of the pre-activations h^0 whose φ(h^0) enters layer 1; a variance that
    overflows stays ``inf``.

    >>> variance_trajectory(1.0, 3, 2.0, 0.0, "relu")  # He: q stays put
    array([1., 1., 1., 1.])
    >>> np.round(variance_trajectory(4.0, 3, 1.0, 0.0, "tanh"), 4)
    array([4.    , 0.6353, 0.3137, 0.2034])
    """
    q = _variance("q0", q0)
    depth = check_int("depth", depth, low=0)
    sigma_w2, sigma_b2, act = _params(sigma_w2, sigma_b2, activation)
    out = np.full(depth + 1, np.inf)
    for l in range(depth + 1):
        if not math.isfinite(q):
            break
        out[l] = q
        q = _length(q, sigma_w2, sigma_b2, act)
    return out


def mean_square_trajectory(q0: float, depth: int, sigma_w2: float, sigma_b2: float, activation: _ActivationLike) -> np.ndarray:
    """[E[φ(√q^l z)²] for l = 0..depth]: the predicted mean square of each layer's activations φ(h^l).

    >>> mean_square_trajectory(1.0, 2, 2.0, 0.0, "relu")
    array([0.5, 0.5, 0.5])
    """
    act = _activation(activation)
    qs = variance_trajectory(q0, depth, sigma_w2, sigma_b2, act)
    return np.array([_expect(lambda x: act.fn(x) ** 2, q) if math.isfinite(q) else np.inf for q in qs])


def fixed_point(sigma_w2: float, sigma_b2: float, activation: _ActivationLike, q0: float = 1.0, tol: float = 1e-12, max_iter: int = 10_000) -> float:
    """q* = lim q^l, the length map iterated from q^0 = q0 (Poole et al. 2016).

    Plain iteration sped up by guarded Aitken Δ² steps (Steffensen), stopped when a step changes q
    by at most tol·q. Returns 0.0 when q^l collapses to 0 (a q* below tol·max(q0, 1) reads as 0).
    Raises ``InitlabError`` when q^l grows without bound or has not settled after max_iter steps.

    >>> round(fixed_point(1.0, 0.1, "relu"), 12)  # closed form σ_b²/(1 − σ_w²/2)
    0.2
    >>> fixed_point(1.0, 0.0, "tanh")
    0.0
    >>> round(fixed_point(3.0, 0.1, "tanh"), 4)
    1.5076
    """
    sigma_w2, sigma_b2, act = _params(sigma_w2, sigma_b2, activation)
    q0, tol = check_float("q0", q0, low=0.0), check_float("tol", tol, low=0.0, high=1.0)
    max_iter = check_int("max_iter", max_iter, low=1)
    q, status, steps = _solve_length_map(lambda q: _length(q, sigma_w2, sigma_b2, act), q0, tol, max_iter)
    if status == "converged":
        return q
    where = f"for sigma_w2={sigma_w2:g}, sigma_b2={sigma_b2:g} and activation '{act.name}'"
    if status == "diverged":
        raise InitlabError(
            f"The variance q^l grows without bound {where} (it passed {q:.3g} after {steps} layers from q0={q0:g}): "
            "there is no finite fixed point q* (e.g. relu with sigma_w2 > 2)."
        )
    raise InitlabError(
        f"The variance q^l did not settle within max_iter={max_iter} iterations {where} (it went from "
        f"q0={q0:g} to {q:.6g}): there may be no finite fixed point (relu with sigma_w2 = 2 and sigma_b2 > 0 "
        "grows linearly). Raise max_iter or tol to wait longer."
    )


def _solve_length_map(L, q0, tol, max_iter):
    """(q, status, steps) with status "converged", "diverged" or "max_iter"; q the last iterate.

    Each step maps q to q1 = L(q), q2 = L(q1) and, while the steps shrink monotonically (ratio
    r = (q2 − q1)/(q1 − q) in (0, 1)), extrapolates to Aitken's q2 + (q2 − q1)·r/(1 − r); that
    extrapolation's length is also the error estimate that stops the loop (a bare step length
    would stop it early where r ≈ 1, near the edge of chaos).
    """
    bound = _Q_BOUND * max(q0, 1.0)
    floor = tol * max(q0, 1.0)
    zero_is_fixed = L(0.0) == 0.0
    q = q0
    for step in range(max_iter):
        q1 = L(q)
        q2 = L(q1) if q1 <= bound else q1
        if not q2 <= bound:  # also NaN
            return q2, "diverged", step + 1
        d1, d2 = q1 - q, q2 - q1
        if d2 == 0.0:
            return q2, "converged", step + 1
        r = d2 / d1 if d1 != 0.0 else math.inf
        if 0.0 < r < 1.0:
            jump = d2 * r / (1.0 - r)
            if abs(jump) <= tol * q2:
                return q2 + jump, "converged", step + 1
            q = _guarded(L, q2, q2 + jump, d2)
        else:
            if abs(d2) <= tol * q2:
                return q2, "converged", step + 1
            q = q2
        if zero_is_fixed and d2 < 0.0 and q <= max(_SMALL_Q * max(q0, 1.0), floor):
            return _small_fixed_point(L, q, floor), "converged", step + 1
    return q, "max_iter", max_iter


def _guarded(L, q2, guess, d2):
    """Aitken's guess where it stays on q2's side of the fixed point (L(x) − x keeps the sign of
    d2); a guess at or below 0 becomes q2/1000 (heading for 0: jump most of the way if 0 attracts)."""
    if guess <= 0.0:
        guess = q2 * 1e-3
    return guess if (L(guess) - guess) * d2 > 0.0 else q2


def _small_fixed_point(L, q, floor):
    """The largest root below q of L(x)/x = 1, where L(0) = 0 and L(q) < q; 0.0 if it is below floor.

    Near 0, L(x) − x is lost in rounding (tanh at the edge of chaos: x − 2x²) and the iterates crawl;
    L(x)/x − 1 keeps its digits, so it is bracketed decade by decade and solved by brentq.
    """
    rho = lambda x: L(x) / x - 1.0  # noqa: E731
    hi = q
    while hi / 10 > floor:
        lo = hi / 10
        if rho(lo) >= 0.0:
            return float(brentq(rho, lo, hi, xtol=1e-300, rtol=1e-13))
        hi = lo
    return 0.0


def chi1(sigma_w2: float, sigma_b2: float, activation: _ActivationLike, q: float | None = None) -> float:
    """χ₁ = σ_w² E[φ′(√q z)²] at q = q* by default (Poole et al. 2016; Schoenholz et al. 2017).

    The mean squared singular value of one layer's Jacobian: < 1 ordered, > 1 chaotic.

    >>> round(chi1(3.0, 0.5, "relu", q=4.0), 12)  # closed form σ_w²/2 at any q
    1.5
    >>> round(chi1(1.5, 0.05, "tanh"), 4)
    0.9386
    """
    sigma_w2, sigma_b2, act = _params(sigma_w2, sigma_b2, activation)
    q = fixed_point(sigma_w2, sigma_b2, act) if q is None else _variance("q", q)
    return sigma_w2 * _mean_derivative_square(q, act)


def chi_q(sigma_w2: float, sigma_b2: float, activation: _ActivationLike, q: float | None = None) -> float:
    """χ_q = dq^l/dq^{l−1} at q* by default = σ_w² E[φ″(u)φ(u) + φ′(u)²], u = √q* z (Schoenholz et al. 2017).

    By central finite differences of the length map (h = 10⁻⁵ q; forward differences at q = 0).

    >>> round(chi_q(1.0, 0.1, "relu"), 12)  # the relu length map is linear: σ_w²/2
    0.5
    """
    sigma_w2, sigma_b2, act = _params(sigma_w2, sigma_b2, activation)
    q = fixed_point(sigma_w2, sigma_b2, act) if q is None else _variance("q", q)
    L = lambda x: _length(x, sigma_w2, sigma_b2, act)  # noqa: E731
    if q == 0.0:
        h = 1e-12
        return (L(h) - L(0.0)) / h
    h = 1e-5 * q
    return (L(q + h) - L(q - h)) / (2 * h)


# --- the correlation map ---------------------------------------------------------------------------
def correlation_map(c: float, sigma_w2: float, sigma_b2: float, activation: _ActivationLike, q: float | None = None) -> float:
    """c^l = (σ_w² E[φ(u₁)φ(u₂)] + σ_b²)/q*, u₁ = √q z₁, u₂ = √q (c z₁ + √(1−c²) z₂), c = c^{l−1}.

    Poole et al. 2016. At q = q* (the default) the denominator is q*; at another q it is
    q^l = length_map(q), so that c^l stays the correlation of two inputs of variance q.

    >>> round(correlation_map(0.5, 0.5, 0.5, "linear"), 12)  # q* = 1: (σ_w² c + σ_b²)/q*
    0.75
    """
    c = check_float("c", c, low=-1.0, low_inclusive=True, high=1.0)
    sigma_w2, sigma_b2, act = _params(sigma_w2, sigma_b2, activation)
    q = _q_for_correlations(sigma_w2, sigma_b2, act, q)
    return _correlation(c, q, sigma_w2, sigma_b2, act)


def _q_for_correlations(sigma_w2, sigma_b2, act, q):
    q = fixed_point(sigma_w2, sigma_b2, act) if q is None else _variance("q", q)
    if q == 0.0:
        raise InitlabError(
            f"The correlation map is undefined at q = 0 (sigma_w2={sigma_w2:g}, sigma_b2={sigma_b2:g}, "
            f"activation '{act.name}'): every signal has collapsed to 0. Pass a q > 0."
        )
    return q


def _correlation(c, q, sigma_w2, sigma_b2, act):
    q12 = sigma_w2 * _expect2(lambda u1, u2: act.fn(u1) * act.fn(u2), q, c) + sigma_b2
    return q12 / _length(q, sigma_w2, sigma_b2, act)


def correlation_fixed_point(sigma_w2: float, sigma_b2: float, activation: _ActivationLike) -> float:
    """c*: the stable fixed point of the correlation map at q* (Poole et al. 2016).

    1 when χ₁ ≤ 1 (nearby inputs merge); when χ₁ > 1 the root of c^l = c in [0, 1), 0 for an odd φ
    with σ_b² = 0.

    >>> correlation_fixed_point(1.0, 0.05, "tanh")
    1.0
    >>> round(correlation_fixed_point(4.0, 0.05, "tanh"), 4)
    0.1651
    """
    sigma_w2, sigma_b2, act = _params(sigma_w2, sigma_b2, activation)
    q = fixed_point(sigma_w2, sigma_b2, act)
    if sigma_w2 * _mean_derivative_square(q, act) <= 1.0:
        return 1.0
    q = _q_for_correlations(sigma_w2, sigma_b2, act, q)
    return _correlation_root(lambda c: _correlation(c, q, sigma_w2, sigma_b2, act) - c)


def _correlation_root(f):
    """The root of the convex f(c) = C(c) − c in [0, 1) when f(0) ≥ 0 > f′(1)."""
    if f(0.0) <= 0.0:
        return 0.0
    for k in range(1, 41):  # f < 0 on (c*, 1): walk towards 1 until f turns negative
        b = 1.0 - 2.0**-k
        if f(b) < 0.0:
            return float(brentq(f, 0.0, b, xtol=1e-13))
    return 1.0  # within 1e-12 of 1


def chi_c(sigma_w2: float, sigma_b2: float, activation: _ActivationLike, c: float | None = None, q: float | None = None) -> float:
    """χ_c = σ_w² E[φ′(u₁)φ′(u₂)] at c = c* and q = q* by default (Schoenholz et al. 2017).

    The slope of the correlation map at c: c^l − c* shrinks by χ_c per layer. χ_c(1) = χ₁.

    >>> round(chi_c(1.0, 0.1, "relu"), 12)  # ordered: c* = 1, χ_c = χ₁ = σ_w²/2
    0.5
    >>> round(chi_c(2.0, 0.0, "tanh", c=0.0), 4)  # at c* = 0: σ_w² E[φ′(u)]²
    0.955
    """
    sigma_w2, sigma_b2, act = _params(sigma_w2, sigma_b2, activation)
    if c is None:
        c = correlation_fixed_point(sigma_w2, sigma_b2, act)
    c = check_float("c", c, low=-1.0, low_inclusive=True, high=1.0)
    q = fixed_point(sigma_w2, sigma_b2, act) if q is None else _variance("q", q)
    if c == 1.0:
        return sigma_w2 * _mean_derivative_square(q, act)
    q = _q_for_correlations(sigma_w2, sigma_b2, act, q)
    return sigma_w2 * _expect2(lambda u1, u2: act.derivative(u1) * act.derivative(u2), q, c)


def depth_scale(chi: float) -> float:
    """ξ = −1/log χ: the number of layers over which a deviation shrinking by χ per layer decays by e.

    ``inf`` for χ ≥ 1 (no decay: the edge of chaos), 0 for χ ≤ 0.

    >>> round(depth_scale(math.exp(-0.1)), 12)
    10.0
    >>> depth_scale(1.0)
    inf
    """
    chi = check_float("chi", chi)
    if chi >= 1.0:
        return math.inf
    return 0.0 if chi <= 0.0 else -1.0 / math.log(chi)


# --- the edge of chaos -----------------------------------------------------------------------------
def critical_sigma_w2(sigma_b2: float, activation: _ActivationLike, q0: float = 1.0) -> float:
    """The σ_w² at which χ₁ = 1 for this σ_b²: the edge of chaos (Poole et al. 2016; Schoenholz et al. 2017).

    brentq on χ₁(σ_w²) − 1, with q* recomputed for each candidate from q0. A candidate whose q^l
    keeps growing (no finite q* within 200 accelerated steps) has χ₁ read at q = ∞:
    σ_w² (φ′(+∞)² + φ′(−∞)²)/2, above 1 exactly when q^l grows for relu-like tails. So the edge of
    relu with σ_b² > 0, or of softplus, is the σ_w² = 2 where q* → ∞. Raises ``InitlabError`` when
    χ₁ − 1 keeps one sign for σ_w² in [10⁻⁶, 10⁶], or jumps over 0 instead of crossing it (gelu
    with σ_b² = 0 from q0 = 1: q^l collapses to 0, χ₁ ≈ 0.59, on one side and explodes on the other).

    >>> round(critical_sigma_w2(0.0, "relu"), 9)  # He et al. 2015
    2.0
    >>> critical_sigma_w2(0.0, "tanh")
    1.0
    """
    sigma_b2 = check_float("sigma_b2", sigma_b2, low=0.0, low_inclusive=True)
    act = _activation(activation)
    q0 = check_float("q0", q0, low=0.0)
    tail = _tail_derivative_square(act)

    def state(sigma_w2):
        """(χ₁ − 1, whether q^l grows without a finite q*)."""
        chi, grows = _chi1_state(sigma_w2, sigma_b2, act, q0, tail)
        return chi - 1.0, grows

    excess = lambda sigma_w2: state(sigma_w2)[0]  # noqa: E731
    lo, hi = _bracket(excess, act, sigma_b2)
    root = lo if lo == hi else float(brentq(excess, lo, hi, xtol=1e-12))
    (below, grows_below), (above, grows_above) = state(root * (1 - 1e-8)), state(root * (1 + 1e-8))
    if grows_below or grows_above:  # the edge where q* → ∞: χ₁ must tend to 1 there
        gap = root * tail - 1.0
    else:
        gap = max(below, above, key=abs)
    if abs(gap) > _JUMP_TOL:
        raise InitlabError(
            f"The activation '{act.name}' has no edge of chaos for sigma_b2={sigma_b2:g} from q0={q0:g}: "
            f"chi1 jumps over 1 at sigma_w2 = {root:.6g} (from {1 + below:.3g} to {1 + above:.3g}) instead "
            "of crossing it, where q^l switches between settling (or collapsing) and growing without bound."
        )
    return root


def _chi1_state(sigma_w2, sigma_b2, act, q0, tail):
    """(χ₁, whether q^l grows without a finite q*): χ₁ at the q the length map settles at from q0 within
    200 accelerated steps, or at q = ∞ (the `tail` rule) when it grows instead."""
    L = lambda q: _length(q, sigma_w2, sigma_b2, act)  # noqa: E731
    q, status, _ = _solve_length_map(L, q0, 1e-12, 200)
    if status != "converged" and q > q0:
        return sigma_w2 * tail, True
    return sigma_w2 * _mean_derivative_square(q, act), False


def chaos_phase(sigma_w2: float, sigma_b2: float, activation: _ActivationLike, q0: float = 1.0) -> tuple[str, float]:
    """(phase, χ₁) of (σ_w², σ_b²) as ``critical_sigma_w2`` reads it, so a point and the edge it solves for
    agree: χ₁ at the q the length map settles at from q0, or at q = ∞ when q^l grows without bound
    (relu with σ_w² > 2, where ``fixed_point`` raises); "ordered" below 1, "chaotic" above, "critical"
    within 1e-9 (``MeanField.phase``'s thresholds).

    >>> chaos_phase(2.5, 0.0, "relu"), chaos_phase(1.0, 0.0, "relu")
    (('chaotic', 1.25), ('ordered', 0.5))
    >>> phase, chi = chaos_phase(0.5, 0.0, "tanh"); phase, round(chi, 12)
    ('ordered', 0.5)
    """
    sigma_w2, sigma_b2, act = _params(sigma_w2, sigma_b2, activation)
    q0 = check_float("q0", q0, low=0.0)
    chi, _ = _chi1_state(sigma_w2, sigma_b2, act, q0, _tail_derivative_square(act))
    if abs(chi - 1.0) <= _CRITICAL_TOL:
        return "critical", chi
    return ("ordered" if chi < 1.0 else "chaotic"), chi


def _tail_derivative_square(act):
    """(φ′(+∞)² + φ′(−∞)²)/2, the limit of E[φ′(√q z)²] as q → ∞, read at ±10⁸."""
    with np.errstate(over="ignore"):
        return float(np.mean(act.derivative(np.array([-1e8, 1e8])) ** 2))


def _bracket(excess, act, sigma_b2):
    """(lo, hi) with excess(lo) ≤ 0 ≤ excess(hi), walking from σ_w² = 1 by factors of 1.5 (stepping
    over 2, where relu-like maps sit exactly on the edge whatever happens below it)."""
    x = 1.0
    e = excess(x)
    if e == 0.0:
        return x, x
    step = 1.5 if e < 0 else 1 / 1.5
    while 1e-6 <= x * step <= 1e6:
        y = x * step
        ey = excess(y)
        if (ey >= 0) != (e >= 0) or ey == 0.0:
            return (x, y) if step > 1 else (y, x)
        x, e = y, ey
    raise InitlabError(
        f"The activation '{act.name}' has no edge of chaos for sigma_b2={sigma_b2:g}: chi1 stays "
        f"{'below' if e < 0 else 'above'} 1 for sigma_w2 in [1e-06, 1e+06]."
    )


# --- summary ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeanField:
    """The mean-field quantities of a random network with weight variance σ_w²/N and bias variance σ_b²."""

    activation: str
    sigma_w2: float
    sigma_b2: float
    q_star: float  # fixed point of the length map
    chi1: float  # σ_w² E[φ′(√q* z)²]
    c_star: float  # stable fixed point of the correlation map
    chi_q: float  # slope of the length map at q*
    chi_c: float  # slope of the correlation map at c*
    xi_q: float  # −1/log χ_q: depth over which q^l → q*
    xi_c: float  # −1/log χ_c: depth over which c^l → c* (infinite at the edge of chaos)

    @property
    def phase(self) -> str:
        """'ordered' (χ₁ < 1), 'chaotic' (χ₁ > 1) or 'critical' (|χ₁ − 1| ≤ 1e-9)."""
        if abs(self.chi1 - 1.0) <= _CRITICAL_TOL:
            return "critical"
        return "ordered" if self.chi1 < 1.0 else "chaotic"


def mean_field(sigma_w2: float, sigma_b2: float, activation: _ActivationLike) -> MeanField:
    """q*, χ₁, c*, χ_q, χ_c, ξ_q, ξ_c for (σ_w², σ_b², activation) in one ``MeanField``.

    >>> mf = mean_field(1.5, 0.05, "tanh")
    >>> mf.phase, round(mf.q_star, 4), round(mf.chi1, 4), mf.c_star, round(mf.xi_c, 2)
    ('ordered', 0.418, 0.9386, 1.0, 15.79)
    """
    sigma_w2, sigma_b2, act = _params(sigma_w2, sigma_b2, activation)
    q = fixed_point(sigma_w2, sigma_b2, act)
    c = correlation_fixed_point(sigma_w2, sigma_b2, act)
    cq, cc = chi_q(sigma_w2, sigma_b2, act, q), chi_c(sigma_w2, sigma_b2, act, c, q)
    return MeanField(act.name, sigma_w2, sigma_b2, q, chi1(sigma_w2, sigma_b2, act, q), c, cq, cc,
                     depth_scale(cq), depth_scale(cc))


# --- residual streams -----------------------------------------------------------------------------
def _branch_sigmas(sigma_w2, sigma_b2):
    """A branch layer's (σ_w², σ_b²): 0 allowed for both (Fixup's zero layers pass nothing on)."""
    return (check_float("sigma_w2", sigma_w2, low=0.0, low_inclusive=True),
            check_float("sigma_b2", sigma_b2, low=0.0, low_inclusive=True))


@dataclass(frozen=True)
class ResidualStream:
    """The wide-network prediction of a pre-activation residual stream h_0, …, h_K (per unit, two
    inputs): ``q[k]`` = E[h_k²], ``c[k]`` their correlation; ``branch_q[k]``, ``branch_c[k]`` the same
    of block k's contribution α_k·F_k (k = 0 … K−1)."""

    q: np.ndarray  # (K + 1,)
    c: np.ndarray  # (K + 1,)
    branch_q: np.ndarray  # (K,)
    branch_c: np.ndarray  # (K,)


def residual_stream(q0: float, c0: float, alphas: "list[float] | np.ndarray",
                    branches: "list[list[tuple[float, float]]]", activation: _ActivationLike,
                    skips: "list[float] | None" = None) -> ResidualStream:
    """The stream of ``h_k = h_{k−1} + α_k·F_k(φ(h_{k−1}))`` (pre-activation blocks) from h_0 of
    variance `q0` and correlation `c0`; block k's branch has layers of (σ_w², σ_b²) ``branches[k]``
    (its first layer reads φ(h_{k−1})). The branch's last weights are independent of the stream and
    of mean 0, so the cross term vanishes and variances add::

        q_k = q_{k−1} + α_k²·q_F,   c_k = (q_{k−1}·c_{k−1} + α_k²·q_F·c_F) / q_k

    with (q_F, c_F) the length and correlation maps applied through the branch's layers from
    (q_{k−1}, c_{k−1}). `skips` (default all 1): each block's skip path as a variance factor — a projection
    P_k of realized σ_P² = n_in·E[p²] carries q_{k−1} to σ_P²·q_{k−1} and keeps the correlation (a wide
    Gaussian linear map preserves inner products up to that factor). For ReLU branches drawn by He (σ_w² = 2, σ_b² = 0) every layer keeps q, so
    q_F = q_{k−1} and ``q_K = (1 + α²)^K·q_0``: 2^K for α = 1, (1 + 1/K)^K → e for α = 1/√K,
    (1 + 1/K²)^K → 1 for α = 1/K. Brock, De & Smith 2021 ("Characterizing signal propagation to
    close the performance gap in unnormalized ResNets", ICLR) plot these quantities per block.

    >>> s = residual_stream(1.0, 0.5, [1.0] * 4, [[(2.0, 0.0), (2.0, 0.0)]] * 4, "relu")
    >>> np.round(s.q, 10).tolist()   # (1 + 1)^k
    [1.0, 2.0, 4.0, 8.0, 16.0]
    """
    q, c = _variance("q0", q0), check_float("c0", c0, low=-1.0, low_inclusive=True, high=1.0)
    act = _activation(activation)
    alphas = [check_float("alphas", a) for a in alphas]
    if len(branches) != len(alphas):
        raise InitlabError(f"The 'branches' parameter must give one branch per α ({len(alphas)}). Got {len(branches)} instead.")
    skips = [1.0] * len(alphas) if skips is None else [check_float("skips", v, low=0.0, low_inclusive=True) for v in skips]
    qs, cs, bq, bc = [q], [c], [], []
    for alpha, layers, skip in zip(alphas, branches, skips):
        qF, cF = q, c
        for sigma_w2, sigma_b2 in layers:  # the first reads φ(h), like every later one reads φ(its input)
            sw2, sb2 = _branch_sigmas(sigma_w2, sigma_b2)
            qn = _length(qF, sw2, sb2, act)
            cF = _correlation(float(np.clip(cF, -1.0, 1.0)), qF, sw2, sb2, act) if qF > 0 and qn > 0 else float("nan")
            qF = qn
        add = alpha * alpha * qF
        bq.append(add)
        bc.append(cF)
        q = skip * q
        q_next = q + add
        c = (q * c + add * cF) / q_next if add > 0 else c
        q = q_next
        qs.append(q)
        cs.append(c)
    return ResidualStream(np.array(qs), np.array(cs), np.array(bq), np.array(bc))


POST_SAMPLES = 2**17  # pairs of units sampled by residual_stream_post (its Monte Carlo error: ~0.3% relative)


def residual_stream_post(q0: float, c0: float, alphas: "list[float] | np.ndarray",
                         branches: "list[list[tuple[float, float]]]", activation: _ActivationLike,
                         skips: "list[float | None] | None" = None, samples: int = POST_SAMPLES,
                         seed: int = 0) -> ResidualStream:
    """The wide-network prediction of a post-activation residual stream, ``h_k = φ(s_k)``,
    ``s_k = h_{k−1} + α_k·F_k(h_{k−1})``, s_0 the stem's pre-activation (variance `q0`, correlation `c0`):
    ``q[k]`` = E[h_k²] and ``c[k]`` = E[h_k h'_k] / E[h_k²] (uncentred: φ(s) need not have mean 0) for two
    inputs; ``branch_q``, ``branch_c`` of α_k·F_k, as ``residual_stream``.

    The stream is not Gaussian (φ of a sum of φ(·) and a Gaussian), but each unit's pair (s, s′) is a
    Markov chain in the wide limit: the branch's first pre-activation is Gaussian with covariance
    σ_w²·E[h h′] + σ_b² (the population's moments), the maps carry it through the branch, and its output
    F is a Gaussian pair independent of the unit's own (s, s′) (its last weights are fresh), so
    s_k = h_{k−1} + α_k·F. The chain is sampled here: `samples` pairs of units from ``default_rng(seed)``
    (deterministic). A projection skip (`skips[k]` its σ_P², None for the identity) makes the skip path
    Gaussian with covariance σ_P²·(E h², E h h′).

    >>> s = residual_stream_post(1.0, 0.5, [0.0], [[(2.0, 0.0), (2.0, 0.0)]], "relu")   # α = 0: φ(φ(s)) = φ(s)
    >>> bool(abs(s.q[1] - s.q[0]) < 1e-12), round(float(s.q[0]), 2)
    (True, 0.5)
    """
    q, c = _variance("q0", q0), check_float("c0", c0, low=-1.0, low_inclusive=True, high=1.0)
    act = _activation(activation)
    alphas = [check_float("alphas", a) for a in alphas]
    if len(branches) != len(alphas):
        raise InitlabError(f"The 'branches' parameter must give one branch per α ({len(alphas)}). Got {len(branches)} instead.")
    samples = check_int("samples", samples, low=2)
    rng = np.random.default_rng(seed)
    skips = [None] * len(alphas) if skips is None else list(skips)

    def pair(qv: float, cv: float) -> tuple[np.ndarray, np.ndarray]:
        z1, z2 = rng.standard_normal((2, samples))
        r = math.sqrt(max(qv, 0.0))
        cv = float(np.clip(cv, -1.0, 1.0))
        return r * z1, r * (cv * z1 + math.sqrt(1.0 - cv * cv) * z2)

    s1, s2 = pair(q, c)
    h1, h2 = act.fn(s1), act.fn(s2)

    def moments(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        m2 = 0.5 * (float(np.mean(a * a)) + float(np.mean(b * b)))
        return m2, (float(np.mean(a * b)) / m2 if m2 > 0 else float("nan"))

    qs, cs = [moments(h1, h2)[0]], [moments(h1, h2)[1]]
    bq, bc = [], []
    for alpha, layers, skip in zip(alphas, branches, skips):
        m2, cross = moments(h1, h2)
        qF, cF = m2, cross  # the branch's input moments (the first layer reads h itself)
        first = True
        for sigma_w2, sigma_b2 in layers:
            sw2, sb2 = _branch_sigmas(sigma_w2, sigma_b2)
            if first:  # Gaussian pre-activation of covariance σ_w²·E[h h′] + σ_b²
                qn = sw2 * qF + sb2
                cF = (sw2 * qF * cF + sb2) / qn if qn > 0 else float("nan")
                first = False
            else:
                qn = _length(qF, sw2, sb2, act)
                cF = _correlation(float(np.clip(cF, -1.0, 1.0)), qF, sw2, sb2, act) if qF > 0 and qn > 0 else float("nan")
            qF = qn
        bq.append(alpha * alpha * qF)
        bc.append(cF)
        r1, r2 = pair(qF, cF if np.isfinite(cF) else 0.0)
        base1, base2 = (h1, h2) if skip is None else pair(skip * m2, cross)
        h1, h2 = act.fn(base1 + alpha * r1), act.fn(base2 + alpha * r2)
        q_k, c_k = moments(h1, h2)
        qs.append(q_k)
        cs.append(c_k)
    return ResidualStream(np.array(qs), np.array(cs), np.array(bq), np.array(bc))
