"""The compiled engine: the whole training loop in numba, one model per thread.

Same semantics as ``numpy_engine`` (the reference), to relative ~1e-15 on a stable run: the
forward pass sums ``W·A`` in input order with one FMA per term from zero, then adds ``b`` (the
order of OpenBLAS's dgemm, so Z_l usually has the reference's very digits), the BCE gradient is
``1/m·(σ(z) − y)`` with ``σ = 1/(1 + e^(−z))``, the ReLU derivative is ``z > 0``, the update
``p − lr·g``, the recorded cost the reference's formula summed as numpy sums (pairwise).

Speed (2-core Zen 4 box, bench/README.md): one 15000-iteration run of [2, 10, 5, 1] on 300 examples
60–65 ms (16–19× the notebook's numpy loop, ~1.05 s), 1000 of them ~34 s on both cores. How:
- Examples are columns, so every loop runs over contiguous examples and vectorizes (AVX-512/AVX2):
  ``_combG`` adds G source rows into an output row in one pass (the running sum stays in a
  register, the output row is stored once per G sources) and applies the activation as it stores
  (ReLU, leaky ReLU) or the derivative (``× φ′``, read off A: A > 0 exactly where Z > 0);
  ``_sumsG`` computes the gradient of two rows of W_l at once (sums over examples).
- A chunk of examples is padded to a multiple of 8 columns (whole vectors, no scalar tails); the
  padding of every layer input and of dLoss/dZ_L is kept at exactly 0, so it adds exact zeros to
  every sum over examples.
- e^x is a branch-free polynomial (SLEEF's, ≤ 1 ulp), so the loss gradient vectorizes too.
- Every buffer is allocated once per call (per model), none in the iteration loop; activations,
  pre-activations and gradients share one allocation (fixed offsets between rows: separately
  allocated rows could fall 4 KiB apart from each other and stall loads behind stores), and the
  row kernels address it by slot index, so the loop creates no array views (no reference counts).

fastmath: only ``contract`` (a·b + c as one FMA: what BLAS does, and twice the throughput) in the
forward/backward kernels, plus ``reassoc`` in the gradient sums (partial sums per SIMD lane: the
order of the sum over examples changes, by ~1e-16 relative, as between two BLAS builds). Never
``nnan``/``ninf``: a saturated output (σ(z) = 0 or 1, e^z = inf) and NaN must behave as in numpy.
Elementwise code (activations, losses, the update) is compiled without fastmath, as written.

Parallelism: models run in Python threads (``nogil`` kernel), ``NUMBA_NUM_THREADS`` of them (one
per core by default), each taking the next model when it finishes one (a model that diverges early
frees its thread). A ``prange`` kernel (tried first) added ~19 s to the first compile (numba
re-optimizes the whole training loop again inside the parallel wrapper).

Compile: ``cache=True`` (on disk): the first use compiles once (~17 s, see ``warm_up``), later
processes load the cache in ~0.3 s (plus ~0.35 s to import numba). One signature serves every
network and options (sizes, codes and parameters are arrays and numbers). Jitted functions are never called with a
literal constant argument (``0``, ``True``): numba would compile a second, literal-typed copy,
which costs time and, loaded from the cache, crashed (a call to address 0). Hence ``m − m``.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import config, njit
from numba.core import types
from numba.extending import intrinsic

from .._validation import InitlabError
from ..activations import SELU_ALPHA, SELU_SCALE, get_activation
from ..optim import get_optimizer
from .common import (Divergence, Trace, batches_per_epoch, each, epoch_orders, nonfinite_what, segment_length,
                     segments, warm_up_engine)
from .exact_math import pairwise_sum

NAME = "numba"

# Codes passed to the compiled kernel (no Python objects inside).
LINEAR, RELU, LEAKY_RELU, ELU, SELU, TANH, SIGMOID, SOFTPLUS, SWISH, GELU = range(10)
BCE, CE, MSE = range(3)
GD, MOMENTUM, ADAM = range(3)
PLAIN, RELU_OUT, LEAKY_OUT, GATED = range(4)  # how _combG finishes an output row

ACTIVATION_CODES = {
    "linear": LINEAR, "relu": RELU, "leaky_relu": LEAKY_RELU, "elu": ELU, "selu": SELU, "tanh": TANH,
    "sigmoid": SIGMOID, "softplus": SOFTPLUS, "swish": SWISH, "gelu": GELU,
}
LOSS_CODES = {"binary_cross_entropy": BCE, "cross_entropy": CE, "mean_squared_error": MSE}
OPTIMIZER_CODES = {"gd": GD, "momentum": MOMENTUM, "adam": ADAM}

CHUNK = 4096  # examples per pass at most (bounds the buffers; m ≤ CHUNK is one pass, the fast case)

MATH = {"contract"}
SUMS = {"contract", "reassoc"}
_FLAGS = dict(cache=True, error_model="numpy", no_cpython_wrapper=True, no_cfunc_wrapper=True)

_SQRT2 = math.sqrt(2)
_SQRT2PI = math.sqrt(2 * math.pi)
_SQRTH = 0.70710678118654752440  # scipy's ndtr switches from erf to erfc at |x| = √½
_LOGE2 = 0.693147180559945309417232121458176568


# --- e^x, vectorizable --------------------------------------------------------------------------
@intrinsic
def _bits_to_float(typingctx, x):
    """The float64 whose bits are the int64 x."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


_R_LN2 = 1.442695040888963407359924681001892137426645954152985934135449406931
_L2U = 0.69314718055966295651160180568695068359375
_L2L = 0.28235290563031577122588448175013436025525412068e-12
_SHIFT = 6755399441055744.0  # 1.5 · 2^52: (t + SHIFT) − SHIFT rounds t to an integer


