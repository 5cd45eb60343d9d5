import os

import numpy as np
import pytest

from hadamard_zoo.utils.benchmarking import accelerator_peak_bytes
from hadamard_zoo.utils.benchmarking import available_cpus
from hadamard_zoo.utils.benchmarking import backend_version
from hadamard_zoo.utils.benchmarking import device_name
from hadamard_zoo.utils.benchmarking import fit_exponent
from hadamard_zoo.utils.benchmarking import fmt


@pytest.mark.parametrize("exponent", [0.5, 1.0, 1.1, 2.0])
def test_fit_exponent_recovers_power_law(exponent):
    lengths = [128, 256, 1024, 4096, 16384]
    times = [3e-3 * n**exponent for n in lengths]
    assert fit_exponent(lengths, times) == pytest.approx(exponent)


def test_fit_exponent_is_least_squares_slope():
    rng = np.random.default_rng(0)
    lengths = [256, 512, 1024, 2048, 4096]
    times = [n**1.3 * np.exp(rng.normal(scale=0.1)) for n in lengths]
    expected = np.polyfit(np.log(lengths), np.log(times), 1)[0]
    assert fit_exponent(lengths, times) == pytest.approx(expected, abs=1e-4)


def test_fit_exponent_needs_two_positive_points():
    assert fit_exponent([256], [1.0]) is None
    assert fit_exponent([256, 1024], [1.0, None]) is None
    assert fit_exponent([256, 1024], [0.0, 4.0]) is None
    assert fit_exponent([256, 256], [1.0, 2.0]) is None
    # Non-positive values are left out, the rest still fit.
    assert fit_exponent([256, 512, 1024], [0.0, 2.0, 4.0]) == 1.0


def test_fmt_cells():
    assert fmt(None) == "-"
    assert fmt(True) == "pass"
    assert fmt(False) == "FAIL"
    assert fmt(123.456) == "123"
    assert fmt(123.456, 4) == "123.5"
    assert fmt(0.000123456) == "0.000123"


def test_machine_description():
    assert available_cpus() == len(os.sched_getaffinity(0))
    assert backend_version("numpy") == np.__version__
    assert backend_version("no_such_backend").startswith("unknown (")
    # No accelerator here: the CPU is named.
    assert device_name("numpy").startswith("cpu (")


def test_accelerator_peak_bytes():
    import keras

    backend = keras.backend.backend()
    x = keras.ops.ones((256, 1024))  # 1 MiB of float32
    keras.ops.sum(x)
    peak = accelerator_peak_bytes(backend)
    if device_name(backend).startswith("cpu ("):
        assert peak is None
    else:  # on a GPU the tensor above lies in its memory
        assert peak >= 256 * 1024 * 4
    assert accelerator_peak_bytes("numpy") is None
