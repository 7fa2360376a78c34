"""Constants in an array's own float type, for the compiled engine's dtype-generic kernels.

numba types a literal such as ``0.0`` as float64, and float64 wins over float32 in arithmetic: a
float32 kernel that writes ``t = 0.0; t += a·x`` or ``1.0 / (1.0 + e)`` would compute in float64
(half the SIMD lanes, a conversion per element) and round on every store. ``of_dtype(0.0, A)`` is
0.0 in the element type of the array A (float64 or float32): a constant LLVM folds, the same code
as the literal for float64.

>>> import numpy as np
>>> from numba import njit
>>> @njit
... def half(A):
...     return of_dtype(0.5, A) * A[0]
>>> float(half(np.ones(1, dtype=np.float32))), float(half(np.ones(1)))
(0.5, 0.5)
>>> [str(signature.return_type) for signature in half.nopython_signatures]  # computed in each array's type
['float32', 'float64']
"""
from __future__ import annotations

from typing import Any

from numba.core import types
from numba.extending import intrinsic


@intrinsic
def of_dtype(typingctx: Any, value: Any, array: Any) -> Any:
    """`value` (a number) converted to the element type of `array` (a float array)."""
    if not isinstance(array, types.Array) or not isinstance(array.dtype, types.Float):
        raise TypeError(f"of_dtype: {array} is not an array of floats")
    if not isinstance(value, (types.Float, types.Integer)):
        raise TypeError(f"of_dtype: {value} is not a number")

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return context.cast(builder, args[0], signature.args[0], signature.return_type)

    return array.dtype(value, array), codegen
