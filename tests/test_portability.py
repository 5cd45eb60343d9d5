"""A preset saved on one backend loads on the other two, same predictions."""

import numpy as np
import pytest
from subprocess_utils import BACKENDS
from subprocess_utils import run_python

SAVE = """
from hadamard_zoo.training import train
train({recipe!r}, output_dir={out!r}, checkpoint_dir={ckpt!r},
      epochs=1, max_train_examples=256, verbose=0, **{kwargs!r})
"""

PREDICT = """
import numpy as np
import hadamard_zoo
from hadamard_zoo import demo
from hadamard_zoo import samples
inputs, _ = samples.load_samples({dataset!r})
for saved_on in {backends!r}:
    model = hadamard_zoo.load_classifier({root!r} + "/" + saved_on)
    logits = demo.predict_samples(model, inputs)
    np.save({root!r} + f"/{{saved_on}}_loaded_on_{backend}.npy", logits)
"""


@pytest.mark.large
@pytest.mark.parametrize(
    "recipe, dataset, classes, kwargs",
    [
        ("pinet_ccp_mnist", "mnist", 10, {}),
        # A text preset carries its vocabulary as an asset.
        ("polysa_transformer_sst2", "sst2", 2, {}),
        # Entity and relation names are assets; scores of 5 regions. An
        # epoch of 20 steps: the recipe's 250 took 100 s a backend.
        (
            "rotate_countries_s1",
            "countries_s1",
            5,
            {"overrides": {"steps_per_epoch": 20}},
        ),
    ],
)
def test_presets_move_between_backends(
    tmp_path, recipe, dataset, classes, kwargs
):
    root = str(tmp_path)
    for backend in BACKENDS:
        out, ckpt = f"{root}/{backend}", f"{root}/ckpt_{backend}"
        code = SAVE.format(recipe=recipe, out=out, ckpt=ckpt, kwargs=kwargs)
        run_python(code, backend)
    for backend in BACKENDS:
        code = PREDICT.format(
            backends=BACKENDS, root=root, backend=backend, dataset=dataset
        )
        run_python(code, backend)
    for saved_on in BACKENDS:
        own = np.load(f"{root}/{saved_on}_loaded_on_{saved_on}.npy")
        assert own.shape == (8, classes)
        for loaded_on in BACKENDS:
            other = np.load(f"{root}/{saved_on}_loaded_on_{loaded_on}.npy")
            np.testing.assert_allclose(
                other,
                own,
                atol=1e-5,
                err_msg=f"saved on {saved_on}, loaded on {loaded_on}",
            )
            assert np.array_equal(other.argmax(-1), own.argmax(-1))
