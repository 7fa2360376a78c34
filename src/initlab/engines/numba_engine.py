"""The compiled engine: the whole training loop in numba, one model per thread (one wide model on
BLAS's threads).

Same semantics as ``numpy_engine`` (the reference), to relative ~1e-15 on a stable run: the
forward pass sums ``W·A`` in input order with one FMA per term from zero, then adds ``b`` (the
order of OpenBLAS's dgemm, so Z_l usually has the reference's very digits), the BCE gradient is
``1/m·(σ(z) − y)`` with ``σ = 1/(1 + e^(−z))``, the ReLU derivative is ``z > 0``, the update
``p − lr·g``, the recorded cost the reference's formula summed as numpy sums (pairwise). A
parametrization's forward multiplier m_l scales W_l's coefficients before the sums (the reference
multiplies the product: rounding apart, the same), and its per-parameter learning-rate and ε
factors come in ``scales``; m = 1 and unit factors change no digit (1·x is exact).

Speed (2-core Zen 4 box, bench/README.md): one 15000-iteration run of [2, 10, 5, 1] on 300 examples
60–65 ms (16–19× the notebook's numpy loop, ~1.05 s), 1000 of them ~34 s on both cores. How:
- Examples are columns, so every loop runs over contiguous examples and vectorizes (AVX-512/AVX2):
  ``combine(G, …)`` adds G source rows into an output row in one pass (the running sum stays in a
  register, the output row is stored once per G sources) and applies the activation as it stores
  (ReLU, leaky ReLU) or the derivative (``× φ′``, read off A: A > 0 exactly where Z > 0);
  ``gradient(G, …)`` computes the gradient of two rows of W_l at once (sums over examples). Both are
  unrolled over G sources, one branch per G, generated text (``_generate_kernels.py`` writes ``_kernels_generated.py``):
  a generic kernel with a loop over the sources measured 20–25 % slower each in the whole engine
  (bench/README.md, "A core that can grow").
- The loop reads as the reference's: ``_forward``, ``_loss_*``, ``_backward`` and ``_update``
  over one layout record (``layers``: a row per layer, columns FAN_IN … ACTIVATION) and one
  workspace whose slots are listed above ``_forward``.
- A chunk of examples is padded to a multiple of 8 columns (whole vectors, no scalar tails); the
  padding of every layer input and of dLoss/dZ_L is kept at exactly 0, so it adds exact zeros to
  every sum over examples.
- e^x is a branch-free polynomial (SLEEF's, ≤ 1 ulp), so the loss gradient vectorizes too; so is
  tanh (built on the same polynomial, ≤ 4 ulp of libm's), so tanh and sigmoid layers vectorize:
  a tanh network of width 8 trains 9× faster than with libm's scalar tanh (bench/README.md).
- Every buffer is allocated on the Python side (``_workspace``), once per model, none in the
  iteration loop; activations, pre-activations and gradients share one allocation (fixed offsets
  between rows: separately allocated rows could fall 4 KiB apart from each other and stall loads
  behind stores), and the row kernels address it by slot index. The loop and its kernels are
  compiled without numba's reference counting (``_nrt=False``: nothing in them allocates, and
  every array they see is owned by the caller): with it, each array argument of a kernel call
  and each row view cost an atomic increment and decrement, 42% of an iteration of the notebook's
  network at 8 examples and 12% at 300 (perf; the 1000-network sweep 32.2 s → 28.8 s here).
- float32 networks (``Network(dtype="float32")``): every array the loop touches is the network's
  dtype, and numba compiles a second signature of the same code (its first use: the first compile
  again, then cached). Constants are in the arrays' type (``_typed.of_dtype``; a literal 0.0 would
  make the arithmetic float64), e^x has a float32 polynomial (``_exp32``, picked by ``_exp_of``'s
  overload), BLAS's products are sgemm: twice the SIMD lanes and half the bytes. tanh and the
  activations on libm stay float64 inside (rounded as they are stored). bench/float32.py: the
  1000-network sweep 1.75–1.88× faster than in float64 in four runs of five (1.65× in a noisy one).
- One SIMD vector per loop step: LLVM's cost model interleaves the short loops over examples by 2–4
  vectors, which leaves the last 16–48 examples of a 304-wide float32 chunk to a 4- or 8-lane
  epilogue loop (in the gradient's sums, with a second round of horizontal sums). The kernel is
  compiled with ``-force-vector-interleave=1`` (``_one_vector_per_step``, set only while it compiles):
  an iteration of the notebook's network at 300 examples ~8% faster in float32, ~3% in float64; wider
  networks and 3000 examples within the noise (bench/README.md, "float32 against float64").

Residual networks (``Network(residual=...)``): the layout record's residual columns say, per layer, which
workspace slot holds the φ argument of its input (a stream T_k or Z_{l−1}), where a stream writer keeps
T (the stem's Z; a branch's last layer writes T = base + α_k·Z into a slot of its own, base = T_k pre
or φ(T_k) post, P_k·base through a projection), and, at each block's first layer and the head, how the
skip path's gradient G joins (after φ′ for pre, before for post; P_kᵀ·G below a projection, whose
gradient G·baseᵀ is summed there too) and where α_k's gradient Σ dT·Z goes. The per-block passes are
elementwise; bench/residual.py measures 64 blocks of width 64 at 1.38–1.42× a plain MLP's flop rate.
Fixup's scalar biases β (z = m·W(a + β) + b) are folded into the layer's bias for its sums (b + β·m·W·1,
saved and restored around them: ``_shift_bias``), and their gradients added after W's (``_shift_gradient``).

fastmath: only ``contract`` (a·b + c as one FMA: what BLAS does, and twice the throughput) in the
forward/backward kernels, plus ``reassoc`` in the gradient sums (partial sums per SIMD lane: the
order of the sum over examples changes, by ~1e-16 relative, as between two BLAS builds). Never
``nnan``/``ninf``: a saturated output (σ(z) = 0 or 1, e^z = inf) and NaN must behave as in numpy.
Elementwise code (activations, losses, the update) is compiled without fastmath, as written.

Parallelism: models run in Python threads (``nogil`` kernel), ``NUMBA_NUM_THREADS`` of them (one
per core by default), each taking the next model when it finishes one (a model that diverges early
frees its thread). A ``prange`` kernel (tried first) added ~19 s to the first compile (numba
re-optimizes the whole training loop again inside the parallel wrapper). One model at a time (one
model, or one thread) splits across cores through BLAS: its layers wider than ``_blas.SMALL`` on
both sides multiply by scipy's dgemm on BLAS's threads, called from the loop on workspace blocks in
place (``_gemm.gemm``; ``_with_blas`` sets the layers' GEMM flags per run, ``_product_*`` below),
where the row kernels would run on one core; BLAS on one thread gains nothing over the kernels
(bench/README.md, "One model, every core").

Compile: ``_train_one`` is ``cache=True`` (on disk): the first use compiles once (see ``warm_up``),
later processes load the cache in ~0.3 s (plus ~0.35 s to import numba); its object code holds every
function it calls, so those are ``cache=False`` (nothing would ever load theirs). numba finalizes
(optimizes and emits) each jitted function's module and again every module that links it in, and
every function it compiles costs its own typing and lowering besides, so the first compile is
roughly proportional to the number of jitted functions and the code in them: the loop's helpers
(``_forward``, ``_backward``, ``_combine``, ``_weight_gradient``) are inlined in numba's IR
(``inline="always"``) rather than compiled apart; the kernels (one function each, all group sizes
in it) and the elementwise functions stay functions of their own (their fastmath flags are theirs;
inlined code takes the caller's); no buffer is allocated in jitted code (numba's np.zeros, reshape
and ctypes are functions of their own, ~1 s). One signature per dtype serves every network and options
(sizes, codes and parameters are arrays and numbers); each is compiled (or loaded) by ``warm_up`` in
that dtype, inside ``_one_vector_per_step``, before any thread calls it (``_compiled``).
Jitted functions are never called with a literal constant argument (``0``, ``True``): numba would
compile a second, literal-typed copy, which costs time and, loaded from the cache, crashed (a call
to address 0). Hence ``m − m``. ``params[:] = candidate`` is a loop: the slice assignment compiles
numba's string functions (its error message), ~1 s.
"""
from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import llvmlite.binding as llvm
from llvmlite import ir
from numba import config, njit
from numba.core import types
from numba.core.compiler_lock import global_compiler_lock
from numba.extending import intrinsic, overload