@njit(fastmath=MATH, cache=True, error_model="numpy")
def _exp(d):
    """e^d within 1 ulp (SLEEF's xexp), without branches: loops calling it vectorize. inf above
    709.78, 0 below −1000 (and subnormals between), nan for nan: as numpy."""
    t = d * _R_LN2
    t = t if t > -1500.0 else -1500.0  # also maps nan to a finite q (u is nan anyway)
    t = t if t < 1500.0 else 1500.0
    qf = (t + _SHIFT) - _SHIFT
    q = np.int64(qf)
    s = d - qf * _L2U
    s = s - qf * _L2L
    s2 = s * s
    s4 = s2 * s2
    s8 = s4 * s4
    u = s8 * (0.2081276378237164457e-8 * s + 0.2511210703042288022e-7) + (
        (s2 * (0.2755762628169491192e-6 * s + 0.2755723402025388239e-5) + (0.2480158687479686264e-4 * s + 0.0001984126989855865850)) * s4
        + (s2 * (0.001388888888914497797 * s + 0.008333333333322118547) + (0.04166666666666529195 * s + 0.1666666666666669072))
    )
    u = u * s + 0.5
    u = s2 * u + s + 1.0
    h = q >> 1  # 2^q as 2^h · 2^(q−h): each factor stays a normal number
    u = u * _bits_to_float((h + 1023) << 52) * _bits_to_float((q - h + 1023) << 52)
    u = np.inf if d > 709.78271114955742909217217426 else u
    return 0.0 if d < -1000.0 else u


# --- the kernels: linear combinations of rows -----------------------------------------------------
# _combG(p, wo, so, ss, bo, nO, s, work, si, oi, w, first, last, mode, slope, gi), with S = work[si],
# Out = work[oi], Gate = work[gi] (slots of one workspace: no array views, no reference counting, in the
# iteration loop), for each o < nO:
#     Out[o, :w] (+)= Σ_{t<G} c(o, s+t)·S[s+t, :w],   c(o, j) = p[wo + o·so + j·ss]
# (W_l: so = K, ss = 1; W_lᵀ: so = 1, ss = K), one FMA per term in source order, from 0 when
# `first`; on the `last` pass of a row: + p[bo + o] (when bo ≥ 0, the bias), then the activation
# (RELU_OUT: max(0, z) with nan kept, LEAKY_OUT: z if z > 0 else slope·z; PLAIN: none) or, backward,
# × (1 if Gate > 0 else slope) (GATED: ReLU's φ′ is (Z > 0), read off A = Gate). The loops have
# no branches (selects only), so LLVM vectorizes them.
# _sumsG(work, di, ai, n, K, s, w, g, wo, bo, add), with D = work[di], A = work[ai]: g[W[o, s+t]] (+)= Σ_e D[o, e]·A[s+t, e] for o < n,
# t < G (two rows o at a time), and g[b[o]] (+)= Σ_e D[o, e] when s = 0; `add` accumulates over
# chunks of examples.
# They are written out for G = 1 … 5 and 8 (generated text: edit them all alike): with a loop over
# t, the row would be loaded and stored once per source instead of once per G sources. (Each kernel
# costs ~1 s of first compile: 6 and 7 go in two passes.)
@njit(fastmath=MATH, **_FLAGS)
def _comb1(p, wo, so, ss, bo, nO, s, work, si, oi, w, first, last, mode, slope, gi):
    """Source s into every output row (see the note above)."""
    gated = last and mode == GATED
    plain = not last or mode == PLAIN
    leaky = mode == LEAKY_OUT
    for o in range(nO):
        r = wo + o * so
        a0 = p[r + s * ss]
        b = p[bo + o] if (last and bo >= 0) else 0.0
        if gated and first:
            for e in range(w):
                x0 = work[si, s, e]
                u = a0 * x0
                work[oi, o, e] = u * (1.0 if work[gi, o, e] > 0.0 else slope)
        elif gated:
            for e in range(w):
                x0 = work[si, s, e]
                u = work[oi, o, e] + a0 * x0
                work[oi, o, e] = u * (1.0 if work[gi, o, e] > 0.0 else slope)
        elif first:
            for e in range(w):
                x0 = work[si, s, e]
                u = a0 * x0
                u = u + b
                work[oi, o, e] = u if (plain or u > 0.0 or u != u) else (slope * u if leaky else 0.0)
        else:
            for e in range(w):
                x0 = work[si, s, e]
                u = work[oi, o, e] + a0 * x0
                u = u + b
                work[oi, o, e] = u if (plain or u > 0.0 or u != u) else (slope * u if leaky else 0.0)


@njit(fastmath=MATH, **_FLAGS)
def _comb2(p, wo, so, ss, bo, nO, s, work, si, oi, w, first, last, mode, slope, gi):
    """Sources s … s + 1 into every output row (see the note above)."""
    gated = last and mode == GATED
    plain = not last or mode == PLAIN
    leaky = mode == LEAKY_OUT
    for o in range(nO):
        r = wo + o * so
        a0 = p[r + s * ss]
        a1 = p[r + (s + 1) * ss]
        b = p[bo + o] if (last and bo >= 0) else 0.0
        if gated and first:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                u = a0 * x0 + a1 * x1
                work[oi, o, e] = u * (1.0 if work[gi, o, e] > 0.0 else slope)
        elif gated:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                u = work[oi, o, e] + a0 * x0 + a1 * x1
                work[oi, o, e] = u * (1.0 if work[gi, o, e] > 0.0 else slope)
        elif first:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                u = a0 * x0 + a1 * x1
                u = u + b
                work[oi, o, e] = u if (plain or u > 0.0 or u != u) else (slope * u if leaky else 0.0)
        else:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                u = work[oi, o, e] + a0 * x0 + a1 * x1
                u = u + b
                work[oi, o, e] = u if (plain or u > 0.0 or u != u) else (slope * u if leaky else 0.0)


