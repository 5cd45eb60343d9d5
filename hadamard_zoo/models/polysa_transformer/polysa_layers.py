"""Small layers of the Poly-SA models: checked embeddings, masked pooling."""

import keras
from keras import ops
from keras_hub.layers import TokenAndPositionEmbedding


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolySATokenAndPositionEmbedding(TokenAndPositionEmbedding):
    """Token plus learned position embedding that rejects long sequences.

    keras-hub's `TokenAndPositionEmbedding`,

    ```
    e_t = E[token_t] + P[t]        t = 0 .. N-1,  P: (sequence_length, d)
    ```

    with one addition: a sequence longer than the position table raises a
    `ValueError`. The parent slices `P[0:N]`, which fails with a backend
    error on some backends and, on JAX, silently clamps the slice and
    reuses positions.

    The check needs the sequence length to be known when the layer runs:
    always true in eager calls, under JAX and in keras-hub's `fit` /
    `predict` (whose preprocessor pads to a fixed length). A TensorFlow
    graph traced with an unknown length cannot be checked.

    Args:
        vocabulary_size: int, the number of tokens.
        sequence_length: int, the longest sequence (rows of `P`).
        embedding_dim: int, the width `d`.
        **kwargs: the other arguments of
            `keras_hub.layers.TokenAndPositionEmbedding`
            (`embeddings_initializer`, `mask_zero`, ...) and base `Layer`
            arguments.

    Call arguments:
        inputs: int tensor of shape `(batch, N)`, the token ids.
        start_index: int, the position of the first token. Defaults to `0`.

    Returns:
        Tensor of shape `(batch, N, embedding_dim)`.

    Example:

    >>> import numpy as np
    >>> layer = PolySATokenAndPositionEmbedding(10, 4, 8)
    >>> tuple(layer(np.zeros((2, 4), "int32")).shape)
    (2, 4, 8)
    >>> try:
    ...     layer(np.zeros((2, 5), "int32"))
    ... except ValueError as error:
    ...     print("max_sequence_length=4" in str(error))
    True

    Reference:
        Vaswani et al., "Attention Is All You Need", NeurIPS 2017
        (learned position embeddings as in Devlin et al., "BERT", 2019).
    """

    def _check_length(self, shape, start_index=0):
        length = tuple(shape)[-1] if shape else None
        if length is None or not isinstance(start_index, int):
            return
        if start_index + length > self.sequence_length:
            raise ValueError(
                f"The sequence is longer than the position embedding: it has "
                f"{length} tokens (from position {start_index}) but the "
                f"model was built with max_sequence_length="
                f"{self.sequence_length}. Truncate the input (a "
                "preprocessor's `sequence_length`) or build the backbone "
                "with a larger `max_sequence_length`."
            )

    def call(self, inputs, start_index=0, positions=None):
        if positions is None:
            self._check_length(inputs.shape, start_index)
        return super().call(
            inputs, start_index=start_index, positions=positions
        )

    def compute_output_shape(self, input_shape):
        self._check_length(input_shape)
        return super().compute_output_shape(input_shape)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolySAMaskedMeanPooling(keras.layers.Layer):
    """Mean of the token features over the valid (unpadded) tokens.

    ```
    pooled_b = Σ_t m_bt x_bt / max(1, Σ_t m_bt)
    ```

    with `m` the padding mask (all ones when it is omitted), so padding
    never enters the average and a sequence without valid tokens pools to
    zeros rather than NaN. Padded features are selected away, not
    multiplied by 0, so an `inf` or NaN there cannot leak in. Under mixed
    precision the sums accumulate in float32.

    Args:
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, N, d)`.
        padding_mask: optional tensor of shape `(batch, N)`, bool or int,
            true (non-zero) at valid tokens.

    Returns:
        Tensor of shape `(batch, d)`.

    Example:

    >>> import numpy as np
    >>> x = np.arange(6, dtype="float32").reshape(1, 3, 2)
    >>> pooled = PolySAMaskedMeanPooling()(x, padding_mask=[[1, 1, 0]])
    >>> np.asarray(pooled).tolist()
    [[1.0, 2.0]]

    Reference:
        Reimers and Gurevych, "Sentence-BERT", EMNLP 2019 (mean pooling).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.InputSpec(ndim=3)

    def get_config(self):
        # Explicit: Keras' automatic config cannot hold the DTypePolicy
        # object the classifier passes as `dtype`; the base config can.
        return super().get_config()

    def call(self, inputs, padding_mask=None):
        dtype = self.compute_dtype
        if dtype in ("float16", "bfloat16"):
            dtype = "float32"
        x = ops.cast(inputs, dtype)
        if padding_mask is None:
            return ops.cast(ops.mean(x, axis=1), self.compute_dtype)
        valid = ops.expand_dims(ops.cast(padding_mask, "bool"), -1)
        sums = ops.sum(ops.where(valid, x, ops.zeros_like(x)), axis=1)
        counts = ops.sum(ops.cast(valid, dtype), axis=1)
        pooled = sums / ops.maximum(counts, 1.0)
        return ops.cast(pooled, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])