from .._blas import SMALL
from .._blas import threads as blas_threads
from .._validation import InitlabError
from ..activations import ACTIVATIONS, SELU_ALPHA, SELU_SCALE
from .._spec import Spec
from ..network import Network
from ..optim import build_optimizer
from ..options import TrainOptions
from .common import (Callback, Divergence, Reached, Trace, batches_per_epoch, each, epoch_orders, nonfinite_what, segment_length,
                     segments)
from ._gemm import gemm
from ._gemm import load_scipy_blas
from ._generate_kernels import GATED, LEAKY_OUT, PLAIN, RELU_OUT, SUMS
from ._kernels_generated import combine, gradient
from ._typed import of_dtype
from .exact_math import pairwise_sum

NAME = "numba"

# Codes passed to the compiled kernel (no Python objects inside).
LINEAR, RELU, LEAKY_RELU, ELU, SELU, TANH, SIGMOID, SOFTPLUS, SWISH, GELU = range(10)
BCE, CE, MSE = range(3)
GD, MOMENTUM, ADAM = range(3)

# The layout record: one row of int64 per layer (`layers`, (L, 11)), these columns. GEMM: 1 when the
# layer's products are BLAS's. The residual columns (_layout_of; −1 or 0 where they do not apply): ARG,
# the workspace slot of the φ argument that made the layer's input (Z_{l−1}, or the stream T_k); STREAM,
# the slot where a stream writer (the stem, a branch's last layer) keeps T; BASE, the slot a branch's sum
# starts from (T_k: pre, φ(T_k): post); ALPHA, where α_k is in params; INTO, what the layer's input is:
# PLAIN_INPUT, the head's φ(T_K) (HEAD_INPUT), a block's φ(T_k) with the skip's gradient added after φ′ (PRE_FIRST) or before (POST_FIRST);
# PROJ, PROJ_IN, PROJ_OUT: where a block that changes the stream's width keeps its projection P_k (n_out, n_in) in
# params, on its first and its last layer's rows (−1, 0, 0 without); SHIFT, where a branch layer's scalar bias β
# (Fixup's, z = m·W(a + β) + b) is in params (−1 without).
FAN_IN, FAN_OUT, W_START, B_START, ACTIVATION, GEMM, ARG, STREAM, BASE, ALPHA, INTO, PROJ, PROJ_IN, PROJ_OUT, SHIFT = range(15)
PLAIN_INPUT, HEAD_INPUT, PRE_FIRST, POST_FIRST = range(4)
# The run's integer settings (`settings`) and floats (`hyper`), by index.
LOSS, OPTIMIZER, RECORD_EVERY, BATCH_SIZE, BATCHES, CHUNK_WIDTH, TARGET_MODE = range(7)
LEARNING_RATE, BETA1, BETA2, EPS, TARGET = range(5)  # BETA1: momentum's beta, or Adam's beta1
NO_TARGET, ON_TRAIN, ON_BATCH = range(3)  # TARGET_MODE: the target loss checked nowhere, on all the data, on the batch

ACTIVATION_CODES = {  # spec key -> (code, the option the kernel reads, if any)
    "linear": (LINEAR, None), "relu": (RELU, None), "leaky_relu": (LEAKY_RELU, "slope"), "elu": (ELU, "alpha"),
    "selu": (SELU, None), "tanh": (TANH, None), "sigmoid": (SIGMOID, None), "softplus": (SOFTPLUS, None),
    "swish": (SWISH, None), "gelu": (GELU, None),
}
LOSS_CODES = {"binary_cross_entropy": BCE, "cross_entropy": CE, "mean_squared_error": MSE}
OPTIMIZER_CODES = {"gd": GD, "momentum": MOMENTUM, "adam": ADAM}

CHUNK = 4096  # examples per pass at most (bounds the buffers; m ≤ CHUNK is one pass, the fast case)

MATH = {"contract"}
_FLAGS = dict(cache=False, error_model="numpy", no_cpython_wrapper=True, no_cfunc_wrapper=True,
              _nrt=False)  # linked into _train_one; no reference counting (the module's docstring)
_HELPER = dict(cache=False, error_model="numpy", no_cpython_wrapper=True, no_cfunc_wrapper=True,
               inline="always")  # inlined into _train_one in numba's IR (see the module's docstring: Compile)

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


@njit(fastmath=MATH, cache=False, error_model="numpy", inline="always")
def _expm1_reduced(s):
    """e^s − 1 for |s| ≤ ln(2)/2 (SLEEF's polynomial; the argument already reduced), no cancellation."""
    s2 = s * s
    s4 = s2 * s2
    s8 = s4 * s4
    u = s8 * (0.2081276378237164457e-8 * s + 0.2511210703042288022e-7) + (
        (s2 * (0.2755762628169491192e-6 * s + 0.2755723402025388239e-5) + (0.2480158687479686264e-4 * s + 0.0001984126989855865850)) * s4
        + (s2 * (0.001388888888914497797 * s + 0.008333333333322118547) + (0.04166666666666529195 * s + 0.1666666666666669072))
    )
    u = u * s + 0.5
    return s2 * u + s


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
    u = _expm1_reduced(s) + 1.0
    h = q >> 1  # 2^q as 2^h · 2^(q−h): each factor stays a normal number
    u = u * _bits_to_float((h + 1023) << 52) * _bits_to_float((q - h + 1023) << 52)
    u = np.inf if d > 709.78271114955742909217217426 else u
    return 0.0 if d < -1000.0 else u


_SHIFT32 = 12582912.0  # 1.5 · 2^23: (t + SHIFT32) − SHIFT32 rounds a float32 t to an integer
_L2U32 = 0.693145751953125  # ln 2 to 16 bits (45426 / 2^16): q·L2U32 is exact in float32 for |q| < 2^8
_L2L32 = 1.4286068203094172e-06  # ln 2 − L2U32


@intrinsic
def _times_pow2_f32(typingctx, u, q):
    """u·2^q for float32 u and an integral float32 q in [−150, 150]: 2^q as two normal factors
    2^h·2^(q−h), h = q >> 1, each built from its bits in 32-bit integers (numba's own integer
    arithmetic widens to 64 bits, which AVX2 cannot convert from floats in vectors)."""

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        qi = builder.fptosi(args[1], i32)
        h = builder.ashr(qi, ir.Constant(i32, 1))

        def power(e):
            return builder.bitcast(builder.shl(builder.add(e, ir.Constant(i32, 127)), ir.Constant(i32, 23)), ir.FloatType())

        return builder.fmul(builder.fmul(args[0], power(h)), power(builder.sub(qi, h)))

    return types.float32(types.float32, types.float32), codegen


@njit(fastmath=MATH, cache=True, error_model="numpy")
def _exp32(d):
    """e^d for a float32 d, in float32 and without branches (a float32 network's sigmoid and loss
    gradient): d = q·ln2 + s, |s| ≤ ln(2)/2, e^s − 1 by its Taylor polynomial to s^7/7! (the
    remainder below 6e-9, a tenth of float32's half ulp) in Horner's form, times 2^q. Within 2 ulp
    of the correctly rounded value (tests/test_float32.py); inf above ln(FLT_MAX), 0 below −104
    (subnormals between), nan for nan: as numpy's float32 exp."""
    t = d * np.float32(_R_LN2)
    t = t if t > np.float32(-150.0) else np.float32(-150.0)  # also maps nan to a finite q (s is nan anyway)
    t = t if t < np.float32(150.0) else np.float32(150.0)
    qf = (t + np.float32(_SHIFT32)) - np.float32(_SHIFT32)
    s = d - qf * np.float32(_L2U32)
    s = s - qf * np.float32(_L2L32)
    p = np.float32(1 / 5040) * s + np.float32(1 / 720)
    p = p * s + np.float32(1 / 120)
    p = p * s + np.float32(1 / 24)
    p = p * s + np.float32(1 / 6)
    p = p * s + np.float32(0.5)
    u = _times_pow2_f32(((s * s) * p + s) + np.float32(1.0), qf)
    u = np.float32(np.inf) if d > np.float32(88.72283935546875) else u
    return np.float32(0.0) if d < np.float32(-104.0) else u


