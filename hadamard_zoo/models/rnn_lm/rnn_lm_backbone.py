"""The recurrent language-model backbone: embedding, recurrent stack, logits."""

import keras
from keras_hub.models import Backbone

from hadamard_zoo.layers.modulation.recurrent import GRUCell
from hadamard_zoo.layers.modulation.recurrent import LiGRUCell
from hadamard_zoo.layers.modulation.recurrent import LSTMCell
from hadamard_zoo.layers.modulation.recurrent import MGUCell
from hadamard_zoo.layers.modulation.recurrent._chunked import MODES
from hadamard_zoo.models.rnn_lm.rnn_lm_layers import StatefulHGRN
from hadamard_zoo.models.rnn_lm.rnn_lm_layers import StatefulRNN
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int

# cell name -> the recurrent cell class (wrapped in keras.layers.RNN).
CELLS = {
    "lstm": LSTMCell,
    "gru": GRUCell,
    "mgu": MGUCell,
    "ligru": LiGRUCell,
}
# The gated linear recurrence, a sequence layer of its own.
RECURRENCES = ("hgrn",)
CELL_NAMES = tuple(CELLS) + RECURRENCES


def uniform_initializer(scale):
    """Zaremba et al.'s initialisation: every weight uniform in ±scale."""
    return keras.initializers.RandomUniform(-scale, scale)


