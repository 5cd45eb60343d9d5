"""A preset saved on one backend loads on the other two, same predictions."""

import numpy as np
import pytest
from subprocess_utils import BACKENDS
from subprocess_utils import run_python

# Every recipe in one process per backend and phase: a fresh process spends
# about 6-9 s importing Keras, its backend and hadamard_zoo, and 18 of them
# (3 recipes x 3 backends x save, load) cost more than the work itself.
SAVE = """
from hadamard_zoo.training import train
for recipe, kwargs in {cases!r}:
    train(recipe, output_dir=f"{root}/{{recipe}}/{backend}",
          checkpoint_dir=f"{root}/{{recipe}}/ckpt_{backend}",
          epochs=1, max_train_examples=256, verbose=0, **kwargs)
"""

PREDICT = """
import numpy as np
import hadamard_zoo
from hadamard_zoo import demo
from hadamard_zoo import samples
for recipe, dataset in {datasets!r}:
    inputs, _ = samples.load_samples(dataset)
    for saved_on in {backends!r}:
        path = f"{root}/{{recipe}}/{{saved_on}}"
        model = hadamard_zoo.load_classifier(path)
        logits = demo.predict_samples(model, inputs)
        np.save(f"{{path}}_loaded_on_{backend}.npy", logits)
"""

CASES = [
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
]


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    """Root of each recipe's presets saved on, and logits loaded on, every
    backend."""
    root = str(tmp_path_factory.mktemp("portability"))
    cases = [(recipe, kwargs) for recipe, _, _, kwargs in CASES]
    datasets = [(recipe, dataset) for recipe, dataset, _, _ in CASES]
    for backend in BACKENDS:
        run_python(
            SAVE.format(cases=cases, root=root, backend=backend), backend
        )
    for backend in BACKENDS:
        code = PREDICT.format(
            datasets=datasets, backends=BACKENDS, root=root, backend=backend
        )
        run_python(code, backend)
    return root


@pytest.mark.large
@pytest.mark.parametrize("recipe, dataset, classes, kwargs", CASES)
def test_presets_move_between_backends(moved, recipe, dataset, classes, kwargs):
    root = f"{moved}/{recipe}"
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