def _exp_of(d):
    """e^d in d's own float type: what the kernels call (numba's overload below picks _exp32 for a
    float32, _exp for a float64); from Python, math.exp."""
    return math.exp(d)


@overload(_exp_of, inline="always")
def _exp_of_type(d):
    if d == types.float32:
        return lambda d: _exp32(d)
    return lambda d: _exp(d)


_TANH_CUT = 40.0  # tanh(x) rounds to ±1 for |x| > 19.1: 2|x| is clamped here (no overflow below)


@njit(fastmath=MATH, cache=True, error_model="numpy")
def _tanh(x):
    """tanh(x) within a few ulp of libm's, without branches (loops calling it vectorize, where
    math.tanh is a libm call per element): with y = 2|x| = q·ln2 + s (|s| ≤ ln2/2),
    E = e^y − 1 = (2^q − 1) + 2^q·(e^s − 1) — both terms exact or accurate, no cancellation —
    and tanh(x) = sign(x)·E/(E + 2). ±1 beyond |x| = 20, nan for nan."""
    y = abs(x) * 2.0
    y = y if y < _TANH_CUT else _TANH_CUT  # (nan: any finite y; the result is replaced below)
    qf = (y * _R_LN2 + _SHIFT) - _SHIFT
    q = np.int64(qf)
    s = y - qf * _L2U
    s = s - qf * _L2L
    two_q = _bits_to_float((q + 1023) << 52)  # q ≤ 58: a normal number
    big = (two_q - 1.0) + two_q * _expm1_reduced(s)  # e^y − 1
    t = math.copysign(big / (big + 2.0), x)
    return t if x == x else x


# --- the kernels: linear combinations of rows -----------------------------------------------------
# The workspace `work` (see _train_one) holds every row block the loop touches; a kernel takes it
# and slot indices, not array views: the iteration loop creates no views (no reference counting).
@njit(**_HELPER)
def _combine(params, w_start, out_stride, src_stride, b_start, n_out, n_src, work, src, out, width, finish,
             slope, gate, mult):
    """work[out, o, :width] = finish(Σ_t c(o, t)·work[src, t, :width] + b[o]) for o < n_out,
    c(o, t) = mult·params[w_start + o·out_stride + t·src_stride] (mult: the layer's forward multiplier), in passes of 8, 5, 2 and 1 sources (4 as
    2 + 2): the generated kernel combine (_generate_kernels.py's docstring says what it computes)."""
    s = n_src - n_src
    while s < n_src:
        left = n_src - s
        G = 8 if left >= 8 else (5 if left >= 5 else (2 if left >= 2 else 1))
        combine(G, params, w_start, out_stride, src_stride, b_start, n_out, s, work, src, out, width, s == 0, s + G == n_src,
                finish, slope, gate, mult)
        s += G


@njit(**_HELPER)
def _weight_gradient(work, delta, inputs, n_out, n_in, width, grads, w_start, b_start, add, mult):
    """grads[W[o, t]] (+)= mult·Σ_e work[delta, o, e]·work[inputs, t, e] and grads[b[o]] (+)= Σ_e work[delta, o, e]
    (o < n_out, t < n_in; added when `add`), in passes of 4, 2 and 1 inputs: the generated gradient."""
    s = n_in - n_in
    while s < n_in:
        left = n_in - s
        G = 4 if left >= 4 else (2 if left >= 2 else 1)
        gradient(G, work, delta, inputs, n_out, n_in, s, width, grads, w_start, b_start, add, mult)
        s += G


# --- the products of wide layers: BLAS's (_gemm), in place ---------------------------------------
# A layer whose GEMM flag is set (_with_blas: one model at a time, both its widths > _blas.SMALL)
# multiplies by BLAS, on BLAS's threads, instead of the kernels above. Row-major blocks of the
# workspace (row stride ld = work.shape[2]) and of params are column-major matrices to BLAS, so
# each product below is written in those terms. Same sums as the reference's (numpy's products are
# OpenBLAS's too), in BLAS's order; the bias, the activation and the gate follow as separate passes.
@njit(**_HELPER)
def _slot(work, slot):
    """The offset of work[slot, 0, 0] in work's data (work is C-contiguous)."""
    return slot * work.shape[1] * work.shape[2]


@njit(**_HELPER)
def _product_forward(params, w_start, n_in, n_out, work, src, out, wp, mult):
    """work[out, :n_out, :wp] = mult·W·work[src, :n_in, :wp], W (n_out, n_in) row-major at
    params[w_start]: to BLAS, the (wp, n_out) = (wp, n_in)·(n_in, n_out)."""
    ld = work.shape[2]
    gemm(0, 0, wp, n_out, n_in, mult, work, _slot(work, src), ld, params, w_start, n_in, 0.0, work, _slot(work, out), ld)


@njit(**_HELPER)
def _product_backward(params, w_start, n_in, n_out, work, delta, below, wp, mult):
    """work[below, :n_in, :wp] = mult·Wᵀ·work[delta, :n_out, :wp]: to BLAS, the (wp, n_in) =
    (wp, n_out)·(n_in, n_out)ᵀ."""
    ld = work.shape[2]
    gemm(0, 1, wp, n_in, n_out, mult, work, _slot(work, delta), ld, params, w_start, n_in, 0.0, work, _slot(work, below), ld)


@njit(**_HELPER)
def _product_gradient(work, delta, inputs, n_out, n_in, wp, grads, w_start, b_start, add, mult):
    """grads[W] (+)= mult·D·Aᵀ (D = work[delta] (n_out, wp), A = work[inputs] (n_in, wp); to BLAS,
    the (n_in, n_out) = (wp, n_in)ᵀ·(wp, n_out)) and grads[b] (+)= D's row sums; added when `add`."""
    ld = work.shape[2]
    gemm(1, 0, n_in, n_out, wp, mult, work, _slot(work, inputs), ld, work, _slot(work, delta), ld, 1.0 if add else 0.0,
         grads, w_start, n_in)
    if b_start >= 0:
        _row_sums(work[delta], n_out, wp, grads, b_start, add)


@njit(fastmath=SUMS, **_FLAGS)
def _row_sums(D, n, w, out, start, add):
    """out[start + o] (+)= Σ_e D[o, e] for o < n, e < w (partial sums per SIMD lane, as the gradient kernel)."""
    for o in range(n):
        t = of_dtype(0.0, D)
        for e in range(w):
            t += D[o, e]
        out[start + o] = out[start + o] + t if add else t


@njit(**_FLAGS)
def _finish_rows(params, b_start, n, Z, w, finish, slope):
    """Z[:n, :w] = finish(Z + b) in place (b = params[b_start:], 0 when b_start < 0): what combine
    does on its last pass (RELU_OUT, LEAKY_OUT or PLAIN)."""
    plain = finish == PLAIN
    leaky = finish == LEAKY_OUT
    zero = of_dtype(0.0, Z)
    for o in range(n):
        b = params[b_start + o] if b_start >= 0 else zero
        for e in range(w):
            u = Z[o, e] + b
            Z[o, e] = u if (plain or u > zero or u != u) else (slope * u if leaky else zero)


@njit(**_FLAGS)
def _gate(D, A, n, w, slope):
    """D[:n, :w] ×= (1 where A > 0, else slope): ReLU's and leaky ReLU's φ′, read off their output A."""
    one = of_dtype(1.0, D)
    for j in range(n):
        for e in range(w):
            D[j, e] = D[j, e] * (one if A[j, e] > 0.0 else slope)


# --- residual blocks (elementwise, as network.py writes them) ------------------------------------
@njit(**_FLAGS)
def _stream_sum(T, base, Z, alpha, n, w):
    """T[:n, :w] = base + α·Z: a block's output stream (its branch's output Z times α_k, added)."""
    for j in range(n):
        for e in range(w):
            T[j, e] = base[j, e] + alpha * Z[j, e]


