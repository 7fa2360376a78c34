"""The compiled engine's unrolled kernels are generated text: the checked-in module is exactly what
the generator writes (edit initlab/engines/_generate_kernels.py and rerun it, never the output)."""
import pathlib

from initlab.engines import _generate_kernels


def test_the_generated_kernels_are_the_generators_output():
    checked_in = pathlib.Path(_generate_kernels.PATH).read_bytes()
    assert checked_in == _generate_kernels.generate().encode("utf-8"), (
        "src/initlab/engines/_kernels_generated.py differs from its generator's output: "
        "run python -m initlab.engines._generate_kernels")


def test_every_kernel_size_is_generated():
    """One jitted function per kernel (combine, gradient: each function numba compiles costs time
    of its own in the first compile), one unrolled branch per group size G in it."""
    text = _generate_kernels.generate()
    assert text.count("\ndef ") == 2 and "\ndef combine(G, " in text and "\ndef gradient(G, " in text
    combine, gradient = text.split("\ndef combine(G, ")[1].split("\ndef gradient(G, ")
    sizes = sorted(_generate_kernels.COMBINE_SIZES, reverse=True)
    for G in sizes[:-1]:
        assert f"G == {G}:" in combine
    assert f"else:  # G == {sizes[-1]}" in combine
    sizes = sorted(_generate_kernels.GRADIENT_SIZES, reverse=True)
    for G in sizes[:-1]:
        assert f"G == {G}:" in gradient
    assert f"else:  # G == {sizes[-1]}" in gradient
