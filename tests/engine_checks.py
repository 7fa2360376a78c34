"""What the engine tests share."""
import re


def reported(divergence):
    """A divergence report without its count of non-finite parameters: once an update overflows,
    how many entries end as nan rather than inf depends on the order in which infinities meet in
    a sum (inf − inf), which the compiled engine's SIMD partial sums change (seen: 28 of 91 nan in
    numpy, 91 of 91 built for NUMBA_CPU_NAME=generic). The iteration and the kind do not change."""
    return re.sub(r" \(\d+ of \d+\)", "", str(divergence))