@njit(fastmath=MATH, **_FLAGS)
def _comb3(p, wo, so, ss, bo, nO, s, work, si, oi, w, first, last, mode, slope, gi):
    """Sources s … s + 2 into every output row (see the note above)."""
    gated = last and mode == GATED
    plain = not last or mode == PLAIN
    leaky = mode == LEAKY_OUT
    for o in range(nO):
        r = wo + o * so
        a0 = p[r + s * ss]
        a1 = p[r + (s + 1) * ss]
        a2 = p[r + (s + 2) * ss]
        b = p[bo + o] if (last and bo >= 0) else 0.0
        if gated and first:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                u = a0 * x0 + a1 * x1 + a2 * x2
                work[oi, o, e] = u * (1.0 if work[gi, o, e] > 0.0 else slope)
        elif gated:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                u = work[oi, o, e] + a0 * x0 + a1 * x1 + a2 * x2
                work[oi, o, e] = u * (1.0 if work[gi, o, e] > 0.0 else slope)
        elif first:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                u = a0 * x0 + a1 * x1 + a2 * x2
                u = u + b
                work[oi, o, e] = u if (plain or u > 0.0 or u != u) else (slope * u if leaky else 0.0)
        else:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                u = work[oi, o, e] + a0 * x0 + a1 * x1 + a2 * x2
                u = u + b
                work[oi, o, e] = u if (plain or u > 0.0 or u != u) else (slope * u if leaky else 0.0)


@njit(fastmath=MATH, **_FLAGS)
def _comb4(p, wo, so, ss, bo, nO, s, work, si, oi, w, first, last, mode, slope, gi):
    """Sources s … s + 3 into every output row (see the note above)."""
    gated = last and mode == GATED
    plain = not last or mode == PLAIN
    leaky = mode == LEAKY_OUT
    for o in range(nO):
        r = wo + o * so
        a0 = p[r + s * ss]
        a1 = p[r + (s + 1) * ss]
        a2 = p[r + (s + 2) * ss]
        a3 = p[r + (s + 3) * ss]
        b = p[bo + o] if (last and bo >= 0) else 0.0
        if gated and first:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                x3 = work[si, s + 3, e]
                u = a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3
                work[oi, o, e] = u * (1.0 if work[gi, o, e] > 0.0 else slope)
        elif gated:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                x3 = work[si, s + 3, e]
                u = work[oi, o, e] + a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3
                work[oi, o, e] = u * (1.0 if work[gi, o, e] > 0.0 else slope)
        elif first:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                x3 = work[si, s + 3, e]
                u = a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3
                u = u + b
                work[oi, o, e] = u if (plain or u > 0.0 or u != u) else (slope * u if leaky else 0.0)
        else:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                x3 = work[si, s + 3, e]
                u = work[oi, o, e] + a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3
                u = u + b
                work[oi, o, e] = u if (plain or u > 0.0 or u != u) else (slope * u if leaky else 0.0)


@njit(fastmath=MATH, **_FLAGS)
def _comb5(p, wo, so, ss, bo, nO, s, work, si, oi, w, first, last, mode, slope, gi):
    """Sources s … s + 4 into every output row (see the note above)."""
    gated = last and mode == GATED
    plain = not last or mode == PLAIN
    leaky = mode == LEAKY_OUT
    for o in range(nO):
        r = wo + o * so
        a0 = p[r + s * ss]
        a1 = p[r + (s + 1) * ss]
        a2 = p[r + (s + 2) * ss]
        a3 = p[r + (s + 3) * ss]
        a4 = p[r + (s + 4) * ss]
        b = p[bo + o] if (last and bo >= 0) else 0.0
        if gated and first:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                x3 = work[si, s + 3, e]
                x4 = work[si, s + 4, e]
                u = a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4
                work[oi, o, e] = u * (1.0 if work[gi, o, e] > 0.0 else slope)
        elif gated:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                x3 = work[si, s + 3, e]
                x4 = work[si, s + 4, e]
                u = work[oi, o, e] + a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4
                work[oi, o, e] = u * (1.0 if work[gi, o, e] > 0.0 else slope)
        elif first:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                x3 = work[si, s + 3, e]
                x4 = work[si, s + 4, e]
                u = a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4
                u = u + b
                work[oi, o, e] = u if (plain or u > 0.0 or u != u) else (slope * u if leaky else 0.0)
        else:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                x3 = work[si, s + 3, e]
                x4 = work[si, s + 4, e]
                u = work[oi, o, e] + a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4
                u = u + b
                work[oi, o, e] = u if (plain or u > 0.0 or u != u) else (slope * u if leaky else 0.0)


@njit(fastmath=MATH, **_FLAGS)
def _comb8(p, wo, so, ss, bo, nO, s, work, si, oi, w, first, last, mode, slope, gi):
    """Sources s … s + 7 into every output row (see the note above)."""
    gated = last and mode == GATED
    plain = not last or mode == PLAIN
    leaky = mode == LEAKY_OUT
    for o in range(nO):
        r = wo + o * so
        a0 = p[r + s * ss]
        a1 = p[r + (s + 1) * ss]
        a2 = p[r + (s + 2) * ss]
        a3 = p[r + (s + 3) * ss]
        a4 = p[r + (s + 4) * ss]
        a5 = p[r + (s + 5) * ss]
        a6 = p[r + (s + 6) * ss]
        a7 = p[r + (s + 7) * ss]
        b = p[bo + o] if (last and bo >= 0) else 0.0
        if gated and first:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                x3 = work[si, s + 3, e]
                x4 = work[si, s + 4, e]
                x5 = work[si, s + 5, e]
                x6 = work[si, s + 6, e]
                x7 = work[si, s + 7, e]
                u = a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4 + a5 * x5 + a6 * x6 + a7 * x7
                work[oi, o, e] = u * (1.0 if work[gi, o, e] > 0.0 else slope)
        elif gated:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                x3 = work[si, s + 3, e]
                x4 = work[si, s + 4, e]
                x5 = work[si, s + 5, e]
                x6 = work[si, s + 6, e]
                x7 = work[si, s + 7, e]
                u = work[oi, o, e] + a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4 + a5 * x5 + a6 * x6 + a7 * x7
                work[oi, o, e] = u * (1.0 if work[gi, o, e] > 0.0 else slope)
        elif first:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                x3 = work[si, s + 3, e]
                x4 = work[si, s + 4, e]
                x5 = work[si, s + 5, e]
                x6 = work[si, s + 6, e]
                x7 = work[si, s + 7, e]
                u = a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4 + a5 * x5 + a6 * x6 + a7 * x7
                u = u + b
                work[oi, o, e] = u if (plain or u > 0.0 or u != u) else (slope * u if leaky else 0.0)
        else:
            for e in range(w):
                x0 = work[si, s, e]
                x1 = work[si, s + 1, e]
                x2 = work[si, s + 2, e]
                x3 = work[si, s + 3, e]
                x4 = work[si, s + 4, e]
                x5 = work[si, s + 5, e]
                x6 = work[si, s + 6, e]
                x7 = work[si, s + 7, e]
                u = work[oi, o, e] + a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4 + a5 * x5 + a6 * x6 + a7 * x7
                u = u + b
                work[oi, o, e] = u if (plain or u > 0.0 or u != u) else (slope * u if leaky else 0.0)