@njit(**_FLAGS)
def _add_rows(D, G, n, w):
    """D[:n, :w] += G: the skip path's gradient joins the branch's."""
    for j in range(n):
        for e in range(w):
            D[j, e] = D[j, e] + G[j, e]


@njit(**_FLAGS)
def _shift_bias(params, w_start, b_start, n_out, n_in, mult, beta, saved, start):
    """`start`: saved[:, 0] ← b, b ← b + β·m·Σ_j W[o, j] (the sums then compute m·W(a + β) + b); else b ← saved[:, 0]."""
    for o in range(n_out):
        if start:
            t = of_dtype(0.0, params)
            for j in range(n_in):
                t += params[w_start + o * n_in + j]
            saved[o, 0] = params[b_start + o]
            params[b_start + o] = params[b_start + o] + beta * (mult * t)
        else:
            params[b_start + o] = saved[o, 0]


@njit(fastmath=SUMS, **_FLAGS)
def _shift_gradient(params, D, n_out, n_in, w, grads, w_start, at, mult, add):
    """A scalar bias's part of the gradients, from D = dCost/dZ (n_out, w): grads[W[o, j]] += m·β·Σ_e D[o, e]
    and grads[at] (+)= dβ = m·Σ_o (Σ_j W[o, j])·(Σ_e D[o, e]) (added when `add`)."""
    beta = params[at]
    total = of_dtype(0.0, D)
    for o in range(n_out):
        r = of_dtype(0.0, D)
        for e in range(w):
            r += D[o, e]
        row = of_dtype(0.0, D)
        for j in range(n_in):
            grads[w_start + o * n_in + j] = grads[w_start + o * n_in + j] + mult * beta * r
            row += params[w_start + o * n_in + j]
        total += row * r
    grads[at] = grads[at] + mult * total if add else mult * total


@njit(fastmath=SUMS, **_FLAGS)
def _stream_gradient(D, G, Z, alpha, n, w, grads, at, add):
    """From D = dCost/dT_{k+1} (n, w): grads[at] (+)= Σ D·Z (dα_k, Z the branch's output; partial
    sums per SIMD lane), G ← D (the skip's gradient, for block k's first layer), D ×= α_k (the
    branch's dCost/dZ)."""
    t = of_dtype(0.0, D)
    for j in range(n):
        for e in range(w):
            d = D[j, e]
            t += d * Z[j, e]
            G[j, e] = d
            D[j, e] = d * alpha
    grads[at] = grads[at] + t if add else t


# --- activations (elementwise, as activations.py writes them) ------------------------------------
@njit(**_FLAGS)
def _phi(code, a, z):
    """φ(z) of activation `code` (a: the slope or alpha), as activations.py computes it."""
    if code == LINEAR:
        return z
    if code == LEAKY_RELU:
        return z if z > 0.0 else a * z
    if code == RELU:
        return z if (z > 0.0 or z != z) else 0.0
    if code == ELU:
        return z if z > 0.0 else a * math.expm1(min(z, 0.0))
    if code == SELU:
        return SELU_SCALE * (z if z > 0.0 else SELU_ALPHA * math.expm1(min(z, 0.0)))
    if code == TANH:
        return _tanh(z)
    if code == SIGMOID:
        return 1.0 / (1.0 + _exp(-z))
    if code == SOFTPLUS:  # numpy's logaddexp(0, z)
        if z == 0.0:
            return _LOGE2
        if z < 0.0:
            return math.log1p(math.exp(z))
        if z > 0.0:
            return z + math.log1p(math.exp(-z))
        return z
    if code == SWISH:
        return z * (0.5 * (1.0 + _tanh(0.5 * z)))
    return 0.5 * z * (1.0 + math.erf(z / _SQRT2))  # GELU


@njit(**_FLAGS)
def _phi_prime(code, a, z):
    """φ′(z) of activation `code`, as activations.py computes it."""
    if code == LINEAR:
        return 1.0
    if code == LEAKY_RELU or code == RELU:
        return 1.0 if z > 0.0 else (a if code == LEAKY_RELU else 0.0)
    if code == ELU:
        return 1.0 if z > 0.0 else a * math.exp(min(z, 0.0))
    if code == SELU:
        return SELU_SCALE * (1.0 if z > 0.0 else SELU_ALPHA * math.exp(min(z, 0.0)))
    if code == TANH:
        t = _tanh(z)
        return 1.0 - t * t
    if code == SIGMOID:
        s = 1.0 / (1.0 + _exp(-z))
        return s * (1.0 - s)
    if code == SOFTPLUS:
        return 0.5 * (1.0 + _tanh(0.5 * z))
    if code == SWISH:
        s = 0.5 * (1.0 + _tanh(0.5 * z))
        return s * (1.0 + z * (1.0 - s))
    x = z * _SQRTH  # GELU: scipy's ndtr(z) + z·e^(−z²/2)/√(2π)
    if abs(x) < _SQRTH:
        cdf = 0.5 + 0.5 * math.erf(x)
    else:
        cdf = 0.5 * math.erfc(abs(x))
        cdf = 1.0 - cdf if x > 0.0 else cdf
    return cdf + z * math.exp(-0.5 * (z * z)) / _SQRT2PI


@njit(**_FLAGS)
def _activate(code, a, Z, A, n, w):
    """A[:n, :w] = φ(Z) for the activations not applied inside _combine; `a`: slope or alpha.
    tanh and the sigmoid, branch-free (_tanh, _exp), get loops of their own, which vectorize (5×
    libm's tanh per element); the others share one loop over a scalar switch (a tenth of the
    compile of one loop each; they call libm, which does not vectorize anyway)."""
    if code == TANH:
        for j in range(n):
            for e in range(w):
                A[j, e] = _tanh(Z[j, e])
        return
    if code == SIGMOID:
        one = of_dtype(1.0, A)
        for j in range(n):
            for e in range(w):
                A[j, e] = one / (one + _exp_of(-Z[j, e]))
        return
    for j in range(n):
        for e in range(w):
            A[j, e] = _phi(code, a, Z[j, e])


@njit(**_FLAGS)
def _derivative(code, a, Z, D, n, w):
    """D[:n, :w] ← D·φ′(Z) for the activations whose φ′ is not applied inside _combine (tanh
    and the sigmoid in loops of their own, as in _activate)."""
    if code == TANH:
        for j in range(n):
            for e in range(w):
                t = _tanh(Z[j, e])
                D[j, e] = D[j, e] * (1.0 - t * t)
        return
    if code == SIGMOID:
        one = of_dtype(1.0, D)
        for j in range(n):
            for e in range(w):
                g = one / (one + _exp_of(-Z[j, e]))
                D[j, e] = D[j, e] * (g * (one - g))
        return
    for j in range(n):
        for e in range(w):
            D[j, e] = D[j, e] * _phi_prime(code, a, Z[j, e])


