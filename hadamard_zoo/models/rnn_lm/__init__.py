"""Recurrent word-level language models (Zaremba et al.'s PTB models)."""

from hadamard_zoo.models.rnn_lm.rnn_lm_backbone import RNNLMBackbone
from hadamard_zoo.models.rnn_lm.rnn_lm_causal_lm import RNNLMCausalLM
from hadamard_zoo.models.rnn_lm.rnn_lm_causal_lm_preprocessor import (
    RNNLMCausalLMPreprocessor,
)
from hadamard_zoo.models.rnn_lm.rnn_lm_layers import StatefulHGRN
from hadamard_zoo.models.rnn_lm.rnn_lm_layers import StatefulRNN
from hadamard_zoo.models.rnn_lm.rnn_lm_tokenizer import RNNLMTokenizer
