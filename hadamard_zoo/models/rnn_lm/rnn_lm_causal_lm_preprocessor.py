"""The causal-LM preprocessor of the recurrent language models."""

import keras
from keras_hub.models import CausalLMPreprocessor

from hadamard_zoo.models.rnn_lm.rnn_lm_backbone import RNNLMBackbone
from hadamard_zoo.models.rnn_lm.rnn_lm_tokenizer import RNNLMTokenizer
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_int


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class RNNLMCausalLMPreprocessor(PresetNameMixin, CausalLMPreprocessor):
    """Preprocessor of `RNNLMCausalLM`: sentences to next-word examples.

    keras-hub's `CausalLMPreprocessor` wired to `RNNLMTokenizer`. Each
    sentence is tokenized, framed by `<eos>` (the token that ends the
    previous sentence of the corpus, and this one's end), padded and
    shifted by one:

    ```
    "the cat sat"  ->  <eos> the cat sat <eos> <unk> ...
    x["token_ids"]:     <eos> the cat sat   <eos>   (sequence_length)
    y:                  the   cat sat <eos> <unk>
    sample_weight:      1     1   1   1     0
    ```

    so `fit()` on raw sentences trains next-word prediction, and
    `generate()` continues a prompt after its last word.

    Args:
        tokenizer: an `RNNLMTokenizer`.
        sequence_length: int >= 1, the padded length of `x`. Defaults to
            `64`.
        add_start_token: bool, whether to put `<eos>` before each sentence.
            Defaults to `True`.
        add_end_token: bool, whether to put `<eos>` after each sentence
            (so the model learns where sentences end). Defaults to `True`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        x: a str or a batch of str.
        y: must be `None` (the labels are the shifted tokens).
        sample_weight: must be `None`.
        sequence_length: optional int overriding `sequence_length`.

    Returns:
        `(x, y, sample_weight)` with `x` the dict `{"token_ids",
        "padding_mask"}`.

    Example:

    >>> import numpy as np
    >>> tokenizer = RNNLMTokenizer(["<unk>", "<eos>", "the", "cat", "sat"])
    >>> preprocessor = RNNLMCausalLMPreprocessor(tokenizer, sequence_length=6)
    >>> x, y, w = preprocessor(["the cat sat"])
    >>> np.asarray(x["token_ids"]).tolist(), np.asarray(y).tolist()
    ([[1, 2, 3, 4, 1, 0]], [[2, 3, 4, 1, 0, 0]])
    >>> np.asarray(w).astype(int).tolist()
    [[1, 1, 1, 1, 0, 0]]

    Reference:
        Zaremba et al., "Recurrent Neural Network Regularization",
        arXiv:1409.2329, 2014.
    """

    backbone_cls = RNNLMBackbone
    tokenizer_cls = RNNLMTokenizer

    def __init__(
        self,
        tokenizer,
        sequence_length=64,
        add_start_token=True,
        add_end_token=True,
        **kwargs,
    ):
        super().__init__(
            tokenizer=tokenizer,
            sequence_length=check_int("sequence_length", sequence_length),
            add_start_token=check_bool("add_start_token", add_start_token),
            add_end_token=check_bool("add_end_token", add_end_token),
            **kwargs,
        )