@njit(fastmath=SUMS, **_FLAGS)
def _sums1(work, di, ai, n, K, s, w, g, wo, bo, add):
    """The gradient of W[:, s] (and of b when s = 0) (see the note above)."""
    o = 0
    while o + 1 < n:
        t00 = 0.0
        t0b = 0.0
        t10 = 0.0
        t1b = 0.0
        for e in range(w):
            x0 = work[ai, s, e]
            d = work[di, o, e]
            t00 += d * x0
            t0b += d
            d = work[di, o + 1, e]
            t10 += d * x0
            t1b += d
        i = wo + o * K + s
        g[i] = g[i] + t00 if add else t00
        if s == 0:
            g[bo + o] = g[bo + o] + t0b if add else t0b
        i = wo + (o + 1) * K + s
        g[i] = g[i] + t10 if add else t10
        if s == 0:
            g[bo + o + 1] = g[bo + o + 1] + t1b if add else t1b
        o += 2
    if o < n:
        t00 = 0.0
        t0b = 0.0
        for e in range(w):
            x0 = work[ai, s, e]
            d = work[di, o, e]
            t00 += d * x0
            t0b += d
        i = wo + o * K + s
        g[i] = g[i] + t00 if add else t00
        if s == 0:
            g[bo + o] = g[bo + o] + t0b if add else t0b


@njit(fastmath=SUMS, **_FLAGS)
def _sums2(work, di, ai, n, K, s, w, g, wo, bo, add):
    """The gradient of W[:, s … s + 1] (and of b when s = 0) (see the note above)."""
    o = 0
    while o + 1 < n:
        t00 = 0.0
        t01 = 0.0
        t0b = 0.0
        t10 = 0.0
        t11 = 0.0
        t1b = 0.0
        for e in range(w):
            x0 = work[ai, s, e]
            x1 = work[ai, s + 1, e]
            d = work[di, o, e]
            t00 += d * x0
            t01 += d * x1
            t0b += d
            d = work[di, o + 1, e]
            t10 += d * x0
            t11 += d * x1
            t1b += d
        i = wo + o * K + s
        g[i] = g[i] + t00 if add else t00
        g[i + 1] = g[i + 1] + t01 if add else t01
        if s == 0:
            g[bo + o] = g[bo + o] + t0b if add else t0b
        i = wo + (o + 1) * K + s
        g[i] = g[i] + t10 if add else t10
        g[i + 1] = g[i + 1] + t11 if add else t11
        if s == 0:
            g[bo + o + 1] = g[bo + o + 1] + t1b if add else t1b
        o += 2
    if o < n:
        t00 = 0.0
        t01 = 0.0
        t0b = 0.0
        for e in range(w):
            x0 = work[ai, s, e]
            x1 = work[ai, s + 1, e]
            d = work[di, o, e]
            t00 += d * x0
            t01 += d * x1
            t0b += d
        i = wo + o * K + s
        g[i] = g[i] + t00 if add else t00
        g[i + 1] = g[i + 1] + t01 if add else t01
        if s == 0:
            g[bo + o] = g[bo + o] + t0b if add else t0b


@njit(fastmath=SUMS, **_FLAGS)
def _sums4(work, di, ai, n, K, s, w, g, wo, bo, add):
    """The gradient of W[:, s … s + 3] (and of b when s = 0) (see the note above)."""
    o = 0
    while o + 1 < n:
        t00 = 0.0
        t01 = 0.0
        t02 = 0.0
        t03 = 0.0
        t0b = 0.0
        t10 = 0.0
        t11 = 0.0
        t12 = 0.0
        t13 = 0.0
        t1b = 0.0
        for e in range(w):
            x0 = work[ai, s, e]
            x1 = work[ai, s + 1, e]
            x2 = work[ai, s + 2, e]
            x3 = work[ai, s + 3, e]
            d = work[di, o, e]
            t00 += d * x0
            t01 += d * x1
            t02 += d * x2
            t03 += d * x3
            t0b += d
            d = work[di, o + 1, e]
            t10 += d * x0
            t11 += d * x1
            t12 += d * x2
            t13 += d * x3
            t1b += d
        i = wo + o * K + s
        g[i] = g[i] + t00 if add else t00
        g[i + 1] = g[i + 1] + t01 if add else t01
        g[i + 2] = g[i + 2] + t02 if add else t02
        g[i + 3] = g[i + 3] + t03 if add else t03
        if s == 0:
            g[bo + o] = g[bo + o] + t0b if add else t0b
        i = wo + (o + 1) * K + s
        g[i] = g[i] + t10 if add else t10
        g[i + 1] = g[i + 1] + t11 if add else t11
        g[i + 2] = g[i + 2] + t12 if add else t12
        g[i + 3] = g[i + 3] + t13 if add else t13
        if s == 0:
            g[bo + o + 1] = g[bo + o + 1] + t1b if add else t1b
        o += 2
    if o < n:
        t00 = 0.0
        t01 = 0.0
        t02 = 0.0
        t03 = 0.0
        t0b = 0.0
        for e in range(w):
            x0 = work[ai, s, e]
            x1 = work[ai, s + 1, e]
            x2 = work[ai, s + 2, e]
            x3 = work[ai, s + 3, e]
            d = work[di, o, e]
            t00 += d * x0
            t01 += d * x1
            t02 += d * x2
            t03 += d * x3
            t0b += d
        i = wo + o * K + s
        g[i] = g[i] + t00 if add else t00
        g[i + 1] = g[i + 1] + t01 if add else t01
        g[i + 2] = g[i + 2] + t02 if add else t02
        g[i + 3] = g[i + 3] + t03 if add else t03
        if s == 0:
            g[bo + o] = g[bo + o] + t0b if add else t0b



