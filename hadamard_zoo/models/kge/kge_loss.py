"""RotatE's self-adversarial negative-sampling loss."""

import keras
from keras import ops

from hadamard_zoo.utils.validation import check_float


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class SelfAdversarialNegativeSamplingLoss(keras.losses.Loss):
    """Negative-sampling loss with self-adversarial weights (RotatE).

    `y_pred` holds the scores of one true triple (column 0) and its `K`
    corrupted versions (columns 1..K); `y_true` is ignored. Per example,

    ```
    L = -log σ(s_0) - Σ_j p_j log σ(-s_j),   p = softmax(α s_{1..K})
    ```

    where the weights `p` are constants (no gradient flows through them):
    negatives the model currently finds plausible weigh more. With
    `adversarial_temperature=0` the weights are uniform, `p_j = 1 / K`.
    The RotatE code averages the positive and the negative terms
    separately and halves their sum, which is this per-example loss
    averaged over the batch. Its subsampling weights `w` (`1 / sqrt` of
    the frequency of `(h, r)` and `(r, t)`) make both averages weighted,
    `Σ w L / Σ w`: pass them as `sample_weight` scaled to a mean of 1
    per batch, since Keras divides the weighted sum by the batch size.

    Args:
        adversarial_temperature: float >= 0, `α`.

    Example:

    >>> import numpy as np
    >>> loss = SelfAdversarialNegativeSamplingLoss(1.0)
    >>> scores = np.array([[3.0, -2.0, -1.0]])
    >>> round(float(loss(np.zeros((1,)), scores)), 4)
    0.1559

    Reference:
        Sun et al., "RotatE: Knowledge Graph Embedding by Relational
        Rotation in Complex Space", ICLR 2019, Eq. 5.
    """

    def __init__(
        self,
        adversarial_temperature=1.0,
        reduction="sum_over_batch_size",
        name="self_adversarial_negative_sampling",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.adversarial_temperature = check_float(
            "adversarial_temperature", adversarial_temperature, minimum=0.0
        )

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        positive = y_pred[:, 0]
        negatives = y_pred[:, 1:]
        weights = ops.softmax(self.adversarial_temperature * negatives, -1)
        weights = ops.stop_gradient(weights)
        positive_term = -ops.log_sigmoid(positive)
        negative_term = -ops.sum(weights * ops.log_sigmoid(-negatives), -1)
        return (positive_term + negative_term) / 2.0

    def get_config(self):
        return {
            "adversarial_temperature": self.adversarial_temperature,
            "reduction": self.reduction,
            "name": self.name,
            "dtype": self.dtype,
        }
