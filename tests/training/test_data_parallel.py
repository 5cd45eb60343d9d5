"""JAX data parallelism with `keras.distribution`, on two host devices."""

import json

import pytest
from subprocess_utils import run_python

CODE = """
import json
import jax
import keras
from hadamard_zoo.training import train
assert len(jax.devices()) == 2, jax.devices()
results = {{}}
for parallel in (False, True):
    metrics = train("pinet_ccp_mnist", output_dir={root!r} + f"/{{parallel}}",
                    checkpoint_dir={root!r} + f"/ckpt{{parallel}}", epochs=1,
                    max_train_examples=512, data_parallel=parallel,
                    resume=False, verbose=0)
    results[str(parallel)] = metrics
distribution = keras.distribution.distribution()
results["distribution"] = type(distribution).__name__
results["devices"] = len(distribution.device_mesh.devices.flatten())
print("RESULT" + json.dumps(results))
"""


@pytest.mark.large
def test_data_parallel_training_on_two_host_devices(tmp_path):
    out = run_python(
        CODE.format(root=str(tmp_path)),
        "jax",
        env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
    )
    results = json.loads(out.split("RESULT", 1)[1])
    assert results["distribution"] == "DataParallel"
    assert results["devices"] == 2
    single, parallel = results["False"], results["True"]
    # Same global batches, split over two devices: the same training up to
    # float summation order.
    assert parallel["loss"] == pytest.approx(single["loss"], abs=2e-3)
    assert parallel["value"] == pytest.approx(single["value"], abs=2e-3)
    assert parallel["command"].endswith("--data-parallel")
