"""Recurrent cells and gated linear recurrences: gates multiply a state.

Cells (`LSTMCell`, `GRUCell`, `MGUCell`, `LiGRUCell`, `IndRNNCell`,
`RHNCell`, `ConvLSTM2DCell`) run inside `keras.layers.RNN`; `HGRN`, `GLA`
and `MLSTM` are sequence layers with a step-by-step and a chunkwise path.
"""

from hadamard_zoo.layers.modulation.recurrent.conv_lstm2d_cell import (
    ConvLSTM2DCell,
)
from hadamard_zoo.layers.modulation.recurrent.gla import GLA
from hadamard_zoo.layers.modulation.recurrent.gru_cell import GRUCell
from hadamard_zoo.layers.modulation.recurrent.hgrn import HGRN
from hadamard_zoo.layers.modulation.recurrent.ind_rnn_cell import IndRNNCell
from hadamard_zoo.layers.modulation.recurrent.ind_rnn_cell import MaxAbsClip
from hadamard_zoo.layers.modulation.recurrent.li_gru_cell import LiGRUCell
from hadamard_zoo.layers.modulation.recurrent.lstm_cell import LSTMCell
from hadamard_zoo.layers.modulation.recurrent.mgu_cell import MGUCell
from hadamard_zoo.layers.modulation.recurrent.mlstm import MLSTM
from hadamard_zoo.layers.modulation.recurrent.rhn_cell import RHNCell