def recurrent_layer(
    cell, hidden_dim, index, num_layers, init, stateful, mode, dtype
):
    """Layer `index` of the stack: `StatefulRNN(cell)` or `StatefulHGRN`."""
    name = f"recurrent_{index}"
    if cell == "hgrn":
        # HGRN's forget-gate lower bound grows with depth, so upper layers
        # keep a longer memory (fixed here: k / num_layers for layer k).
        return StatefulHGRN(
            lower_bound=index / num_layers,
            mode=mode,
            stateful=stateful,
            kernel_initializer=init,
            dtype=dtype,
            name=name,
        )
    cell_kwargs = dict(
        kernel_initializer=init,
        recurrent_initializer=init,
        bias_initializer=init,
        dtype=dtype,
    )
    if cell == "lstm":
        # Zaremba et al. add no constant to the forget gate.
        cell_kwargs["forget_bias"] = 0.0
    return StatefulRNN(
        # A fixed name: weight paths read recurrent_<i>/cell/kernel, not a
        # name numbered by how many cells the process built before.
        CELLS[cell](hidden_dim, name="cell", **cell_kwargs),
        return_sequences=True,
        stateful=stateful,
        dtype=dtype,
        name=name,
    )


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class RNNLMBackbone(PresetNameMixin, Backbone):
    """Recurrent language model: embedding → stacked recurrences → logits.

    A functional keras-hub `Backbone` of Zaremba et al.'s word-level
    language model, with the recurrent layer chosen by `cell`:

    ```
    x_t   = E[w_t] * m_t                      (m = padding_mask)
    h^l_t = Cell_l(h^{l-1}_t, s^l_{t-1})      l = 1..num_layers
    z_t   = h^L_t W + b                       next-word logits
    ```

    with dropout on `x` and on every layer's output. The cells are the
    Hadamard-gated ones of `hadamard_zoo.layers.modulation.recurrent`:
    `"lstm"` (`c_t = f_t * c_{t-1} + i_t * g_t`, `h_t = o_t * tanh(c_t)`),
    `"gru"`, `"mgu"`, `"ligru"` (each in `StatefulRNN`, a
    `keras.layers.RNN` whose carried states also work under JAX), or
    `"hgrn"`,
    the gated linear recurrence `h_t = f_t * h_{t-1} + (1 - f_t) * i_t`
    computed chunkwise in parallel, with forget-gate lower bounds
    `k / num_layers` growing with depth. Every weight starts uniform in
    `±init_scale`.

    The output is the logits over the vocabulary, shape `(batch, time,
    vocabulary_size)`: position `t` predicts token `t + 1`.
    `RNNLMCausalLM` adds the preprocessor and `generate()`.

    With `stateful=True` (and a fixed `batch_size`) every recurrent layer
    carries its final state into the next batch, so consecutive windows of
    a long text are read as one sequence: truncated back-propagation
    through time as in Zaremba et al. `reset_states()` zeroes the states.
    A stateful and a stateless backbone of the same configuration have the
    same trainable weights (`get_weights` order differs only by the
    states), see `stateless_weights()`.

    Args:
        vocabulary_size: int, the number of token ids.
        hidden_dim: int, the width of the embedding and of every
            recurrent layer. Defaults to `200` (Zaremba's small model).
        num_layers: int, the number of recurrent layers. Defaults to `2`.
        cell: one of `"lstm"`, `"gru"`, `"mgu"`, `"ligru"`, `"hgrn"`.
            Defaults to `"lstm"`.
        dropout: float in [0, 1), dropout on the embedding and on each
            recurrent layer's output (not on the recurrent connections).
            Defaults to `0.0` (the small model has none).
        init_scale: float > 0, weights start uniform in `±init_scale`.
            Defaults to `0.1`.
        stateful: bool, whether states carry across batches. Defaults to
            `False`.
        batch_size: int, the fixed batch size; required when `stateful`
            (and only then). Defaults to `None`.
        recurrence_mode: `"recurrent"` or `"chunkwise"`, how `"hgrn"`
            computes its recurrence (same function; see `HGRN`). Step by
            step is the faster one for the 20-step windows of Zaremba's
            training (0.074 vs 0.099 s a step at chunk size 20, JAX CPU),
            chunkwise for long sequences. Ignored by the other cells.
            Defaults to `"recurrent"`.
        dtype: dtype policy of the layers. Defaults to `None`.
        **kwargs: base `Backbone` arguments (`name`, ...).

    Example:

    >>> import numpy as np
    >>> backbone = RNNLMBackbone(vocabulary_size=50, hidden_dim=8)
    >>> x = {
    ...     "token_ids": np.array([[1, 4, 9, 2]], "int32"),
    ...     "padding_mask": np.ones((1, 4), "int32"),
    ... }
    >>> tuple(backbone(x).shape)
    (1, 4, 50)

    Reference:
        Zaremba, Sutskever and Vinyals, "Recurrent Neural Network
        Regularization", arXiv:1409.2329, 2014; Mikolov et al., "Recurrent
        neural network based language model", Interspeech 2010; Chrysos et
        al., "Hadamard product in deep learning", section on recurrent
        networks.
    """

    def __init__(
        self,
        vocabulary_size,
        hidden_dim=200,
        num_layers=2,
        cell="lstm",
        dropout=0.0,
        init_scale=0.1,
        stateful=False,
        batch_size=None,
        recurrence_mode="recurrent",
        dtype=None,
        **kwargs,
    ):
        vocabulary_size = check_int("vocabulary_size", vocabulary_size, 2)
        hidden_dim = check_int("hidden_dim", hidden_dim)
        num_layers = check_int("num_layers", num_layers)
        cell = check_choice("cell", cell, CELL_NAMES)
        dropout = check_float("dropout", dropout, 0.0, 1.0)
        if dropout >= 1.0:
            raise ValueError(
                f"`dropout` must be in [0, 1). Received: dropout={dropout}."
            )
        init_scale = check_float("init_scale", init_scale, 0.0)
        if init_scale <= 0.0:
            raise ValueError(
                f"`init_scale` must be > 0. Received: init_scale={init_scale}."
            )
        stateful = check_bool("stateful", stateful)
        batch_size = check_optional_int("batch_size", batch_size)
        if stateful and batch_size is None:
            raise ValueError(
                "`stateful=True` carries one state per sequence of the "
                "batch, so it needs a fixed `batch_size`. Received: "
                "batch_size=None."
            )
        if not stateful and batch_size is not None:
            raise ValueError(
                "`batch_size` fixes the batch of a stateful backbone; with "
                f"stateful=False leave it None. Received: batch_size="
                f"{batch_size}."
            )
        recurrence_mode = check_choice(
            "recurrence_mode", recurrence_mode, MODES
        )
        init = uniform_initializer(init_scale)

        # === Layers ===
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size,
            hidden_dim,
            embeddings_initializer=init,
            dtype=dtype,
            name="token_embedding",
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embedding_dropout"
        )
        self.recurrent_layers = []
        self.recurrent_dropouts = []
        for i in range(num_layers):
            self.recurrent_layers.append(
                recurrent_layer(
                    cell,
                    hidden_dim,
                    i,
                    num_layers,
                    init,
                    stateful,
                    recurrence_mode,
                    dtype,
                )
            )
            self.recurrent_dropouts.append(
                keras.layers.Dropout(
                    dropout, dtype=dtype, name=f"recurrent_{i}_dropout"
                )
            )
        self.logits_dense = keras.layers.Dense(
            vocabulary_size,
            kernel_initializer=init,
            bias_initializer=init,
            dtype=dtype,
            name="logits",
        )

        # === Functional model ===
        token_ids = keras.Input(
            shape=(None,),
            batch_size=batch_size,
            dtype="int32",
            name="token_ids",
        )
        padding_mask = keras.Input(
            shape=(None,),
            batch_size=batch_size,
            dtype="int32",
            name="padding_mask",
        )
        x = self.token_embedding(token_ids)
        # Padded positions read a zero vector; with right padding they come
        # after every real token, so no real prediction depends on them.
        mask = keras.ops.cast(padding_mask, x.dtype)
        x = x * keras.ops.expand_dims(mask, -1)
        x = self.embedding_dropout(x)
        for layer, layer_dropout in zip(
            self.recurrent_layers, self.recurrent_dropouts, strict=True
        ):
            x = layer_dropout(layer(x))
        logits = self.logits_dense(x)
        super().__init__(
            inputs={"token_ids": token_ids, "padding_mask": padding_mask},
            outputs=logits,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.cell = cell
        self.dropout = dropout
        self.init_scale = init_scale
        self.stateful = stateful
        self.batch_size = batch_size
        self.recurrence_mode = recurrence_mode

    def reset_states(self):
        """Zeroes the carried states of a stateful backbone."""
        for layer in self.recurrent_layers:
            if layer.stateful:
                layer.reset_state()

    def stateless_weights(self):
        """The trainable weights' values, as a stateless backbone orders
        them (its `set_weights` takes them)."""
        return [keras.ops.convert_to_numpy(w) for w in self.trainable_weights]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "hidden_dim": self.hidden_dim,
                "num_layers": self.num_layers,
                "cell": self.cell,
                "dropout": self.dropout,
                "init_scale": self.init_scale,
                "stateful": self.stateful,
                "batch_size": self.batch_size,
                "recurrence_mode": self.recurrence_mode,
            }
        )
        return config
