"""The recurrent causal language model: next-word prediction and sampling."""

import keras
import numpy as np
from keras import ops
from keras_hub.models import CausalLM

from hadamard_zoo.models.rnn_lm.rnn_lm_backbone import RNNLMBackbone
from hadamard_zoo.models.rnn_lm.rnn_lm_causal_lm_preprocessor import (
    RNNLMCausalLMPreprocessor,
)
from hadamard_zoo.models.rnn_lm.rnn_lm_layers import StatefulHGRN
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_int


def _any_equal(token_ids, values, where):
    """Whether each token is one of `values`, only where `where` is true."""
    found = ops.zeros_like(token_ids, dtype="bool")
    for value in values:
        found = ops.logical_or(found, ops.equal(token_ids, value))
    return ops.logical_and(found, where)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class RNNLMCausalLM(PresetNameMixin, CausalLM):
    """Recurrent language model task: `fit()`, `generate()`, perplexity.

    keras-hub's `CausalLM` for `RNNLMBackbone`. The backbone already ends
    in the next-word logits, so the task adds the preprocessor, keras-hub's
    samplers and `perplexity()`. Generation reads one token a step and
    carries the recurrent states as its cache,

    ```
    s_t = Cell(E[w_{t-1}], s_{t-1}),   w_t ~ softmax(h_t W + b)
    ```

    so every step costs the same however long the text already is.
    Prompt tokens are read the same way (the cache starts at zero states
    and the sampler keeps the prompt's own tokens), which lets prompts of
    different lengths share a batch.

    Args:
        backbone: an `RNNLMBackbone`.
        preprocessor: `None` or an `RNNLMCausalLMPreprocessor`. Defaults
            to `None`.
        **kwargs: base `Task` arguments (`name`, `compile`).

    Example:

    >>> from hadamard_zoo.models.rnn_lm import RNNLMTokenizer
    >>> from hadamard_zoo.models.rnn_lm import RNNLMCausalLMPreprocessor
    >>> words = ["<unk>", "<eos>", "the", "cat", "sat"]
    >>> preprocessor = RNNLMCausalLMPreprocessor(
    ...     RNNLMTokenizer(words), sequence_length=8
    ... )
    >>> lm = RNNLMCausalLM(
    ...     RNNLMBackbone(vocabulary_size=5, hidden_dim=8),
    ...     preprocessor=preprocessor,
    ... )
    >>> lm.compile(sampler="greedy")
    >>> isinstance(lm.generate("the cat", max_length=6), str)
    True
    >>> lm.perplexity(["the cat sat"]).shape
    (1,)

    Reference:
        Zaremba et al., "Recurrent Neural Network Regularization",
        arXiv:1409.2329, 2014; Graves, "Generating Sequences With
        Recurrent Neural Networks", arXiv:1308.0850, 2013.
    """

    backbone_cls = RNNLMBackbone
    preprocessor_cls = RNNLMCausalLMPreprocessor

    def __init__(self, backbone, preprocessor=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor

        # === Functional model ===
        inputs = backbone.input
        outputs = backbone(inputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    # === Generation with the recurrent states as cache ===

    def initial_cache(self, batch_size):
        """Zero states of every recurrent layer, as one flat tuple."""
        cache = []
        for layer in self.backbone.recurrent_layers:
            if isinstance(layer, StatefulHGRN):
                cache += layer.get_initial_state(batch_size)
            else:
                cache += layer.cell.get_initial_state(batch_size)
        return tuple(cache)

    def call_with_cache(self, token_ids, cache):
        """One step: logits for the next token after `token_ids`.

        Args:
            token_ids: int tensor `(batch, 1)`, the current tokens.
            cache: the flat tuple of states (`initial_cache()` or the cache
                the previous step returned).

        Returns:
            `(logits, hidden, cache)`: logits `(batch, 1, vocabulary)`, the
            top layer's output `(batch, 1, hidden_dim)` and the new cache.
        """
        x = self.backbone.token_embedding(token_ids)
        cache = list(cache)
        new_cache = []
        for layer in self.backbone.recurrent_layers:
            if isinstance(layer, StatefulHGRN):
                x, h = layer.step(x, cache.pop(0))
                new_cache.append(h)
            else:
                size = layer.cell.state_size
                count = len(size) if isinstance(size, (list, tuple)) else 1
                states = [cache.pop(0) for _ in range(count)]
                out, states = layer.cell(x[:, 0], states)
                if not isinstance(states, (list, tuple)):
                    states = [states]
                new_cache += list(states)
                x = out[:, None]
        logits = self.backbone.logits_dense(x)
        return logits, x, tuple(new_cache)

    def generate_step(self, inputs, stop_token_ids=None):
        """A compilable generation function for one batch of inputs.

        Args:
            inputs: dict of `"token_ids"` and `"padding_mask"`, each
                `(batch, max_length)`, the right-padded prompts.
            stop_token_ids: optional tuple of ids that end a sequence.

        Returns:
            The dict of `"token_ids"` and `"padding_mask"` (true up to and
            including each sequence's stop token).
        """
        token_ids = inputs["token_ids"]
        padding_mask = ops.cast(inputs["padding_mask"], "bool")
        batch_size = ops.shape(token_ids)[0]
        cache = self.initial_cache(batch_size)
        hidden_states = ops.zeros(
            (batch_size, ops.shape(token_ids)[1], self.backbone.hidden_dim),
            self.compute_dtype,
        )

        def next(prompt, cache, index):
            token = ops.slice(prompt, [0, index - 1], [batch_size, 1])
            logits, hidden, cache = self.call_with_cache(token, cache)
            return logits[:, 0], hidden[:, 0], cache

        # Every prompt token is read one step at a time (from index 1),
        # so the states hold the whole prompt before the first sample.
        token_ids = self.sampler(
            next=next,
            prompt=token_ids,
            cache=cache,
            index=1,
            mask=padding_mask,
            stop_token_ids=stop_token_ids,
            hidden_states=hidden_states,
            model=self,
        )
        if stop_token_ids is None:
            return {
                "token_ids": token_ids,
                "padding_mask": ops.ones_like(token_ids, dtype="bool"),
            }
        ends = ops.cast(
            _any_equal(
                token_ids, stop_token_ids, ops.logical_not(padding_mask)
            ),
            "int32",
        )
        # Keep each sequence up to and including its first stop token.
        after_end = ops.cumsum(ends, axis=-1) - ends
        return {
            "token_ids": token_ids,
            "padding_mask": ops.logical_not(ops.cast(after_end, "bool")),
        }

    # === Scoring ===

    def perplexity(self, texts, batch_size=32):
        """Per-text perplexity, `exp(−mean log p(w_t | w_<t))`.

        Each text is scored as the preprocessor frames it (after `<eos>`,
        predicting its words and the closing `<eos>`), truncated to the
        preprocessor's `sequence_length`.

        Args:
            texts: a str or a list of str.
            batch_size: int, texts scored at once. Defaults to `32`.

        Returns:
            A float64 NumPy array, one perplexity per text.
        """
        if self.preprocessor is None:
            raise ValueError(
                "`perplexity()` tokenizes raw text and needs a "
                "preprocessor; this RNNLMCausalLM has preprocessor=None."
            )
        batch_size = check_int("batch_size", batch_size)
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        result = []
        for start in range(0, len(texts), batch_size):
            x, y, weights = self.preprocessor(texts[start : start + batch_size])
            logits = ops.convert_to_numpy(self.backbone(x)).astype("float64")
            y = ops.convert_to_numpy(y).astype("int64")
            weights = ops.convert_to_numpy(weights).astype("float64")
            top = logits.max(axis=-1, keepdims=True)
            log_z = np.log(np.exp(logits - top).sum(axis=-1)) + top[..., 0]
            log_p = np.take_along_axis(logits, y[..., None], -1)[..., 0]
            nll = ((log_z - log_p) * weights).sum(-1) / weights.sum(-1)
            result.append(np.exp(nll))
        return np.concatenate(result) if result else np.zeros((0,))

    def get_config(self):
        return super().get_config()
