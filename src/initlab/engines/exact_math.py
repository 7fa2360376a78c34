"""Floating-point primitives with the same bits on every CPU: ``fma``, ``exp`` and ``pairwise_sum``.

``fma(a, b, c)`` is ``a·b + c`` rounded once: LLVM's ``llvm.fma``, an FMA instruction where the
CPU has one and the C library's correctly rounded ``fma`` where it has not (numba's
``NUMBA_CPU_NAME=generic``); both give the same bits.

``exp(x)`` gives the bits of the C library's ``exp`` that the course notebook ran on (glibc ≥ 2.28
on an x86-64 CPU with FMA, as numpy calls it without AVX-512), computed here with explicit FMAs so
that it does not depend on the CPU, the C library or its version: glibc's variant for CPUs without
FMA, other C libraries and numpy's AVX-512 ``exp`` each round some results differently, and the
notebook's random run is chaotic enough for one changed bit to show. The algorithm is the one
glibc uses (from Arm's optimized-routines, Szabolcs Nagy): with N = 128,

    k = round(x·N/ln 2),  r = x − k·ln2/N  (ln2/N in two parts),
    e^x = 2^(k/N) · e^r ≈ s·(1 + t_i + r + r²(C2 + r·C3) + r⁴(C4 + r·C5)),  i = k mod N,

where s = 2^(⌊k/N⌋) · H_i, H_i the double nearest 2^(i/N) and t_i = (2^(i/N) − H_i)/H_i rounded
(the table below is computed from those definitions), and the same rounding steps; results
below 2^−1022 are rounded once, as a subnormal. It matches glibc's FMA ``exp`` on 5 000 000
arguments spread over its whole range (tests/test_exact_engine.py re-checks a sample).

>>> from math import exp as libm_exp
>>> exp(1.0) == libm_exp(1.0), exp(-745.2), exp(709.8)
(True, 0.0, inf)
"""
from __future__ import annotations

import struct
from decimal import Decimal, localcontext

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_FLAGS = dict(cache=True, nogil=True, error_model="numpy")

N = 128  # 2^(i/N) table entries
_INV_LN2_N = float.fromhex("0x1.71547652b82fep0") * N
_NEG_LN2_HI_N = -float.fromhex("0x1.62e42fefa0000p-8")  # ln2/N in two parts: k·hi is exact
_NEG_LN2_LO_N = -float.fromhex("0x1.cf79abc9e3b3ap-47")
_SHIFT = float.fromhex("0x1.8p52")  # (t + SHIFT) − SHIFT rounds t to an integer
_C2, _C3, _C4, _C5 = (float.fromhex(h) for h in (
    "0x1.ffffffffffdbdp-2", "0x1.555555555543cp-3", "0x1.55555cf172b91p-5", "0x1.1111167a4d017p-7"))
_2P1009 = 2.0**1009
_2M1022 = 2.0**-1022


def _bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def _table():
    """(2N,) uint64: per i, the bits of t_i, then those of H_i less i·2^45 (k·2^45 adds them back
    with the exponent ⌊k/N⌋)."""
    out = np.empty(2 * N, dtype=np.uint64)
    with localcontext() as ctx:
        ctx.prec = 60
        ln2 = Decimal(2).ln()
        for i in range(N):
            exact = (ln2 * i / N).exp()  # 2^(i/N)
            nearest = float(exact)  # correctly rounded
            out[2 * i] = _bits(float((exact - Decimal(nearest)) / Decimal(nearest)))
            out[2 * i + 1] = (_bits(nearest) - (i << 45)) % 2**64
    return out


_TABLE = _table()


@intrinsic
def fma(typingctx, a, b, c):
    """a·b + c with one rounding (llvm.fma: the FMA instruction, or libm's correctly rounded fma)."""

    def codegen(context, builder, signature, args):
        d = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [d], ir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)

    return types.float64(types.float64, types.float64, types.float64), codegen


@intrinsic
def _as_double(typingctx, u):
    """The float64 whose bits are the uint64 u."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.uint64), codegen


@intrinsic
def _as_bits(typingctx, x):
    """The bits of the float64 x, as a uint64."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.uint64(types.float64), codegen


