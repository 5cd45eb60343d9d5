"""The gated linear recurrences train inside a compiled step.

TensorFlow's XLA differentiates a while loop only when its number of
iterations is bounded; this guards the bound in `_chunked.scan_time`.
"""

import keras
import numpy as np
import pytest

from hadamard_zoo.layers import GLA
from hadamard_zoo.layers import HGRN
from hadamard_zoo.layers import MLSTM

# torch.compile of these loops takes minutes on a 2-core CPU; torch users
# train eagerly by default.
JIT = keras.backend.backend() != "torch"


@pytest.mark.parametrize("mode", ["recurrent", "chunkwise"])
@pytest.mark.parametrize(
    "layer_cls, kwargs",
    [(HGRN, {}), (GLA, {"num_heads": 2}), (MLSTM, {"num_heads": 2})],
)
def test_compiled_fit_lowers_the_loss(layer_cls, kwargs, mode):
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(4, 10, 8)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((10, 8)),
            layer_cls(mode=mode, chunk_size=4, **kwargs),
        ]
    )
    model.compile(keras.optimizers.Adam(0.01), "mse", jit_compile=JIT)
    losses = model.fit(x, x, epochs=3, batch_size=4, verbose=0)
    losses = losses.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0], losses