# --- losses --------------------------------------------------------------------------------------
@njit(**_HELPER)
def _column_max(Z, n, w, out):
    """out[e] = max over j < n of Z[j, e] for e < w, as np.max: nan wins (the softmax's shift)."""
    for e in range(w):
        out[e] = Z[0, e]
    for j in range(1, n):
        for e in range(w):
            z = Z[j, e]
            out[e] = out[e] if (out[e] >= z or out[e] != out[e]) else z


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
        _column_max(Z, n, w, mx)
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
    BCE scale·(σ(z) − y) with σ = 1/(1 + e^−z), CE (softmax − y)·scale, MSE (z − y)·scale (in D's
    float type: `scale` is rounded to it, as numpy rounds a Python float multiplying a float32 array)."""
    scale = of_dtype(scale, D)
    one = of_dtype(1.0, D)
    if code == BCE:
        for j in range(n):
            for e in range(w):
                D[j, e] = scale * (one / (one + _exp_of(-Z[j, e])) - Y[j, e])
    elif code == MSE:
        for j in range(n):
            for e in range(w):
                D[j, e] = (Z[j, e] - Y[j, e]) * scale
    else:
        _column_max(Z, n, w, col)
        for j in range(n):
            for e in range(w):
                D[j, e] = _exp_of(Z[j, e] - col[e])
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
def _update(optimizer, params, grads, candidate, state, t, hyper, scales):
    """candidate = optim.py's step from params (t counts from 1; hyper: the learning rate, then
    beta, or beta1, beta2, eps; state (2, P): velocity, or m and v; scales (2, P): each parameter's
    factor on the learning rate and on eps, a parametrization's, 1 without); True when every entry
    of candidate is finite (params is left as it was: the caller keeps the last finite parameters).
    The hyperparameters are rounded to params' float type, as numpy rounds Python floats that
    multiply a float32 array (the same values for float64)."""
    lr = of_dtype(hyper[LEARNING_RATE], params)
    beta1 = of_dtype(hyper[BETA1], params)
    finite = True  # (& of comparisons, not `and`: no branch, the loops vectorize; nan and ±inf fail abs(c) < inf)
    if optimizer == GD:
        for i in range(params.size):
            c = params[i] - (lr * scales[0, i]) * grads[i]
            candidate[i] = c
            finite = finite & (abs(c) < math.inf)
    elif optimizer == MOMENTUM:
        for i in range(params.size):
            v = state[0, i] * beta1
            v = v + grads[i]
            state[0, i] = v
            c = params[i] - (lr * scales[0, i]) * v
            candidate[i] = c
            finite = finite & (abs(c) < math.inf)
    else:
        beta2 = of_dtype(hyper[BETA2], params)
        rest1 = of_dtype(1.0 - hyper[BETA1], params)  # 1 − beta1, computed in float64 as optim.py's Python floats
        rest2 = of_dtype(1.0 - hyper[BETA2], params)
        bias1 = of_dtype(1.0 - math.pow(hyper[BETA1], t), params)  # Python's beta1**t is C's pow too
        bias2 = of_dtype(1.0 - math.pow(hyper[BETA2], t), params)
        eps = of_dtype(hyper[EPS], params)
        for i in range(params.size):
            mi = state[0, i] * beta1
            mi = mi + rest1 * grads[i]
            state[0, i] = mi
            vi = state[1, i] * beta2
            vi = vi + rest2 * grads[i] * grads[i]
            state[1, i] = vi
            c = params[i] - (lr * scales[0, i]) * (mi / bias1) / (np.sqrt(vi / bias2) + eps * scales[1, i])
            candidate[i] = c
            finite = finite & (abs(c) < math.inf)
    return finite


# --- one model -----------------------------------------------------------------------------------
@njit(**_FLAGS)
def _zero_pad(M, n, w, wp):
    """M[:n, w:wp] = 0 (the padding columns of a chunk)."""
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


# Slots of the workspace `work` (2L + 3 (+ K + 1), n_max, padded chunk width wp), L layers, layer l
# (0-based) mapping fan_in K_l = layers[l, FAN_IN] units to n_l = layers[l, FAN_OUT]:
#     work[l]          A_l  (K_l, wp)   the input of layer l (A_0: the examples), for l < L
#     work[L + l]      Z_l  (n_l, wp)   its pre-activation, where the backward pass needs it
#                                       (Z_{L−1}: the logits; the stem's Z of a residual network is T_0)
#     work[2L + l % 2] D_l  (n_l, wp)   dLoss/dZ_l (two slots, alternating: layer l and the one below)
#     work[2L + 2]     Yc   (n_L, wp)   the chunk's targets
# and in a residual network of K blocks:
#     work[2L + 3 + k] T_{k+1} (width, wp)  the stream after block k (layers[., STREAM] of its last layer)
#     work[2L + 3 + K] G       (width, wp)  dCost/dT_{k+1} through the skip path, in the backward pass
#     work[2L + 4 + K] PG      (width, wp)  a projection's P_k·base (forward) or P_kᵀ·G (backward)
# Rows past K_l or n_l and columns past the chunk's width are unused; the padding columns
# w … wp − 1 of every A_l, T_k and of D_{L−1} are kept at exactly 0 (they add exact zeros to the sums).
@njit(**_HELPER)
def _forward(params, layers, slopes, mults, work, L, w, wp):
    """Z_l = W_l·A_l + b_l and A_{l+1} = φ_l(Z_l) for every layer (φ: linear at the output); a
    stream writer's φ acts on its stream T (a branch's last: T = base + α_k·Z_l)."""
    for l in range(L):
        n_in = layers[l, FAN_IN]
        n_out = layers[l, FAN_OUT]
        code = layers[l, ACTIVATION]
        stream = layers[l, STREAM]
        finish = PLAIN if stream >= 0 else (RELU_OUT if code == RELU else (LEAKY_OUT if code == LEAKY_RELU else PLAIN))
        fused = finish != PLAIN  # φ applied as the sums are stored: Z_l not kept, A_{l+1} written
        out = l + 1 if fused else L + l
        shift = layers[l, SHIFT]
        if shift >= 0:  # m·W(a + β) + b: b + β·m·W·1 for this layer's sums, b restored after them
            _shift_bias(params, layers[l, W_START], layers[l, B_START], n_out, n_in, mults[l], params[shift], work[work.shape[0] - 1],
                        w == w)
        if layers[l, GEMM]:
            _product_forward(params, layers[l, W_START], n_in, n_out, work, l, out, wp, mults[l])
            _finish_rows(params, layers[l, B_START], n_out, work[out], wp, finish, slopes[l])
        else:
            _combine(params, layers[l, W_START], n_in, w - w + 1, layers[l, B_START], n_out, n_in, work, l, out, wp,
                     finish, slopes[l], l, mults[l])
        if shift >= 0:
            _shift_bias(params, layers[l, W_START], layers[l, B_START], n_out, n_in, mults[l], params[shift], work[work.shape[0] - 1],
                        w != w)
        arg = L + l
        if stream >= 0:
            arg = stream
            if layers[l, BASE] >= 0:  # a branch's last layer: its block's output stream
                base = layers[l, BASE]
                if layers[l, PROJ] >= 0:  # the skip path changes the width: base ← P_k·base, in PG
                    projected = work.shape[0] - 1
                    _combine(params, layers[l, PROJ], layers[l, PROJ_IN], w - w + 1, -(w - w + 1), n_out, layers[l, PROJ_IN],
                             work, base, projected, wp, PLAIN, slopes[l], base, of_dtype(1.0, work))
                    base = projected
                _stream_sum(work[stream], work[base], work[L + l], params[layers[l, ALPHA]], n_out, wp)
                _zero_pad(work[stream], n_out, w, wp)
        if l < L - 1:
            if not fused:
                _activate(code, slopes[l], work[arg], work[l + 1], n_out, wp)
            _zero_pad(work[l + 1], n_out, w, wp)


@njit(**_HELPER)
def _backward(params, grads, layers, slopes, mults, work, L, w, wp, add):
    """From D_{L−1} (dLoss/dZ of the logits, in its slot): the gradient of every W_l, b_l into
    grads (added to it when `add`: a later chunk of examples), and D_{l−1} = (W_lᵀ·D_l)·φ′(Z_{l−1})."""
    for l in range(L - 1, -1, -1):
        n_in = layers[l, FAN_IN]
        n_out = layers[l, FAN_OUT]
        delta = 2 * L + l % 2
        blas = layers[l, GEMM] != 0
        if blas:
            _product_gradient(work, delta, l, n_out, n_in, wp, grads, layers[l, W_START], layers[l, B_START], add, mults[l])
        else:
            _weight_gradient(work, delta, l, n_out, n_in, wp, grads, layers[l, W_START], layers[l, B_START], add, mults[l])
        if layers[l, SHIFT] >= 0:
            _shift_gradient(params, work[delta], n_out, n_in, wp, grads, layers[l, W_START], layers[l, SHIFT], mults[l], add)
        if l == 0:
            break
        code = layers[l - 1, ACTIVATION]
        fused = code == RELU or code == LEAKY_RELU  # φ′ read off A_l (> 0 ⇔ its argument Z_{l−1} or T_k > 0)
        below = 2 * L + (l - 1) % 2
        into = layers[l, INTO]
        gated = fused and into != POST_FIRST  # φ′ applied as the sums are stored
        if blas:
            _product_backward(params, layers[l, W_START], n_in, n_out, work, delta, below, wp, mults[l])
        else:
            _combine(params, layers[l, W_START], w - w + 1, n_in, -(w - w + 1), n_in, n_out, work, delta, below, wp,
                     GATED if gated else PLAIN, slopes[l - 1], l, mults[l])
        skip = work.shape[0] - 2  # G (only a residual network's workspace has it, and PG after it)
        joined = skip  # the skip path's gradient as it joins: G, or P_kᵀ·G below a projection
        if (into == PRE_FIRST or into == POST_FIRST) and layers[l, PROJ] >= 0:
            joined = skip + 1
            base = layers[l, ARG] if into == PRE_FIRST else l  # what P_k multiplied: T_k, or φ(T_k) = A_l
            one = of_dtype(1.0, work)
            _weight_gradient(work, skip, base, layers[l, PROJ_OUT], n_in, wp, grads, layers[l, PROJ], -(w - w + 1), add, one)
            _combine(params, layers[l, PROJ], w - w + 1, n_in, -(w - w + 1), n_in, layers[l, PROJ_OUT], work, skip, joined, wp,
                     PLAIN, slopes[l - 1], l, one)
        if into == POST_FIRST:
            _add_rows(work[below], work[joined], n_in, wp)
        if fused and (blas or not gated):
            _gate(work[below], work[l], n_in, wp, slopes[l - 1])
        if not fused:
            _derivative(code, slopes[l - 1], work[layers[l, ARG]], work[below], n_in, wp)
        if into == PRE_FIRST:
            _add_rows(work[below], work[joined], n_in, wp)
        if into != PLAIN_INPUT and layers[l - 1, ALPHA] >= 0:  # dCost/dT_k: into the branch below, α_{k−1} and G
            _stream_gradient(work[below], work[skip], work[L + l - 1], params[layers[l - 1, ALPHA]], n_in, wp, grads,
                             layers[l - 1, ALPHA], add)


@njit(cache=True, error_model="numpy", nogil=True, no_cfunc_wrapper=True, _nrt=False)
def _train_one(params, state, X, Y, layers, slopes, mults, settings, hyper, scales, orders, i0, i1, costs, rec0, candidate, work,
               scratch, nodes, everything):
    """Train one model in place over iterations i0 … i1 − 1, as numpy_engine._descend does.

    params (P,): updated in place; state (2, P): the optimizer's (velocity, or m and v), carried
    between calls; X (n_0, m), Y (n_L, m): the examples as columns; layers (L, 5): the layout
    record, one row per layer (FAN_IN, FAN_OUT, W_START, B_START, ACTIVATION: the columns' names),
    slopes (L,): the activations' slope or alpha; mults (L,): the layers' forward multipliers;
    settings: LOSS, OPTIMIZER, RECORD_EVERY, BATCH_SIZE, BATCHES (per epoch), CHUNK_WIDTH, TARGET_MODE; hyper:
    LEARNING_RATE, BETA1, BETA2, EPS, TARGET; scales (2, P): each parameter's learning-rate and eps factors
    (network.lr_scale, network.eps_scale: a parametrization's, all 1 without);
    orders (epochs, m): the minibatch orders (common.epoch_orders), (0, m) for full batch;
    costs[i // every − rec0]: the recorded costs; candidate (P,): where each update is computed
    before it is accepted. Returns (status, iteration, steps, cost): status 0 ran to i1; 1 the cost
    recorded at `iteration` is not finite (`cost`); 2 the update of `iteration` is not finite (it is
    in `candidate`, params keeps the last finite parameters); 3 the cost checked at `iteration`
    (`cost`: on all the data, or on the batch, as TARGET_MODE says) reached TARGET. The buffers come from the caller
    (``_workspace``: allocating them here compiled numba's np.zeros, reshape and ctypes, ~1 s of the
    first compile): work (2L + 3, n_max, ≥ cwp), the slots above and the chunk's targets; scratch
    (P + n_L·m + 2·work.shape[2] + 64,): grads, entries, mx, lse and vals, in turn; nodes (192, 3)
    int64: pairwise_sum's stack; everything: an empty int64 order. None is allocated in the iteration loop."""
    L = layers.shape[0]
    m = X.shape[1]
    n_0 = layers[0, FAN_IN]
    n_L = layers[L - 1, FAN_OUT]
    loss = settings[LOSS]
    every = settings[RECORD_EVERY]
    batch_size = settings[BATCH_SIZE]
    batches = settings[BATCHES]
    target = hyper[TARGET]
    zero = m - m  # 0 as a run-time value (see the module's docstring)
    cw = min(m, settings[CHUNK_WIDTH])  # examples per chunk
    P = params.size
    Yc = work[2 * L + 2]  # (n_L, ≥ cwp): the chunk's targets
    grads = scratch[:P]  # (P,): the gradient, in params' layout
    entries = scratch[P:P + n_L * m]  # (n_L·m,): the loss of each (unit, example), as the reference sums them
    k = P + n_L * m
    mx = scratch[k:k + work.shape[2]]  # (≥ cwp,): per-example scratch of the softmax
    lse = scratch[k + work.shape[2]:k + 2 * work.shape[2]]
    vals = scratch[k + 2 * work.shape[2]:k + 2 * work.shape[2] + 64]  # pairwise_sum's partial sums
    full = orders.shape[0] == 0
    on_all = settings[TARGET_MODE] == ON_TRAIN or (settings[TARGET_MODE] == ON_BATCH and full)  # the target on all the data
    on_batch = settings[TARGET_MODE] == ON_BATCH and not full
    fixed = full and m <= cw  # one chunk that never changes: load it once
    loaded = False
    steps = zero
    for i in range(i0, i1):
        record = i % every == 0
        whole = record or on_all  # the cost on all the data is needed
        batch = i % batches
        bw = m if full else min(batch_size, m - batch * batch_size)  # examples in this iteration's batch
        # pass 0 (minibatch, when the cost on the whole training set is needed): that cost, before
        # the update; pass 1: the batch, forward and backward (and the cost when full-batch)
        for ps in range(0 if (whole and not full) else 1, 2):
            costing = ps == 0 or (whole and full)
            training = ps == 1
            batch_costing = training and on_batch
            width = bw if training else m
            order = everything if (full or not training) else orders[i // batches, batch * batch_size:]
            for c in range(-(-width // cw)):
                e0 = c * cw
                w = min(cw, width - e0)
                wp = (w + 7) // 8 * 8
                if not (fixed and loaded):
                    _load(work[0], Yc, X, Y, order, e0, w, wp, n_0, n_L)
                    loaded = True
                _forward(params, layers, slopes, mults, work, L, w, wp)
                logits = work[2 * L - 1]  # Z_{L−1} (n_L, wp)
                if costing:
                    _loss_entries(loss, logits, Yc, n_L, w, entries, e0, m, mx, lse)
                if batch_costing:  # laid out as the batch's own (n_L, bw) array, as the reference sums it
                    _loss_entries(loss, logits, Yc, n_L, w, entries, e0, bw, mx, lse)
                if training:
                    delta = work[2 * L + (L - 1) % 2]  # D_{L−1} (n_L, wp)
                    _loss_gradient(loss, logits, Yc, delta, n_L, wp, 1.0 / bw, mx)
                    _zero_pad(delta, n_L, w, wp)
                    _backward(params, grads, layers, slopes, mults, work, L, w, wp, c > 0)
            if costing:
                cost = _loss_total(loss, entries, n_L * m, m, nodes, vals)
                if record:
                    costs[i // every - rec0] = cost
                    if not math.isfinite(cost):
                        return 1, i, steps, cost
                if on_all and cost <= target:
                    return 3, i, steps, cost
            if batch_costing:
                cost = _loss_total(loss, entries, n_L * bw, bw, nodes, vals)
                if cost <= target:
                    return 3, i, steps, cost
        if not _update(settings[OPTIMIZER], params, grads, candidate, state, float(i + 1), hyper, scales):
            return 2, i, steps, 0.0
        for k in range(params.size):  # (not params[:] = candidate: that compiles numba's string code, ~1 s)
            params[k] = candidate[k]
        steps += 1
    return 0, i1, steps, 0.0


# --- Python side ---------------------------------------------------------------------------------
def _activation_code(spec: Spec) -> tuple[int | None, float]:
    """(code, its one option: slope or alpha) of an activation spec the kernel computes; (None,
    0.0) for one it does not."""
    entry = ACTIVATION_CODES.get(spec.key)
    if entry is None:
        return None, 0.0
    code, option = entry
    return code, 0.0 if option is None else float(spec.resolved(ACTIVATIONS[spec.key])[option])


KERNEL = _train_one  # what engines.ready looks up in numba's cache


def _workspace(layers: np.ndarray, P: int, m: int, chunk_width: int,
               dtype: str = "float64") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The buffers _train_one works in, for a network of layout `layers`, P parameters and m
    examples in chunks of at most `chunk_width`: (work, scratch, nodes, everything), as its
    docstring lists them; work and scratch in the network's `dtype`. work's rows start on 64-byte
    boundaries, and its row stride is not a multiple of 4 KiB (rows 4 KiB apart would alias in the L1 cache)."""
    L = layers.shape[0]
    n_max = int(max(layers[0, FAN_IN], layers[:, FAN_OUT].max()))
    cwp = (min(m, int(chunk_width)) + 7) // 8 * 8  # the padded chunk width
    item = np.dtype(dtype).itemsize
    line = 64 // item  # elements per 64 bytes
    stride = -(-cwp // line) * line  # rows on 64-byte boundaries
    stride = stride + line if (stride * item) % 4096 == 0 else stride
    K = int((layers[:, ALPHA] >= 0).sum())  # residual blocks: a stream slot each, then G and PG
    n_slots = 2 * L + 3 + (K + 2 if K else 0)
    size = n_slots * n_max * stride
    flat = np.zeros(size + 64 // item, dtype=dtype)
    off = ((64 - flat.ctypes.data % 64) % 64) // item
    work = flat[off:off + size].reshape((n_slots, n_max, stride))
    scratch = np.zeros(P + int(layers[L - 1, FAN_OUT]) * m + 2 * stride + 64, dtype=dtype)
    return work, scratch, np.zeros((192, 3), dtype=np.int64), np.zeros(0, dtype=np.int64)


class _Layout(NamedTuple):
    """What the kernel reads of a network's layers, built once per network (a Network is plain,
    hashable data, validated when it was built). Small: a few numbers per layer, never the (P,)
    vectors (those are the network's own cached properties, read per call)."""

    layers: np.ndarray  # (L, 15) int64: FAN_IN, FAN_OUT, W_START, B_START (−1: no bias), ACTIVATION, GEMM and the residual columns
    slopes: np.ndarray  # (L,) each layer's activation option (slope or alpha; 0 when it has none), in the network's dtype
    mults: np.ndarray  # (L,) the parametrization's forward multipliers, in the network's dtype


def _layout(network: Network) -> _Layout | str:
    """The kernel's view of `network`'s layers, or why it cannot be compiled, cached by the
    network's spec (its plain data: the cache keeps no Network, so none of a network's (P,)
    cached vectors stays alive through it). The kernel only reads these arrays; nothing writes
    them (read-only arrays would be another numba type: a second compile)."""
    return _layout_of(network.sizes, network.activation, network.loss, network.parametrization, network.bias, network.dtype,
                      network.residual)


@functools.lru_cache(maxsize=256)
def _layout_of(*spec: Any) -> _Layout | str:
    network = Network(*spec)  # rebuilt from its (already validated) spec: one per distinct network
    codes = [_activation_code(spec) for spec in network.activation] + [(LINEAR, 0.0)]
    for spec, (code, _) in zip(network.activation, codes):
        if code is None:
            return f"activation '{spec}' is not compiled"
    if network.loss.key not in LOSS_CODES:
        return f"loss '{network.loss}' is not compiled"
    if any(b.shift >= 0 and not all(network.bias[b.first:b.last + 1]) for b in network.blocks):
        return "scalar biases on layers without a bias vector are not compiled (their shift is folded into the bias)"
    layers = np.array([(network.sizes[l], network.sizes[l + 1], slot.w_start, slot.b_start if slot.has_bias else -1, codes[l][0], 0,
                        network.n_layers + l - 1, -1, -1, -1, PLAIN_INPUT, -1, 0, 0, -1)
                       for l, slot in enumerate(network.slots)], dtype=np.int64).reshape(-1, 15)  # GEMM: set per run (_with_blas)
    _residual_columns(network, layers)
    return _Layout(layers, np.array([a for _, a in codes], dtype=network.dtype),
                   np.array([rule.multiplier for rule in network.rules], dtype=network.dtype))


def _residual_columns(network: Network, layers: np.ndarray) -> None:
    """Fill a residual network's ARG, STREAM, BASE, ALPHA, INTO, PROJ, PROJ_IN, PROJ_OUT and SHIFT columns (the workspace's
    slots: _forward's comment)."""
    if network.branch is None:
        return
    L, K = network.n_layers, len(network.blocks)
    first = PRE_FIRST if network.branch.order == "pre" else POST_FIRST
    layers[0, STREAM] = L  # T_0 is the stem's Z
    for k, block in enumerate(network.blocks):
        writer = 0 if k == 0 else network.blocks[k - 1].last
        layers[block.first, ARG] = layers[writer, STREAM]
        layers[block.first, INTO] = first
        layers[block.last, STREAM] = 2 * L + 3 + k
        layers[block.last, BASE] = layers[writer, STREAM] if first == PRE_FIRST else block.first  # T_k, or φ(T_k) = A
        layers[block.last, ALPHA] = block.alpha
        if block.shift >= 0:
            layers[block.first:block.last + 1, SHIFT] = np.arange(block.shift, block.shift + block.last - block.first + 1)
        if block.projected:
            layers[[block.first, block.last], PROJ] = block.proj
            layers[[block.first, block.last], PROJ_OUT], layers[[block.first, block.last], PROJ_IN] = block.proj_shape
    layers[L - 1, ARG] = layers[network.blocks[K - 1].last, STREAM]
    layers[L - 1, INTO] = HEAD_INPUT


@functools.lru_cache(maxsize=64)
def _optimizer(spec: Spec) -> tuple[str, Mapping[str, float]]:
    """The optimizer `spec` names and its settings (built once per spec; read-only)."""
    optimizer = build_optimizer(spec)
    return optimizer.name, MappingProxyType(dict(optimizer.settings))


def supports(network: Network, options: TrainOptions) -> str | None:
    """None when this engine can train `network` with `options`, else why not."""
    layout = _layout(network)
    if isinstance(layout, str):
        return layout
    name, _ = _optimizer(options.optimizer_spec)
    return None if name in OPTIMIZER_CODES else f"optimizer '{name}' is not compiled"


def threads() -> int:
    """How many models train at once: numba's NUMBA_NUM_THREADS (the number of cores unless set)."""
    return max(1, int(config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]  # set at run time


def _with_blas(layers: np.ndarray, n_models: int) -> np.ndarray:
    """`layers` with the GEMM flag set on the layers wider than _blas.SMALL on both sides, when the
    models train one at a time and BLAS runs on several threads (one model, every core: BLAS's
    threads split its products); else `layers` itself (the row kernels, one model per core)."""
    wide = np.minimum(layers[:, FAN_IN], layers[:, FAN_OUT]) > SMALL
    if not wide.any() or min(n_models, threads()) > 1:
        return layers
    load_scipy_blas()  # scipy's BLAS, loaded before its threads are counted
    if blas_threads() < 2:
        return layers
    with_blas = layers.copy()
    with_blas[:, GEMM] = wide
    return with_blas


def train_batch(network: Network, params: np.ndarray, X: np.ndarray, Y: np.ndarray, options: TrainOptions,
                callback: Callback | None = None, orders: np.ndarray | None = None) -> list[Trace]:
    """Train each row of `params` (B, P) (not modified) on (X, Y); one ``Trace`` per row. Models
    run on threads() threads at once. `orders`: the minibatch orders (common.epoch_orders; None:
    drawn from options.seed).

    With a `callback`, the kernel runs from one recorded iteration to the next and
    `callback(b, i, cost, params_b)` follows for each model b still training, in the order of
    i, then b (params_b: a copy of the parameters before the update of iteration i)."""
    reason = supports(network, options)
    layout = _layout(network)
    if reason is not None or isinstance(layout, str):
        raise InitlabError(f"The 'numba' engine does not support this run: {reason}.")
    layers, slopes, mults = layout  # (L, 15), (L,), (L,)
    layers = _with_blas(layers, params.shape[0])
    dtype = network.dtype  # every array the kernel computes with is in it (float64 or float32)
    scales = np.ascontiguousarray(np.stack([network.lr_scale, network.eps_scale]), dtype=dtype)  # (2, P)
    optimizer_name, settings = _optimizer(options.optimizer_spec)
    X = np.ascontiguousarray(X, dtype=dtype)
    Y = np.ascontiguousarray(Y, dtype=dtype)
    m = X.shape[1]
    if orders is None:
        orders = epoch_orders(m, options.batch_size, options.seed, options.iterations)
    orders = np.zeros((0, m), dtype=np.int64) if orders is None else np.ascontiguousarray(orders, dtype=np.int64)
    every, T = options.record_every, options.iterations
    target = options.target_loss
    run_settings = np.zeros(7, dtype=np.int64)
    run_settings[[LOSS, OPTIMIZER, RECORD_EVERY, BATCH_SIZE, BATCHES, CHUNK_WIDTH, TARGET_MODE]] = (
        LOSS_CODES[network.loss.key], OPTIMIZER_CODES[optimizer_name], every,
        m if options.batch_size is None else int(options.batch_size), batches_per_epoch(m, options.batch_size),
        -(-m // -(-m // CHUNK)),  # chunks of equal width
        NO_TARGET if target is None else (ON_TRAIN if options.target_on == "train" else ON_BATCH))
    hyper = np.zeros(5)
    hyper[[LEARNING_RATE, BETA1, BETA2, EPS, TARGET]] = (float(options.learning_rate), settings.get("beta", settings.get("beta1", 0.0)),
                                                         settings.get("beta2", 0.0), settings.get("eps", 0.0),
                                                         0.0 if target is None else float(target))
    B, P = params.shape
    current = np.array(params, dtype=dtype, order="C")  # a copy: the caller's stays as it was
    state = np.zeros((B, 2, P), dtype=dtype)
    candidates = np.zeros((B, P), dtype=dtype)  # each model's update before it is accepted (a non-finite one stays here)
    n_rec = -(-T // every)
    costs = np.full((B, n_rec), np.nan)
    status = np.zeros(B, dtype=np.int64)
    where = np.zeros(B, dtype=np.int64)
    steps = np.zeros(B, dtype=np.int64)
    stop_cost = np.zeros(B)

    def run(b, i0, i1, rec0, buffers):
        s, it, n, c = _train_one(current[b], state[b], X, Y, layers, slopes, mults, run_settings, hyper, scales, orders, i0, i1,
                                 costs[b], rec0, candidates[b], *buffers)
        status[b], where[b], stop_cost[b] = s, it, c
        steps[b] += n

    length = segment_length(network, m)

    def run_range(b, i0, i1, stop):  # in segments, so that Ctrl-C (stop) is seen within ~0.1 s
        buffers = _workspace(layers, P, m, run_settings[CHUNK_WIDTH], dtype)  # this thread's, for this model
        for s0, s1 in segments(i0, i1, length):
            if stop.is_set() or status[b] != 0:
                return
            run(b, s0, s1, 0, buffers)

    _compiled(dtype)
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
        divergence, reached, n_done = None, None, n_rec
        if status[b] == 1:
            divergence = Divergence(int(where[b]), f"the cost is {float(stop_cost[b])}")
        elif status[b] == 2:
            divergence = Divergence(int(where[b]), nonfinite_what(candidates[b]))
        elif status[b] == 3:
            on = "batch" if run_settings[TARGET_MODE] == ON_BATCH and orders.shape[0] > 0 else "train"
            reached = Reached(int(where[b]), float(stop_cost[b]), float(hyper[TARGET]), on)
        if status[b] != 0:
            n_done = int(where[b]) // every + 1  # the costs recorded up to the iteration it stopped at
        iterations = np.arange(n_done, dtype=np.int64) * every
        traces.append(Trace(current[b].copy(), iterations, costs[b, :n_done].copy(), divergence, int(steps[b]), reached))
    return traces




_INTERLEAVE = "-force-vector-interleave"  # LLVM's loop vectorizer: SIMD vectors per step (0: its cost model's choice)
_WARM: set[str] = set()  # the dtypes whose signature of _train_one this process has compiled or loaded


@contextlib.contextmanager
def _one_vector_per_step() -> Iterator[None]:
    """Inside: numba compiles (and nothing else compiles, its global compiler lock is held) with
    LLVM's loop vectorizer taking one SIMD vector per loop step (``-force-vector-interleave=1``);
    after: the cost model's choice again (0, LLVM's default). LLVM's model interleaves the short
    loops over examples by 2–4 vectors, which leaves 16–48 examples of a 304-wide float32 chunk to a
    4- or 8-lane epilogue loop and, in the gradient's sums, a second set of horizontal sums: on the
    notebook's network at 300 examples an iteration takes ~8% less in float32 and ~3% less in
    float64 with one vector per step (bench/README.md, "float32 against float64"); at 3000 examples
    within ±4%. LLVM's options are the process's: this one is set only for the kernel's compile."""
    with global_compiler_lock:
        llvm.set_option("initlab", f"{_INTERLEAVE}=1")
        try:
            yield
        finally:
            llvm.set_option("initlab", f"{_INTERLEAVE}=0")


def _compiled(dtype: str) -> None:
    """Make sure _train_one's signature for `dtype` is compiled (or loaded from the cache) the
    way warm_up does it, before any thread calls it (a thread's first call would compile it with
    the vectorizer's default choices)."""
    if dtype not in _WARM:
        warm_up(dtype)


def warm_up(dtype: str = "float64") -> float:
    """Compile the kernel, or load it from the disk cache, by training a tiny network ([2, 3, 1],
    ReLU, cross-entropy on 3 examples) for two iterations straight through _train_one (this module
    imports nothing above the engines), in `dtype` (one signature per dtype serves every run); the seconds spent."""
    start = time.perf_counter()
    layers = np.array([[2, 3, 0, 6, RELU, 0, 1, -1, -1, -1, PLAIN_INPUT, -1, 0, 0, -1],  # W_1 (3, 2), b_1 (3,), W_2 (1, 3), b_2 (1,)
                       [3, 1, 9, 12, LINEAR, 0, 2, -1, -1, -1, PLAIN_INPUT, -1, 0, 0, -1]], dtype=np.int64)
    params = np.linspace(-0.5, 0.5, 13, dtype=dtype)
    X = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]], dtype=dtype)
    Y = np.array([[0.0, 1.0, 1.0]], dtype=dtype)
    settings = np.zeros(7, dtype=np.int64)
    settings[[LOSS, OPTIMIZER, RECORD_EVERY, BATCH_SIZE, BATCHES, CHUNK_WIDTH, TARGET_MODE]] = (BCE, GD, 1, 3, 1, CHUNK, NO_TARGET)
    hyper = np.zeros(5)
    hyper[LEARNING_RATE] = 0.01
    with _one_vector_per_step():
        _train_one(params, np.zeros((2, 13), dtype=dtype), X, Y, layers, np.zeros(2, dtype=dtype), np.ones(2, dtype=dtype), settings,
                   hyper, np.ones((2, 13), dtype=dtype), np.zeros((0, 3), dtype=np.int64),
                   0, 2, np.zeros(2), 0, np.zeros(13, dtype=dtype), *_workspace(layers, 13, 3, CHUNK, dtype))
    _WARM.add(dtype)
    return time.perf_counter() - start
