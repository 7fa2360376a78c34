"""exact_math.exp: glibc's exp bit for bit, without depending on the CPU or the C library."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from numba import njit

from initlab.engines import exact_math


@njit
def _mismatches(xs):
    bad = 0
    for x in xs:
        a, b = exact_math.exp(x), math.exp(x)  # numba's math.exp is the C library's
        if a != b and not (a != a and b != b):
            bad += 1
    return bad


def _arguments(n=200_000):
    rng = np.random.default_rng(7)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -1e-300, 5e-324, 2.0**-54, -(2.0**-54), 709.78, 709.79,
               -708.39, -708.4, -745.13, -745.14, -745.2, 511.999, 512.0, -512.0, 1023.0, 1024.0, -1024.0, 1e308]
    return np.concatenate([rng.normal(0, 3, n), rng.uniform(-745.2, 709.8, n), rng.uniform(-745.2, -708, n // 4),
                           rng.uniform(-1e-9, 1e-9, n // 10), special])


def _glibc_with_fma():
    """True when the C library's exp is glibc's FMA variant (the reference this module copies)."""
    from numpy._core._multiarray_umath import __cpu_features__

    libc = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else ""
    return bool(libc and libc.startswith("glibc") and __cpu_features__.get("FMA3"))


def test_exp_is_the_c_librarys_bit_for_bit():
    if not _glibc_with_fma():
        pytest.skip("the C library here is not glibc's FMA exp, the reference")
    assert _mismatches(_arguments()) == 0


def test_special_values():
    assert exact_math.exp(0.0) == 1.0 and exact_math.exp(-np.inf) == 0.0 and exact_math.exp(np.inf) == np.inf
    assert np.isnan(exact_math.exp(np.nan)) and exact_math.exp(710.0) == np.inf and exact_math.exp(-746.0) == 0.0
    assert 0.0 < exact_math.exp(-745.0) < 1e-320  # subnormal
    assert math.copysign(1.0, exact_math.exp(-745.2)) == 1.0  # +0, not -0


_CHILD = r"""
import hashlib, math, numpy as np
from numba import njit
from initlab.engines import exact_math
@njit
def both(xs):
    mine, libm = np.empty_like(xs), np.empty_like(xs)
    for i in range(xs.size):
        mine[i], libm[i] = exact_math.exp(xs[i]), math.exp(xs[i])
    return mine, libm
xs = np.random.default_rng(1).uniform(-745.2, 709.8, 300_000)
mine, libm = both(xs)
print(hashlib.sha256(mine.tobytes()).hexdigest(), hashlib.sha256(libm.tobytes()).hexdigest())
"""


def test_the_c_librarys_variant_for_cpus_without_fma_changes_nothing(tmp_path):
    """glibc picks its exp by the CPU: masking FMA and AVX2 (as on a pre-2013 CPU) gives libm's
    other variant, which rounds some results differently; exact_math.exp stays the same."""
    if not _glibc_with_fma():
        pytest.skip("needs glibc and an FMA CPU to compare its two variants")
    runs = {}
    for name, extra in (("fma", {}), ("no fma", {"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX,-FMA4"})):
        env = {**os.environ, **extra, "NUMBA_CACHE_DIR": str(tmp_path / name.replace(" ", "_"))}
        done = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        runs[name] = done.stdout.split()
    assert runs["fma"][0] == runs["no fma"][0]  # ours: the same bits
    assert runs["fma"][1] != runs["no fma"][1]  # libm's two variants differ (the test can tell)