# --- activations (elementwise, as activations.py writes them) ------------------------------------
@njit(**_FLAGS)
def _activate(code, a, Z, A, n, w):
    """A[:n, :w] = φ(Z) for the activations not applied inside _combG; `a`: slope or alpha."""
    for j in range(n):
        if code == LINEAR:
            for e in range(w):
                A[j, e] = Z[j, e]
        elif code == LEAKY_RELU:
            for e in range(w):
                z = Z[j, e]
                A[j, e] = z if z > 0.0 else a * z
        elif code == RELU:
            for e in range(w):
                z = Z[j, e]
                A[j, e] = z if (z > 0.0 or z != z) else 0.0
        elif code == ELU:
            for e in range(w):
                z = Z[j, e]
                A[j, e] = z if z > 0.0 else a * math.expm1(min(z, 0.0))
        elif code == SELU:
            for e in range(w):
                z = Z[j, e]
                A[j, e] = SELU_SCALE * (z if z > 0.0 else SELU_ALPHA * math.expm1(min(z, 0.0)))
        elif code == TANH:
            for e in range(w):
                A[j, e] = math.tanh(Z[j, e])
        elif code == SIGMOID:
            for e in range(w):
                A[j, e] = 1.0 / (1.0 + math.exp(-Z[j, e]))
        elif code == SOFTPLUS:  # numpy's logaddexp(0, z)
            for e in range(w):
                z = Z[j, e]
                if z == 0.0:
                    A[j, e] = _LOGE2
                elif z < 0.0:
                    A[j, e] = math.log1p(math.exp(z))
                elif z > 0.0:
                    A[j, e] = z + math.log1p(math.exp(-z))
                else:
                    A[j, e] = z
        elif code == SWISH:
            for e in range(w):
                z = Z[j, e]
                A[j, e] = z * (0.5 * (1.0 + math.tanh(0.5 * z)))
        else:  # GELU
            for e in range(w):
                z = Z[j, e]
                A[j, e] = 0.5 * z * (1.0 + math.erf(z / _SQRT2))


@njit(**_FLAGS)
def _derivative(code, a, Z, D, n, w):
    """D[:n, :w] ← D·φ′(Z) for the activations whose φ′ is not applied inside _combG."""
    for j in range(n):
        if code == LINEAR:
            for e in range(w):
                D[j, e] = D[j, e] * 1.0
        elif code == LEAKY_RELU or code == RELU:
            for e in range(w):
                D[j, e] = D[j, e] * (1.0 if Z[j, e] > 0.0 else (a if code == LEAKY_RELU else 0.0))
        elif code == ELU:
            for e in range(w):
                z = Z[j, e]
                D[j, e] = D[j, e] * (1.0 if z > 0.0 else a * math.exp(min(z, 0.0)))
        elif code == SELU:
            for e in range(w):
                z = Z[j, e]
                D[j, e] = D[j, e] * (SELU_SCALE * (1.0 if z > 0.0 else SELU_ALPHA * math.exp(min(z, 0.0))))
        elif code == TANH:
            for e in range(w):
                t = math.tanh(Z[j, e])
                D[j, e] = D[j, e] * (1.0 - t * t)
        elif code == SIGMOID:
            for e in range(w):
                s = 1.0 / (1.0 + math.exp(-Z[j, e]))
                D[j, e] = D[j, e] * (s * (1.0 - s))
        elif code == SOFTPLUS:
            for e in range(w):
                D[j, e] = D[j, e] * (0.5 * (1.0 + math.tanh(0.5 * Z[j, e])))
        elif code == SWISH:
            for e in range(w):
                z = Z[j, e]
                s = 0.5 * (1.0 + math.tanh(0.5 * z))
                D[j, e] = D[j, e] * (s * (1.0 + z * (1.0 - s)))
        else:  # GELU: scipy's ndtr(z) + z·e^(−z²/2)/√(2π)
            for e in range(w):
                z = Z[j, e]
                x = z * _SQRTH
                if abs(x) < _SQRTH:
                    cdf = 0.5 + 0.5 * math.erf(x)
                else:
                    cdf = 0.5 * math.erfc(abs(x))
                    cdf = 1.0 - cdf if x > 0.0 else cdf
                D[j, e] = D[j, e] * (cdf + z * math.exp(-0.5 * (z * z)) / _SQRT2PI)


# --- losses --------------------------------------------------------------------------------------
@njit(**_FLAGS)
def _loss_entries(code, Z, Y, n, w, out, base, m, mx, lse):
    """The loss of each logit Z[j, e] (e < w) into out[j·m + base + e]: the reference's per-entry
    array (BCE: max(z, 0) − z·y + log1p(e^−|z|); MSE: (z − y)²; CE: −y·log_softmax(z))."""
    if code == BCE:
        for j in range(n):
            for e in range(w):
                z = Z[j, e]
                out[j * m + base + e] = (z if (z >= 0.0 or z != z) else 0.0) - z * Y[j, e] + math.log1p(math.exp(-abs(z)))
    elif code == MSE:
        for j in range(n):
            for e in range(w):
                d = Z[j, e] - Y[j, e]
                out[j * m + base + e] = d * d
    else:
        for e in range(w):
            mx[e] = Z[0, e]
        for j in range(1, n):
            for e in range(w):
                z = Z[j, e]
                mx[e] = mx[e] if (mx[e] >= z or mx[e] != mx[e]) else z  # np.max: nan wins
        for e in range(w):
            lse[e] = math.exp(Z[0, e] - mx[e])
        for j in range(1, n):
            for e in range(w):
                lse[e] += math.exp(Z[j, e] - mx[e])
        for e in range(w):
            lse[e] = math.log(lse[e])
        for j in range(n):
            for e in range(w):
                out[j * m + base + e] = -Y[j, e] * ((Z[j, e] - mx[e]) - lse[e])