@njit(**_FLAGS)
def exp(x):
    """e^x with glibc's bits (see the module's docstring)."""
    ux = _as_bits(x)
    abstop = np.int64((ux >> np.uint64(52)) & np.uint64(0x7FF))  # the biased exponent of |x|
    if abstop < 0x3C9 or abstop >= 0x408:  # |x| < 2^−54, |x| ≥ 512, inf or nan
        if abstop < 0x3C9:
            return 1.0 + x
        if abstop >= 0x409:  # |x| ≥ 1024
            if x == -np.inf:
                return 0.0
            if abstop >= 0x7FF:
                return 1.0 + x  # inf, nan
            return 0.0 if x < 0.0 else np.inf
        abstop = 0  # 512 ≤ |x| < 1024: the scale may leave the normal range
    kd = _INV_LN2_N * x + _SHIFT
    ki = _as_bits(kd)
    kd = kd - _SHIFT
    r = fma(kd, _NEG_LN2_LO_N, fma(kd, _NEG_LN2_HI_N, x))  # x − k·ln2/N
    i2 = np.int64(2 * (ki % np.uint64(N)))
    tail = _as_double(_TABLE[i2])
    sbits = _TABLE[i2 + 1] + (ki << np.uint64(45))
    r2 = r * r
    tmp = fma(r2 * r2, fma(r, _C5, _C4), fma(r2, fma(r, _C3, _C2), tail + r))
    if abstop == 0:
        return _exp_outside(tmp, sbits, ki)
    scale = _as_double(sbits)
    return fma(scale, tmp, scale)


@njit(**_FLAGS)
def _exp_outside(tmp, sbits, ki):
    """s·(1 + tmp) when s = 2^(k/N) is out of the normal range (512 ≤ |x| < 1024): scaled into it
    and back; a subnormal result is rounded once (hi + lo), as glibc does."""
    if (ki & np.uint64(0x80000000)) == 0:  # k > 0: the exponent may have overflowed by ≤ 460
        scale = _as_double(sbits - (np.uint64(1009) << np.uint64(52)))
        return _2P1009 * fma(scale, tmp, scale)
    scale = _as_double(sbits + (np.uint64(1022) << np.uint64(52)))
    y = scale + scale * tmp
    if y < 1.0:
        lo = scale - y + scale * tmp
        hi = 1.0 + y
        lo = 1.0 - hi + y + lo
        y = (hi + lo) - 1.0
        if y == 0.0:
            y = 0.0  # +0, not −0
    return _2M1022 * y


@njit(**_FLAGS)
def pairwise_sum(a, lo0, n0, nodes, vals):
    """numpy's pairwise sum of a[lo0 : lo0 + n0] (the same bits as ``np.sum`` of a contiguous
    float64 array): blocks of at most 128 summed with eight interleaved partial sums, longer ones
    split at a multiple of 8 and the halves added. Iterative (a recursive jitted function costs
    seconds of compile time): `nodes` (192, 3) int64 and `vals` (64,) float64 are scratch.

    >>> import numpy as np
    >>> a = np.random.default_rng(0).normal(size=1000)
    >>> bool(pairwise_sum(a, 0, 1000, np.empty((192, 3), dtype=np.int64), np.empty(64)) == np.sum(a))
    True
    """
    top = 1
    nodes[0, 0] = lo0
    nodes[0, 1] = n0
    nodes[0, 2] = 0
    depth = 0
    while top > 0:
        top -= 1
        lo = nodes[top, 0]
        n = nodes[top, 1]
        if n > 128 and nodes[top, 2] == 0:  # split at a multiple of 8: left, right, then add
            half = n // 2
            half -= half % 8
            nodes[top, 2] = 1
            nodes[top + 1, 0] = lo + half
            nodes[top + 1, 1] = n - half
            nodes[top + 1, 2] = 0
            nodes[top + 2, 0] = lo
            nodes[top + 2, 1] = half
            nodes[top + 2, 2] = 0
            top += 3
        elif n > 128:
            depth -= 1
            vals[depth - 1] = vals[depth - 1] + vals[depth]
        elif n < 8:
            res = 0.0
            for i in range(lo, lo + n):
                res += a[i]
            vals[depth] = res
            depth += 1
        else:  # ≤ 128: eight interleaved partial sums
            r0 = a[lo]
            r1 = a[lo + 1]
            r2 = a[lo + 2]
            r3 = a[lo + 3]
            r4 = a[lo + 4]
            r5 = a[lo + 5]
            r6 = a[lo + 6]
            r7 = a[lo + 7]
            i = 8
            while i < n - n % 8:
                r0 += a[lo + i]
                r1 += a[lo + i + 1]
                r2 += a[lo + i + 2]
                r3 += a[lo + i + 3]
                r4 += a[lo + i + 4]
                r5 += a[lo + i + 5]
                r6 += a[lo + i + 6]
                r7 += a[lo + i + 7]
                i += 8
            res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while i < n:
                res += a[lo + i]
                i += 1
            vals[depth] = res
            depth += 1
    return vals[0]
