"""BLAS's matrix product called from compiled code: ``gemm``, with offsets and leading dimensions,
so that the compiled engine multiplies blocks of its workspace and of the parameter vector in
place (no views, no copies).

numba's own ``np.dot`` copies any array that is not contiguous and takes no offsets; this calls the
same C helper it uses (``numba_xxgemm``, in numba's helper library, which every numba process
links: it calls scipy's BLAS, ``scipy.linalg.cython_blas.dgemm``, and imports it under the GIL the
first time), with column-major (Fortran) conventions:

    C[c0 :] = alpha·op(A)·op(B) + beta·C,   op(X) = X or Xᵀ,  op(A): (M, K), op(B): (K, N), C: (M, N)

X[x0 + i + j·ldx] being element (i, j) of a column-major X. A row-major (r, c) block with row
stride s is the column-major (c, r) matrix with leading dimension s: the compiled engine's
products are written that way (numba_engine: _product_*). beta = 0 does not read C (BLAS's rule:
a nan or inf left there is not propagated).

>>> import numpy as np
>>> from numba import njit
>>> @njit
... def rows_times(W, A, out):  # out (2, 3) = W (2, 2) · A (2, 3), all row-major
...     return gemm(0, 0, 3, 2, 2, 1.0, A, 0, 3, W, 0, 2, 0.0, out, 0, 3)
>>> W, A, out = np.array([[1.0, 2.0], [3.0, 4.0]]), np.arange(6.0).reshape(2, 3), np.zeros((2, 3))
>>> rows_times(W, A, out)
0
>>> bool((out == W @ A).all())
True
>>> out32 = np.zeros((2, 3), dtype=np.float32)
>>> rows_times(W.astype(np.float32), A.astype(np.float32), out32), bool((out32 == W @ A).all())  # sgemm
(0, True)
"""
from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_CHAR = ir.IntType(8)
_VOID_P = ir.IntType(8).as_pointer()
_INTP = ir.IntType(64)


def load_scipy_blas() -> None:
    """Import scipy's BLAS now (numba's helper would import it at the first product, after any
    thread limit set by threadpoolctl had been applied to the libraries then loaded)."""
    import scipy.linalg.cython_blas  # noqa: F401  # (scipy comes with scikit-learn)


_KINDS = {types.float64: "d", types.float32: "s"}  # BLAS's letter for each element type (dgemm, sgemm)


def _check(args: tuple[Any, ...]) -> None:
    """The argument types gemm accepts: integers, floats, and arrays of one float type (float64 or
    float32) where they belong."""
    arrays, floats = (6, 9, 13), (5, 12)  # a, b, c; alpha, beta
    for k, ty in enumerate(args):
        if k in arrays:
            ok = isinstance(ty, types.Array) and ty.dtype in _KINDS and ty.dtype == args[6].dtype
        else:
            ok = isinstance(ty, types.Float) if k in floats else isinstance(ty, types.Integer)
        if not ok:
            raise TypeError(f"gemm: argument {k} has type {ty}")


@intrinsic
def gemm(typingctx: Any, trans_a: Any, trans_b: Any, m: Any, n: Any, k: Any, alpha: Any, a: Any, a0: Any, lda: Any,
         b: Any, b0: Any, ldb: Any, beta: Any, c: Any, c0: Any, ldc: Any) -> Any:
    """C = alpha·op(A)·op(B) + beta·C (column-major; op(X) = Xᵀ when trans_x ≠ 0) on float64 arrays
    a, b, c (dgemm), or float32 ones (sgemm), from element offsets a0, b0, c0; returns BLAS's status (0)."""
    args = (trans_a, trans_b, m, n, k, alpha, a, a0, lda, b, b0, ldb, beta, c, c0, ldc)
    _check(args)
    signature = types.int32(*args)
    element = a.dtype  # alpha and beta are passed in it too

    def codegen(context: Any, builder: Any, sig: Any, values: Any) -> Any:
        from numba.np.linalg import ensure_blas

        ensure_blas()
        tys = sig.args

        def integer(i: int) -> Any:
            return context.cast(builder, values[i], tys[i], types.intp)

        def pointer(i: int, start: int) -> Any:
            data = context.make_array(tys[i])(context, builder, value=values[i]).data
            return builder.bitcast(builder.gep(data, [integer(start)]), _VOID_P)

        def trans(i: int) -> Any:
            flag = builder.icmp_signed("!=", integer(i), ir.Constant(_INTP, 0))
            return builder.select(flag, ir.Constant(_CHAR, ord("t")), ir.Constant(_CHAR, ord("n")))

        def scalar(i: int) -> Any:
            value = context.cast(builder, values[i], tys[i], element)
            return builder.bitcast(cgutils.alloca_once_value(builder, value), _VOID_P)

        fnty = ir.FunctionType(ir.IntType(32), [_CHAR, _CHAR, _CHAR, _INTP, _INTP, _INTP, _VOID_P, _VOID_P, _INTP,
                                                _VOID_P, _INTP, _VOID_P, _VOID_P, _INTP])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        return builder.call(fn, (ir.Constant(_CHAR, ord(_KINDS[element])), trans(0), trans(1), integer(2), integer(3), integer(4),
                                 scalar(5), pointer(6, 7), integer(8), pointer(9, 10), integer(11), scalar(12),
                                 pointer(13, 14), integer(15)))

    return signature, codegen