@njit(**_FLAGS)
def _loss_total(code, entries, size, m, nodes, vals):
    """The mean loss from the per-entry losses: numpy's pairwise sum (same digits)."""
    total = pairwise_sum(entries, size - size, size, nodes, vals) * (1.0 / m)
    return 0.5 * total if code == MSE else total


@njit(**_FLAGS)
def _loss_gradient(code, Z, Y, D, n, w, scale, col):
    """D[:n, :w] = dLoss/dZ as the reference computes it, `scale` = 1/(examples in the batch):
    BCE scale·(σ(z) − y) with σ = 1/(1 + e^−z), CE (softmax − y)·scale, MSE (z − y)·scale."""
    if code == BCE:
        for j in range(n):
            for e in range(w):
                D[j, e] = scale * (1.0 / (1.0 + _exp(-Z[j, e])) - Y[j, e])
    elif code == MSE:
        for j in range(n):
            for e in range(w):
                D[j, e] = (Z[j, e] - Y[j, e]) * scale
    else:
        for e in range(w):
            col[e] = Z[0, e]
        for j in range(1, n):
            for e in range(w):
                z = Z[j, e]
                col[e] = col[e] if (col[e] >= z or col[e] != col[e]) else z
        for j in range(n):
            for e in range(w):
                D[j, e] = _exp(Z[j, e] - col[e])
        for e in range(w):
            col[e] = D[0, e]
        for j in range(1, n):
            for e in range(w):
                col[e] += D[j, e]
        for j in range(n):
            for e in range(w):
                D[j, e] = (D[j, e] / col[e] - Y[j, e]) * scale


# --- the update ----------------------------------------------------------------------------------
@njit(**_FLAGS)
def _update(opt, p, g, out, state, t, lr, c0, c1, c2):
    """out = optim.py's step from p (t counts from 1; c: beta, or beta1, beta2, eps); True when
    every entry of out is finite."""
    if opt == GD:
        for i in range(p.size):
            out[i] = p[i] - lr * g[i]
    elif opt == MOMENTUM:
        for i in range(p.size):
            v = state[0, i] * c0
            v = v + g[i]
            state[0, i] = v
            out[i] = p[i] - lr * v
    else:
        bias1 = 1.0 - math.pow(c0, t)  # Python's beta1**t is C's pow too
        bias2 = 1.0 - math.pow(c1, t)
        for i in range(p.size):
            mi = state[0, i] * c0
            mi = mi + (1.0 - c0) * g[i]
            state[0, i] = mi
            vi = state[1, i] * c1
            vi = vi + (1.0 - c1) * g[i] * g[i]
            state[1, i] = vi
            out[i] = p[i] - lr * (mi / bias1) / (math.sqrt(vi / bias2) + c2)
    finite = True
    for i in range(p.size):
        finite = finite and math.isfinite(out[i])
    return finite


# --- one model -----------------------------------------------------------------------------------
@njit(**_FLAGS)
def _zero_pad(M, n, w, wp):
    for j in range(n):
        for e in range(w, wp):
            M[j, e] = 0.0


@njit(**_FLAGS)
def _load(A0, Yc, X, Y, order, first, w, wp, n0, nout):
    """Examples first … first + w − 1 (columns of X, Y, or those `order` lists when it is not
    empty) into A0 and Yc, and zeros in the padding up to wp."""
    for e in range(w):
        col = order[first + e] if order.size > 0 else first + e
        for r in range(n0):
            A0[r, e] = X[r, col]
        for r in range(nout):
            Yc[r, e] = Y[r, col]
    _zero_pad(A0, n0, w, wp)
    _zero_pad(Yc, nout, w, wp)


@njit(**_FLAGS)
def _buffer(n, rows, cols):
    """Zeros (n, rows, cols') whose rows start on 64-byte boundaries (cols' ≥ cols: rows 4 KiB
    apart would alias in the L1 cache)."""
    stride = cols + 8 if (cols * 8) % 4096 == 0 else cols
    flat = np.zeros(n * rows * stride + 8)
    off = ((64 - flat.ctypes.data % 64) % 64) // 8
    return flat[off:off + n * rows * stride].reshape((n, rows, stride))


