"""The exact engine: the course notebook's arithmetic, compiled, with the same digits on every CPU.

The notebook's numbers come from numpy on OpenBLAS's Haswell kernels and glibc's ``exp``/``log``.
Its random (×10) run is chaotic: one changed last bit in the first weights moves the printed costs
by 1% (measured). numpy on another CPU picks other BLAS kernels (SkylakeX on AVX-512 machines,
Sandybridge, …) and, on AVX-512, its own ``exp``: each sums in another order and prints other
digits (0.07%–0.5% off from iteration 1000 on, measured). So exactness cannot come from numpy.

This engine fixes the order of every operation in code: each sum is written out term by term with
explicit fused multiply-adds (``exact_math.fma``: one rounding on every CPU) and no fastmath, so the compiler may vectorize only across
independent outputs, never reorder a sum. The orders are those of OpenBLAS's Haswell kernels for
the notebook's products (found by cancellation probes and checked bit for bit against
``OPENBLAS_CORETYPE=Haswell``, ``tests/test_exact_engine.py``):

- ``C = A @ B`` (gemm): ``C[i, j] = Σ_k A[i, k]·B[k, j]`` as one FMA chain from 0 in k order, over
  k blocks (OpenBLAS's level-3 split, Q = 256), each block's sum added to the previous ones. When
  A has an odd number of rows, its last row against the first N − N mod 4 columns (the 4×1 tile)
  keeps 4 partial sums (k mod 4, 8 terms a step), then the k-tail in the first, and adds them as
  (s0 + s1) + (s2 + s3).
- ``w @ B`` with one row w (gemv_n): per output, 4 terms at a time,
  ``acc + (fma(w2, b2, w0·b0) + fma(w3, b3, w1·b1))``, then the remaining terms one by one; the
  last N mod 4 outputs as one multiply-then-add chain (checked for N ≥ 4; for N < 4 OpenBLAS
  takes another path, not reproduced).
- ``d @ A.T`` with one row d (gemv_t): per output row of A, 4 partial sums (e mod 4; FMA for the
  rows in whole groups of 4, multiply-then-add for the rest), added as (s0 + s2) + (s1 + s3), the
  tail with FMA.
- ``np.sum(…, axis=1)``: numpy's pairwise summation (8 accumulators, blocks of 128).
- ``exp``: glibc's algorithm with explicit FMAs (``exact_math``): the bits of the C library the
  notebook ran on, on any CPU and C library. The printed cost's ``log`` is the C library's (it
  moves no weight: at most a last printed digit elsewhere).

Everything else is elementwise with one rounding per operation, as the course writes it:
``a = 1/(1 + e^(−z))``, ``dz_L = 1/m·(a − y)``, ``dz_l = da_l·(a_l > 0)``, ``p ← p − α·g``.

Scope: ReLU hidden layers, one sigmoid output with binary cross-entropy, full-batch gradient
descent — the notebook's family, at any layer sizes. Other runs go to the other engines.

The recorded cost is the course's ``compute_loss`` (``−log(a)·y − log(1 − a)·(1 − y)``, NaN
entries dropped, summed pairwise, times 1/m): the digits the notebook prints. Where an output
rounds to exactly 0 or 1 and that formula gives inf (the random run's iteration 0, printed ``inf``
by the notebook), the true cost from the logits is recorded instead, so a saturated start is not
mistaken for a divergence.

Speed: one 15000-iteration run of the notebook's network in ~0.4 s, about 2.5× the notebook's numpy
loop (bench/README.md); the sums cannot be vectorized across terms, only across outputs. Models
train on threads (``nogil``). Compiled once per machine and cached like the numba engine.
"""
from __future__ import annotations

import math

import numpy as np
from numba import config, njit

from .._validation import InitlabError
from .._spec import Spec
from ..network import Network
from ..optim import build_optimizer
from ..options import TrainOptions
from .common import Callback, Divergence, Trace, each, nonfinite_what, segment_length, segments, warm_up_engine
from .exact_math import exp as _exp
from .exact_math import fma as _fma
from .exact_math import pairwise_sum

