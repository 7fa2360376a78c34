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
    text = _generate_kernels.generate()
    for G in _generate_kernels.COMBINE_SIZES:
        assert f"def combine_{G}(" in text
    for G in _generate_kernels.GRADIENT_SIZES:
        assert f"def gradient_{G}(" in text