@njit(cache=True, error_model="numpy", nogil=True)
def _train_one(p, state, X, Y, sizes, woff, boff, acts, apar, loss, opt, opar, lr, i0, i1, every,
               orders, bs, k, chunk, costs, rec0, bad):
    """Train one model in place over iterations i0 … i1 − 1, as numpy_engine._descend does.

    p (P,): the parameters (updated in place); state (2, P): the optimizer's (velocity, or m and
    v), carried between calls; sizes, woff, boff: the layout (Network.slots); acts, apar: the
    hidden activations' codes and slope/alpha; opar: beta, or beta1, beta2, eps; orders: the
    minibatch orders (common.epoch_orders), (0, m) for full batch, k batches of bs per epoch;
    costs[i // every − rec0]: the recorded costs. Returns (status, iteration, steps, cost):
    status 0 ran to i1; 1 the cost recorded at `iteration` is not finite (`cost`); 2 the update of
    `iteration` is not finite (it is in `bad`, p keeps the last finite parameters).
    Every buffer is allocated here, once, none in the iteration loop."""
    L = sizes.size - 1
    m = X.shape[1]
    n0 = sizes[0]
    nout = sizes[L]
    zero = m - m  # 0 and 1 as run-time values (see the module's docstring)
    one = m // m
    nmax = n0
    for l in range(1, L + 1):
        nmax = max(nmax, sizes[l])
    cw = min(m, chunk)
    cwp = (cw + 7) // 8 * 8
    work = _buffer(2 * L + 2, nmax, cwp)  # one allocation: fixed offsets between the rows below
    A = work[:L]  # A[l]: the input of layer l + 1 (A[0]: the examples)
    Z = work[L:2 * L]  # Z[l]: its pre-activation, where the backward pass needs it
    D = work[2 * L:]  # dLoss/dZ of the layer and of the one below it
    Yc = np.zeros((nout, cwp))
    g = np.zeros(p.size)
    entries = np.empty(nout * m)  # the loss of each (unit, example), as the reference sums them
    nodes = np.zeros((192, 3), dtype=np.int64)
    vals = np.zeros(64)
    mx = np.empty(cwp)
    lse = np.empty(cwp)
    full = orders.shape[0] == 0
    everything = np.zeros(zero, dtype=np.int64)  # an empty order: X's columns in turn
    fixed = full and m <= cw  # one chunk that never changes: load it once
    loaded = False
    steps = zero
    for i in range(i0, i1):
        record = i % every == 0
        bw = m if full else min(bs, m - (i % k) * bs)
        # pass 0 (minibatch recorded iterations only): the cost on the whole training set, before
        # the update; pass 1: the batch, forward and backward (and the cost when full-batch)
        for ps in range(0 if (record and not full) else 1, 2):
            costing = ps == 0 or (record and full)
            train = ps == 1
            width = bw if train else m
            order = everything if (full or not train) else orders[i // k, (i % k) * bs:]
            for c in range(-(-width // cw)):
                e0 = c * cw
                w = min(cw, width - e0)
                wp = (w + 7) // 8 * 8
                if not (fixed and loaded):
                    _load(A[0], Yc, X, Y, order, e0, w, wp, n0, nout)
                    loaded = True
                # the layers forward (q < L), then backward (l = 2L − 1 − q), through one call
                # site per kernel (each site is compiled: one is faster to compile)
                for q in range(2 * L if train else L):
                    forward = q < L
                    l = q if forward else 2 * L - 1 - q
                    K = sizes[l]
                    n = sizes[l + 1]
                    if forward:  # Z_l = W_l·A_{l−1} + b_l, A_l = φ(Z_l); the logits in Z[L − 1]
                        code = acts[l] if l < L - 1 else LINEAR
                        mode = RELU_OUT if code == RELU else (LEAKY_OUT if code == LEAKY_RELU else PLAIN)
                        fused = mode != PLAIN  # φ applied as the sums are stored: Z_l not kept
                        si = l  # slots of `work`: A[l] is l, Z[l] is L + l, D[j] is 2L + j
                        oi = l + 1 if fused else L + l
                        so, ss, bo, n_out, n_src, slope = K, one, boff[l], n, K, apar[l]
                    else:  # dLoss/dZ_l in D[l % 2] → the gradient of W_l, b_l, and dLoss/dZ_{l−1}
                        dl = 2 * L + l % 2
                        if l == L - 1:
                            _loss_gradient(loss, Z[l], Yc, D[l % 2], nout, wp, 1.0 / bw, mx)  # padding: zeroed next
                            _zero_pad(D[l % 2], nout, w, wp)
                        s = zero
                        while s < K:
                            G = 4 if K - s >= 4 else (2 if K - s >= 2 else 1)
                            if G == 4:
                                _sums4(work, dl, l, n, K, s, wp, g, woff[l], boff[l], c > 0)
                            elif G == 2:
                                _sums2(work, dl, l, n, K, s, wp, g, woff[l], boff[l], c > 0)
                            else:
                                _sums1(work, dl, l, n, K, s, wp, g, woff[l], boff[l], c > 0)
                            s += G
                        if l == 0:
                            break
                        code = acts[l - 1]
                        fused = code == RELU or code == LEAKY_RELU  # φ′ read off A (> 0 ⇔ Z > 0)
                        mode = GATED if fused else PLAIN
                        si = dl
                        oi = 2 * L + (l - 1) % 2
                        so, ss, bo, n_out, n_src, slope = one, K, -one, K, n, apar[l - 1]
                    s = zero  # passes of up to 8 sources
                    while s < n_src:
                        G = min(8, n_src - s)
                        G = 5 if 5 < G < 8 else G  # no _comb6, _comb7: 6 = 5 + 1, 7 = 5 + 2
                        first = s == 0
                        last = s + G == n_src
                        if G == 8:
                            _comb8(p, woff[l], so, ss, bo, n_out, s, work, si, oi, wp, first, last, mode, slope, l)
                        elif G == 5:
                            _comb5(p, woff[l], so, ss, bo, n_out, s, work, si, oi, wp, first, last, mode, slope, l)
                        elif G == 4:
                            _comb4(p, woff[l], so, ss, bo, n_out, s, work, si, oi, wp, first, last, mode, slope, l)
                        elif G == 3:
                            _comb3(p, woff[l], so, ss, bo, n_out, s, work, si, oi, wp, first, last, mode, slope, l)
                        elif G == 2:
                            _comb2(p, woff[l], so, ss, bo, n_out, s, work, si, oi, wp, first, last, mode, slope, l)
                        else:
                            _comb1(p, woff[l], so, ss, bo, n_out, s, work, si, oi, wp, first, last, mode, slope, l)
                        s += G
                    if not forward:
                        if not fused:
                            _derivative(code, apar[l - 1], Z[l - 1], work[oi], K, wp)
                    elif l < L - 1:
                        if not fused:
                            _activate(code, apar[l], Z[l], A[l + 1], n, wp)
                        _zero_pad(A[l + 1], n, w, wp)
                    elif costing:
                        _loss_entries(loss, Z[l], Yc, nout, w, entries, e0, m, mx, lse)
            if costing:
                cost = _loss_total(loss, entries, nout * m, m, nodes, vals)
                costs[i // every - rec0] = cost
                if not math.isfinite(cost):
                    return 1, i, steps, cost
        if not _update(opt, p, g, bad, state, float(i + 1), lr, opar[0], opar[1], opar[2]):
            return 2, i, steps, 0.0
        p[:] = bad
        steps += 1
    return 0, i1, steps, 0.0


# --- Python side ---------------------------------------------------------------------------------
def _activation_code(activation):
    """(code, slope or alpha) of an Activation, or (None, 0.0) when it is not one the kernel
    computes: the registry's, with its options, checked on a few points (a custom Activation that
    borrows a registered name is not mistaken for it)."""
    base = activation.name.split("(")[0]
    code = ACTIVATION_CODES.get(base)
    if code is None:
        return None, 0.0
    option = 0.0
    if code == LEAKY_RELU:  # the exact option, not the name's rounded "%g"
        option = float(-activation.fn(np.array([-1.0]))[0])
        reference = get_activation(base, slope=option) if option >= 0.0 else None  # φ′ read off A needs slope ≥ 0
    elif code == ELU:
        option = float(activation.derivative(np.array([0.0]))[0])
        reference = get_activation(base, alpha=option) if option > 0.0 else None
    else:
        reference = get_activation("swish" if base == "silu" else base)
    probe = np.array([-3.0, -0.7, -0.0, 0.0, 0.4, 2.5])
    with np.errstate(all="ignore"):
        same = reference is not None and all(
            np.array_equal(np.asarray(f(probe), dtype=float), np.asarray(g(probe), dtype=float))
            for f, g in ((activation.fn, reference.fn), (activation.derivative, reference.derivative))
        )
    return (code, option) if same else (None, 0.0)


KERNEL = _train_one  # what engines.ready looks up in numba's cache


def supports(network, options):
    """None when this engine can train `network` with `options`, else why not."""
    for activation in network.hidden_activations:
        if _activation_code(activation)[0] is None:
            return f"activation '{activation.name}' is not compiled"
    if network.loss_fn.name not in LOSS_CODES:
        return f"loss '{network.loss_fn.name}' is not compiled"
    optimizer = get_optimizer(options.optimizer, **options.optimizer_options)
    if optimizer.name not in OPTIMIZER_CODES:
        return f"optimizer '{optimizer.name}' is not compiled"
    return None


def threads():
    """How many models train at once: numba's NUMBA_NUM_THREADS (the number of cores unless set)."""
    return max(1, int(config.NUMBA_NUM_THREADS))


def train_batch(network, params, X, Y, options, callback=None):
    """Train each row of `params` (B, P) (not modified) on (X, Y); one ``Trace`` per row. Models
    run on threads() threads at once.

    With a `callback`, the kernel runs from one recorded iteration to the next and
    `callback(b, i, cost, params_b)` follows for each model b still training, in the order of
    i, then b (params_b: a copy of the parameters before the update of iteration i)."""
    reason = supports(network, options)
    if reason is not None:
        raise InitlabError(f"The 'numba' engine does not support this run: {reason}.")
    optimizer = get_optimizer(options.optimizer, **options.optimizer_options)
    settings = optimizer.settings
    opar = np.array([settings.get("beta", settings.get("beta1", 0.0)), settings.get("beta2", 0.0), settings.get("eps", 0.0)])
    codes = [_activation_code(a) for a in network.hidden_activations] + [(LINEAR, 0.0)]
    layout = (
        np.array(network.sizes, dtype=np.int64),
        np.array([s.w_start for s in network.slots], dtype=np.int64),
        np.array([s.b_start for s in network.slots], dtype=np.int64),
        np.array([c for c, _ in codes], dtype=np.int64),
        np.array([a for _, a in codes], dtype=np.float64),
    )
    X = np.ascontiguousarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    m = X.shape[1]
    orders = epoch_orders(m, options.batch_size, options.seed, options.iterations)
    orders = np.zeros((0, m), dtype=np.int64) if orders is None else np.ascontiguousarray(orders, dtype=np.int64)
    k = batches_per_epoch(m, options.batch_size)
    bs = m if options.batch_size is None else int(options.batch_size)
    chunk = -(-m // -(-m // CHUNK))  # chunks of equal width
    B, P = params.shape
    current = np.array(params, dtype=np.float64, order="C")  # a copy: the caller's stays as it was
    state = np.zeros((B, 2, P))
    bad = np.zeros((B, P))
    every, T = options.record_every, options.iterations
    n_rec = -(-T // every)
    costs = np.full((B, n_rec), np.nan)
    status = np.zeros(B, dtype=np.int64)
    where = np.zeros(B, dtype=np.int64)
    steps = np.zeros(B, dtype=np.int64)
    stop_cost = np.zeros(B)
    fixed = (LOSS_CODES[network.loss_fn.name], OPTIMIZER_CODES[optimizer.name], opar, float(options.learning_rate))

    def run(b, i0, i1, rec0):
        s, it, n, c = _train_one(current[b], state[b], X, Y, *layout, *fixed, i0, i1, every, orders, bs, k, chunk,
                                 costs[b], rec0, bad[b])
        status[b], where[b], stop_cost[b] = s, it, c
        steps[b] += n

    length = segment_length(network, m)

    def run_range(b, i0, i1, stop):  # in segments, so that Ctrl-C (stop) is seen within ~0.1 s
        for s0, s1 in segments(i0, i1, length):
            if stop.is_set() or status[b] != 0:
                return
            run(b, s0, s1, 0)

    if callback is None:
        each(range(B), lambda b, stop: run_range(b, 0, T, stop), threads())
    else:
        for r in range(n_rec):
            i0, i1 = r * every, min((r + 1) * every, T)
            training = [b for b in range(B) if status[b] == 0]
            before = current.copy()
            each(training, lambda b, stop: run_range(b, i0, i1, stop), threads())
            for b in training:
                callback(b, i0, float(costs[b, r]), before[b])
    traces = []
    for b in range(B):
        divergence, n_done = None, n_rec
        if status[b] == 1:
            divergence = Divergence(int(where[b]), f"the cost is {float(stop_cost[b])}")
        elif status[b] == 2:
            divergence = Divergence(int(where[b]), nonfinite_what(bad[b]))
        if divergence is not None:
            n_done = divergence.iteration // every + 1
        iterations = np.arange(n_done, dtype=np.int64) * every
        traces.append(Trace(current[b].copy(), iterations, costs[b, :n_done].copy(), divergence, int(steps[b])))
    return traces




def warm_up():
    """Compile the kernel, or load it from the disk cache, on a tiny problem; the seconds spent."""
    return warm_up_engine(train_batch)
