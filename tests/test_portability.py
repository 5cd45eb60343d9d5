"""A preset saved on one backend loads on the other two, same predictions."""

import numpy as np
import pytest
from subprocess_utils import BACKENDS
from subprocess_utils import run_python

SAVE = """
from hadamard_zoo.training import train
train("pinet_ccp_mnist", output_dir={out!r}, checkpoint_dir={ckpt!r},
      epochs=1, max_train_examples=256, verbose=0)
"""

PREDICT = """
import numpy as np
import hadamard_zoo
from hadamard_zoo import samples
images, _ = samples.load_samples("mnist")
for saved_on in {backends!r}:
    model = hadamard_zoo.load_classifier({root!r} + "/" + saved_on)
    logits = np.asarray(model.predict(images[..., None], verbose=0))
    np.save({root!r} + f"/{{saved_on}}_loaded_on_{backend}.npy", logits)
"""


@pytest.mark.large
def test_presets_move_between_backends(tmp_path):
    root = str(tmp_path)
    for backend in BACKENDS:
        out, ckpt = f"{root}/{backend}", f"{root}/ckpt_{backend}"
        run_python(SAVE.format(out=out, ckpt=ckpt), backend)
    for backend in BACKENDS:
        code = PREDICT.format(backends=BACKENDS, root=root, backend=backend)
        run_python(code, backend)
    for saved_on in BACKENDS:
        own = np.load(f"{root}/{saved_on}_loaded_on_{saved_on}.npy")
        assert own.shape == (8, 10)
        for loaded_on in BACKENDS:
            other = np.load(f"{root}/{saved_on}_loaded_on_{loaded_on}.npy")
            np.testing.assert_allclose(
                other,
                own,
                atol=1e-5,
                err_msg=f"saved on {saved_on}, loaded on {loaded_on}",
            )
            assert np.array_equal(other.argmax(-1), own.argmax(-1))