NAME = "exact"

_FLAGS = dict(cache=True, nogil=True, error_model="numpy")
_Q = 256  # OpenBLAS Haswell's DGEMM_Q: the k-block of a product


# --- sums in a fixed order -------------------------------------------------------------------
@njit(**_FLAGS)
def _k_block_end(K, ls):
    """End of the k block that starts at ls: OpenBLAS's level-3 split of k (blocks of Q, or two
    halves rounded up to 4 below 2Q)."""
    n = K - ls
    if n >= 2 * _Q:
        n = _Q
    elif n > _Q:
        n = ((n // 2 + 3) // 4) * 4
    return ls + n


@njit(**_FLAGS)
def _gemm(A, B, C, acc):
    """C (M, N) = A (M, K) @ B (K, N) in OpenBLAS-Haswell order; B and C C-contiguous, A may be a
    transposed view; `acc` (4, ≥ N) is scratch. Each output's sum runs in k order; the loops over
    j (independent outputs) are innermost and start at 0, so they vectorize without reordering
    any sum (a loop from a variable start keeps numba's negative-index check and stays scalar)."""
    M, K = A.shape
    N = B.shape[1]
    s0, s1, s2, s3 = acc[0], acc[1], acc[2], acc[3]
    for i in range(M):
        n4 = N - N % 4 if (M % 2 == 1 and i == M - 1) else 0  # columns of the 4×1 tile
        Ci = C[i]
        s = 0
        while s < K:
            e = _k_block_end(K, s)
            for j in range(N):
                s0[j] = 0.0
            if n4 == 0:
                for k in range(s, e):  # one FMA chain per output, from 0
                    a, Bk = A[i, k], B[k]
                    for j in range(N):
                        s0[j] = _fma(a, Bk[j], s0[j])
            else:
                for j in range(n4, N):  # at most 3 columns outside the tile
                    for k in range(s, e):
                        s0[j] = _fma(A[i, k], B[k, j], s0[j])
                _tile4(A, B, i, s, e, n4, s0, s1, s2, s3)
            if s == 0:
                for j in range(N):
                    Ci[j] = s0[j]
            else:
                for j in range(N):
                    Ci[j] = s0[j] + Ci[j]
            s = e


@njit(**_FLAGS)
def _gemm_nt(A, Bt, C):
    """C (M, N) = A (M, K) @ Btᵀ with Bt (N, K): the same order as ``_gemm`` (C[i, j] the same
    bits), for products whose sums are long and whose outputs are few (the weight gradients):
    rows of A and Bt are contiguous in k, and the chains of 4 outputs run side by side."""
    M, K = A.shape
    N = Bt.shape[0]
    odd_row = M - 1 if M % 2 == 1 else -1
    n4 = N - N % 4  # the 4×1 tile: columns :n4 of the odd last row
    s = 0
    while s < K:
        e = _k_block_end(K, s)
        for j in range(n4 if odd_row >= 0 else 0):
            r = _dot_lanes(A[odd_row], Bt[j], s, e)
            C[odd_row, j] = r if s == 0 else r + C[odd_row, j]
        # every other output, in row-major order, 4 chains at a time, then the rest one by one
        first = n4 if odd_row >= 0 else 0
        n_plain = M * N - (n4 if odd_row >= 0 else 0)
        g = 0
        while g + 4 <= n_plain:
            i0, j0 = _nth_plain(g, N, odd_row, first)
            i1, j1 = _nth_plain(g + 1, N, odd_row, first)
            i2, j2 = _nth_plain(g + 2, N, odd_row, first)
            i3, j3 = _nth_plain(g + 3, N, odd_row, first)
            a0, a1, a2, a3 = A[i0], A[i1], A[i2], A[i3]
            b0, b1, b2, b3 = Bt[j0], Bt[j1], Bt[j2], Bt[j3]
            c0 = c1 = c2 = c3 = 0.0
            for k in range(s, e):
                c0 = _fma(a0[k], b0[k], c0)
                c1 = _fma(a1[k], b1[k], c1)
                c2 = _fma(a2[k], b2[k], c2)
                c3 = _fma(a3[k], b3[k], c3)
            C[i0, j0] = c0 if s == 0 else c0 + C[i0, j0]
            C[i1, j1] = c1 if s == 0 else c1 + C[i1, j1]
            C[i2, j2] = c2 if s == 0 else c2 + C[i2, j2]
            C[i3, j3] = c3 if s == 0 else c3 + C[i3, j3]
            g += 4
        while g < n_plain:
            i0, j0 = _nth_plain(g, N, odd_row, first)
            a0, b0 = A[i0], Bt[j0]
            c0 = 0.0
            for k in range(s, e):
                c0 = _fma(a0[k], b0[k], c0)
            C[i0, j0] = c0 if s == 0 else c0 + C[i0, j0]
            g += 1
        s = e


@njit(**_FLAGS)
def _nth_plain(q, N, odd_row, first):
    """(i, j) of the q-th output outside the 4×1 tile, in row-major order."""
    if odd_row >= 0 and q >= odd_row * N:
        return odd_row, first + (q - odd_row * N)
    return q // N, q % N


@njit(**_FLAGS)
def _dot_lanes(a, b, s, e):
    """The 4×1 tile's sum of a[k]·b[k] over [s, e): 4 partial sums over k mod 4 (8 terms a step),
    the tail into the first, then (s0 + s1) + (s2 + s3)."""
    s0 = s1 = s2 = s3 = 0.0
    n8 = s + (e - s) // 8 * 8
    for k in range(s, n8, 4):
        s0 = _fma(a[k], b[k], s0)
        s1 = _fma(a[k + 1], b[k + 1], s1)
        s2 = _fma(a[k + 2], b[k + 2], s2)
        s3 = _fma(a[k + 3], b[k + 3], s3)
    for k in range(n8, e):
        s0 = _fma(a[k], b[k], s0)
    return (s0 + s1) + (s2 + s3)


@njit(**_FLAGS)
def _tile4(A, B, i, s, e, n4, s0, s1, s2, s3):
    """The 4×1 tile of row i over k in [s, e), columns :n4: 4 partial sums over k mod 4, 8 terms a
    step, the tail into s0, then s0 ← (s0 + s1) + (s2 + s3)."""
    for j in range(n4):
        s1[j] = 0.0
        s2[j] = 0.0
        s3[j] = 0.0
    n8 = s + (e - s) // 8 * 8
    for k in range(s, n8, 4):
        a0, a1, a2, a3 = A[i, k], A[i, k + 1], A[i, k + 2], A[i, k + 3]
        B0, B1, B2, B3 = B[k], B[k + 1], B[k + 2], B[k + 3]
        for j in range(n4):
            s0[j] = _fma(a0, B0[j], s0[j])
            s1[j] = _fma(a1, B1[j], s1[j])
            s2[j] = _fma(a2, B2[j], s2[j])
            s3[j] = _fma(a3, B3[j], s3[j])
    for k in range(n8, e):
        a, Bk = A[i, k], B[k]
        for j in range(n4):
            s0[j] = _fma(a, Bk[j], s0[j])
    for j in range(n4):
        s0[j] = (s0[j] + s1[j]) + (s2[j] + s3[j])


@njit(**_FLAGS)
def _gemv_n(w, B, out):
    """out (N,) = w (K,) @ B (K, N), B C-contiguous: per output, 4 terms at a time as two FMA
    pairs added to the running sum, then the remaining terms one by one; the last N mod 4 outputs
    (when N ≥ 4) as one multiply-then-add chain."""
    K, N = B.shape
    n4 = N - N % 4 if N >= 4 else N
    for j in range(N):
        out[j] = 0.0
    k = 0
    while k + 4 <= K:
        w0, w1, w2, w3 = w[k], w[k + 1], w[k + 2], w[k + 3]
        B0, B1, B2, B3 = B[k], B[k + 1], B[k + 2], B[k + 3]
        for j in range(n4):
            out[j] = out[j] + (_fma(w2, B2[j], w0 * B0[j]) + _fma(w3, B3[j], w1 * B1[j]))
        k += 4
    while k < K:
        wk, Bk = w[k], B[k]
        for j in range(n4):
            out[j] = out[j] + wk * Bk[j]
        k += 1
    for j in range(n4, N):
        acc = 0.0
        for k in range(K):
            acc = acc + w[k] * B[k, j]
        out[j] = acc


@njit(**_FLAGS)
def _gemv_t(d, A, out):
    """out (M,) = A (M, K) @ d (K,): 4 partial sums over k mod 4 (FMA for rows in whole groups
    of 4, multiply-then-add for the rest), added as (s0 + s2) + (s1 + s3), then the tail."""
    M, K = A.shape
    n = K // 4 * 4
    for i in range(M):
        fused = i < M - M % 4
        s0 = s1 = s2 = s3 = 0.0
        for k in range(0, n, 4):
            if fused:
                s0 = _fma(d[k], A[i, k], s0)
                s1 = _fma(d[k + 1], A[i, k + 1], s1)
                s2 = _fma(d[k + 2], A[i, k + 2], s2)
                s3 = _fma(d[k + 3], A[i, k + 3], s3)
            else:
                s0 = s0 + d[k] * A[i, k]
                s1 = s1 + d[k + 1] * A[i, k + 1]
                s2 = s2 + d[k + 2] * A[i, k + 2]
                s3 = s3 + d[k + 3] * A[i, k + 3]
        acc = (s0 + s2) + (s1 + s3)
        for k in range(n, K):
            acc = _fma(d[k], A[i, k], acc)
        out[i] = acc


# --- one iteration of the course's loop ------------------------------------------------------
# Buffers (per model): Zs, As, D (L, width, m): layer l's Z_l, A_l, dCost/dZ_l in rows :n_l of
# Zs[l], As[l], D[l] (C-contiguous views); acc (4, max(m, width)): partial sums.
@njit(**_FLAGS)
def _forward(p, sizes, w_at, b_at, X, Zs, As, acc):
    """Z_l = W_l @ A_{l−1} + b_l; A_l = relu(Z_l), and the sigmoid on the last layer."""
    L = sizes.size - 1
    m = X.shape[1]
    for l in range(L):
        n_out, n_in = sizes[l + 1], sizes[l]
        W = p[w_at[l] : w_at[l] + n_out * n_in].reshape((n_out, n_in))
        b = p[b_at[l] : b_at[l] + n_out]
        A_prev = X if l == 0 else As[l - 1][:n_in]
        Z = Zs[l][:n_out]  # (n_out, m)
        if n_out == 1:
            _gemv_n(W[0], A_prev, Z[0])
        else:
            _gemm(W, A_prev, Z, acc)
        A = As[l][:n_out]
        for o in range(n_out):
            bo = b[o]
            for e in range(m):
                z = Z[o, e] + bo
                Z[o, e] = z
                if l < L - 1:
                    A[o, e] = z if (z > 0.0 or z != z) else 0.0  # np.maximum(0, z), nan kept
                else:
                    A[o, e] = 1.0 / (1.0 + _exp(-z))


@njit(**_FLAGS)
def _course_cost(a, z, y, buf, nodes, vals):
    """The course's compute_loss of outputs a (m,): its nansum drops the 0·log(0) terms of outputs
    rounded to exactly 0 or 1. Where it is inf (such an output on the wrong side), the cost from the
    logits z, which stays finite; nan when an output is nan (never dropped: a divergence)."""
    m = a.size
    for e in range(m):
        if a[e] != a[e]:
            return math.nan
        with_log = -math.log(a[e]) * y[e] + -math.log(1.0 - a[e]) * (1.0 - y[e])
        buf[e] = 0.0 if with_log != with_log else with_log  # nansum
    cost = 1.0 / m * pairwise_sum(buf, m - m, m, nodes, vals)
    if math.isinf(cost) and cost > 0.0:
        for e in range(m):
            buf[e] = max(z[e], 0.0) - z[e] * y[e] + math.log1p(math.exp(-abs(z[e])))
        cost = pairwise_sum(buf, m - m, m, nodes, vals) / m
    return cost


@njit(**_FLAGS)
def _backward(p, sizes, w_at, b_at, X, Y, As, D, G, acc, nodes, vals):
    """G = the gradient, the course's backward_propagation in the flat layout."""
    L = sizes.size - 1
    m = X.shape[1]
    n_L = sizes[L]
    scale = 1.0 / m
    Dl = D[L - 1][:n_L]
    for o in range(n_L):
        for e in range(m):
            Dl[o, e] = scale * (As[L - 1][o, e] - Y[o, e])
    for l in range(L - 1, -1, -1):
        n_out, n_in = sizes[l + 1], sizes[l]
        Dl = D[l][:n_out]  # (n_out, m)
        A_prev = X if l == 0 else As[l - 1][:n_in]  # (n_in, m)
        gW = G[w_at[l] : w_at[l] + n_out * n_in].reshape((n_out, n_in))
        if n_out == 1:
            _gemv_t(Dl[0], A_prev, gW[0])
        else:
            _gemm_nt(Dl, A_prev, gW)
        for o in range(n_out):
            G[b_at[l] + o] = pairwise_sum(Dl[o], m - m, m, nodes, vals)
        if l == 0:
            break
        W = p[w_at[l] : w_at[l] + n_out * n_in].reshape((n_out, n_in))
        D_prev = D[l - 1][:n_in]
        _gemm(W.T, Dl, D_prev, acc)
        A_hidden = As[l - 1]
        for o in range(n_in):
            for e in range(m):
                D_prev[o, e] = D_prev[o, e] * (1.0 if A_hidden[o, e] > 0.0 else 0.0)


@njit(**_FLAGS)
def _descend(p, sizes, w_at, b_at, X, Y, lr, i0, i1, every, costs, rec0, G, Zs, As, D, acc, nodes, vals, trial):
    """Iterations i0 … i1 − 1 on p (P,) in place. Returns (status, iteration, updates, cost):
    status 0 ran through, 1 a recorded cost is not finite, 2 an update made p non-finite."""
    L = sizes.size - 1
    rec = rec0
    for i in range(i0, i1):
        _forward(p, sizes, w_at, b_at, X, Zs, As, acc)
        if i % every == 0:
            cost = _course_cost(As[L - 1][0], Zs[L - 1][0], Y[0], acc[0], nodes, vals)
            costs[rec] = cost
            rec += 1
            if not math.isfinite(cost):
                return 1, i, i - i0, cost
        _backward(p, sizes, w_at, b_at, X, Y, As, D, G, acc, nodes, vals)
        finite = True
        for k in range(p.size):
            trial[k] = p[k] - lr * G[k]
            finite = finite and math.isfinite(trial[k])
        if not finite:
            return 2, i, i - i0, 0.0
        p[:] = trial
    return 0, i1, i1 - i0, 0.0


# --- the engine interface --------------------------------------------------------------------
KERNEL = _descend  # what engines.ready looks up in numba's cache


def supports(network: Network, options: TrainOptions) -> str | None:
    """None when this engine can train `network` with `options`, else why not."""
    if network.dtype != "float64":
        return "it computes in float64 only (the course's digits)"
    if network.parametrization is not None:
        return "it trains the standard parametrization only (the course's)"
    if network.residual is not None:
        return "it trains plain networks only (the course's), no residual blocks"
    if any(spec != Spec("relu") for spec in network.activation):
        return "its hidden layers must all be ReLU (the course's network)"
    if network.loss != Spec("binary_cross_entropy") or network.sizes[-1] != 1:
        return "it needs one sigmoid output with binary cross-entropy (the course's loss)"
    if build_optimizer(options.optimizer_spec).name != "gd" or options.batch_size is not None:
        return "it trains by full-batch gradient descent only (the course's)"
    if not all(network.bias):
        return "every layer must have a bias (the course's network)"
    if options.target_loss is not None:
        return "it runs every iteration (no target loss)"
    return None


class _Model:
    """One model's buffers and state."""

    def __init__(self, network: Network, params: np.ndarray, m: int, n_rec: int) -> None:
        width = max(network.sizes)
        L = network.n_layers
        self.p = np.array(params, dtype=np.float64)
        self.G = np.empty_like(self.p)
        self.trial = np.empty_like(self.p)
        self.Zs, self.As, self.D = (np.empty((L, width, m)) for _ in range(3))  # (L, max n_l, m)
        self.acc = np.empty((4, max(m, width)))  # partial sums, or the terms of a cost
        self.nodes, self.vals = np.empty((192, 3), dtype=np.int64), np.empty(64)  # pairwise_sum's scratch
        self.costs = np.full(n_rec, np.nan)
        self.steps, self.divergence = 0, None


def train_batch(network: Network, params: np.ndarray, X: np.ndarray, Y: np.ndarray, options: TrainOptions,
                callback: Callback | None = None, orders: np.ndarray | None = None) -> list[Trace]:
    """Train each row of `params` (B, P) (not modified) on (X, Y); one ``Trace`` per row, models
    on threads. `callback(b, i, cost, params_b)` at recorded iterations, in the order of i, then b.
    `orders` is None: this engine trains full-batch only."""
    reason = supports(network, options)
    if reason is not None:
        raise InitlabError(f"The 'exact' engine does not support this run: {reason}.")
    X = np.ascontiguousarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    sizes = np.array(network.sizes, dtype=np.int64)
    w_at = np.array([s.w_start for s in network.slots], dtype=np.int64)
    b_at = np.array([s.b_start for s in network.slots], dtype=np.int64)
    every, T, lr = options.record_every, options.iterations, float(options.learning_rate)
    n_rec = -(-T // every)
    models = [_Model(network, row, X.shape[1], n_rec) for row in params]

    length = segment_length(network, X.shape[1])

    def advance(b, i0, i1, stop):  # in segments, so that Ctrl-C (stop) is seen within ~0.1 s
        for s0, s1 in segments(i0, i1, length):
            if stop.is_set() or models[b].divergence is not None:
                return
            _advance(b, s0, s1)

    def _advance(b, i0, i1):
        model = models[b]
        status, i, n, cost = _descend(model.p, sizes, w_at, b_at, X, Y, lr, i0, i1, every, model.costs,
                                      -(-i0 // every), model.G, model.Zs, model.As, model.D, model.acc, model.nodes,
                                      model.vals, model.trial)
        model.steps += n
        if status == 1:
            model.divergence = Divergence(int(i), f"the cost is {cost}")
        elif status == 2:
            model.divergence = Divergence(int(i), nonfinite_what(model.trial))

    live = list(range(len(models)))
    starts = range(0, T, every) if callback is not None else [0]
    for i0 in starts:
        i1 = T if callback is None else min(i0 + every, T)
        before = {b: models[b].p.copy() for b in live} if callback is not None else {}
        each(live, lambda b, stop: advance(b, i0, i1, stop), max(1, int(config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]  # set at run time
        if callback is not None:
            for b in live:
                callback(b, i0, float(models[b].costs[i0 // every]), before[b])
        live = [b for b in live if models[b].divergence is None]
    return [_trace(model, every, T) for model in models]


def _trace(model, every, T):
    """The run as an engine returns it: the costs recorded up to the last iteration it reached
    (where it diverged, a nan or inf cost included)."""
    last = model.divergence.iteration if model.divergence is not None else T - 1
    recorded = last // every + 1 if T > 0 else 0
    iterations = np.arange(recorded, dtype=np.int64) * every
    return Trace(model.p, iterations, model.costs[:recorded].copy(), model.divergence, model.steps)


def warm_up() -> float:
    """Compile the kernels, or load them from the disk cache, on a tiny problem; the seconds spent."""
    return warm_up_engine(train_batch)
