"""NumPy references and golden cases of the recurrent language models.

Written from the equations of each cell (Hochreiter & Schmidhuber's LSTM,
Cho et al.'s GRU with the reset gate before `U_h`, Zhou et al.'s MGU,
Ravanelli et al.'s Li-GRU, Qin et al.'s HGRN), not by calling the layers:
one matrix per gate, a plain loop over time, float64. HGRN is computed
from its closed form `h_t = Σ_{s≤t} (Π_{s<r≤t} f_r) (1 − f_s) i_s` rather
than the recurrence the layer runs.

Weights are keyed by their path in the backbone with the cell's
auto-numbered name replaced by `cell` (`"recurrent_0/cell/kernel"`,
`"recurrent_1/f_kernel"`, `"token_embedding/embeddings"`,
`"logits/kernel"`, ...), so the names do not depend on how many cells the
process built before.

Golden files `tests/golden/rnn_lm_<cell>.npz` hold `input_0` token ids,
`input_1` the padding mask (right padding), `output_0` the logits and
`weight:<name>` every weight. Every backend compares to the same files.
"""

import os
import re
import zlib

import keras
import numpy as np
import pytest
from harness import GOLDEN_DIR
from harness import UPDATE_GOLDEN

from hadamard_zoo.models.rnn_lm import RNNLMBackbone

CELLS = ("lstm", "gru", "mgu", "ligru", "hgrn")
CONFIG = dict(vocabulary_size=12, hidden_dim=6, num_layers=2)
BATCH, TIME = 2, 5
LENGTHS = (5, 3)
WEIGHT_SCALE = 0.5

# ------------------------------------------------------------ NumPy maths


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _gates(weights, prefix, names):
    """`{gate: (W, U, b)}` cut from the fused kernels, in `names` order."""
    kernel = weights[f"{prefix}kernel"]
    recurrent = weights[f"{prefix}recurrent_kernel"]
    bias = weights[f"{prefix}bias"]
    units = recurrent.shape[0]
    gates = {}
    for n, name in enumerate(names):
        cols = slice(n * units, (n + 1) * units)
        gates[name] = (kernel[:, cols], recurrent[:, cols], bias[cols])
    return gates


def lstm(x, weights, prefix):
    """i, f, g, o gates; c = f c + i g; h = o tanh(c) (no forget bias)."""
    gate = _gates(weights, prefix, "ifco")
    batch, time, _ = x.shape
    units = gate["i"][1].shape[0]
    h, c = np.zeros((batch, units)), np.zeros((batch, units))
    out = []
    for t in range(time):

        def pre(name, x_t=x[:, t], h=h):
            w, u, b = gate[name]
            return x_t @ w + h @ u + b

        i, f, o = sigmoid(pre("i")), sigmoid(pre("f")), sigmoid(pre("o"))
        c = f * c + i * np.tanh(pre("c"))
        h = o * np.tanh(c)
        out.append(h)
    return np.stack(out, 1)


def gru(x, weights, prefix):
    """z, r gates; h̃ = tanh(W x + U (r h) + b); h = z h + (1 − z) h̃."""
    gate = _gates(weights, prefix, "zrh")
    batch, time, _ = x.shape
    h = np.zeros((batch, gate["z"][1].shape[0]))
    out = []
    for t in range(time):
        x_t = x[:, t]
        (wz, uz, bz), (wr, ur, br), (wh, uh, bh) = (gate[g] for g in "zrh")
        z = sigmoid(x_t @ wz + h @ uz + bz)
        r = sigmoid(x_t @ wr + h @ ur + br)
        candidate = np.tanh(x_t @ wh + (r * h) @ uh + bh)
        h = z * h + (1.0 - z) * candidate
        out.append(h)
    return np.stack(out, 1)


def mgu(x, weights, prefix):
    """One gate f resets and updates: h = (1 − f) h + f h̃."""
    gate = _gates(weights, prefix, "fh")
    batch, time, _ = x.shape
    h = np.zeros((batch, gate["f"][1].shape[0]))
    out = []
    for t in range(time):
        x_t = x[:, t]
        (wf, uf, bf), (wh, uh, bh) = gate["f"], gate["h"]
        f = sigmoid(x_t @ wf + h @ uf + bf)
        candidate = np.tanh(x_t @ wh + (f * h) @ uh + bh)
        h = (1.0 - f) * h + f * candidate
        out.append(h)
    return np.stack(out, 1)


def ligru(x, weights, prefix):
    """No reset gate, ReLU candidate: h = z h + (1 − z) ReLU(...)."""
    gate = _gates(weights, prefix, "zh")
    batch, time, _ = x.shape
    h = np.zeros((batch, gate["z"][1].shape[0]))
    out = []
    for t in range(time):
        x_t = x[:, t]
        (wz, uz, bz), (wh, uh, bh) = gate["z"], gate["h"]
        z = sigmoid(x_t @ wz + h @ uz + bz)
        candidate = np.maximum(x_t @ wh + h @ uh + bh, 0.0)
        h = z * h + (1.0 - z) * candidate
        out.append(h)
    return np.stack(out, 1)


def hgrn(x, weights, prefix, lower_bound, epsilon=1e-5):
    """HGRN from its closed form, then RMSNorm, output gate, projection.

    f = γ + (1 − γ) σ(x W_f), i = SiLU(x W_i),
    h_t = Σ_{s≤t} (Π_{s<r≤t} f_r) (1 − f_s) i_s,
    y = (RMSNorm(h) * σ(x W_g)) W_o.
    """
    f = lower_bound + (1.0 - lower_bound) * sigmoid(
        x @ weights[prefix + "f_kernel"]
    )
    z_i = x @ weights[prefix + "i_kernel"]
    u = (1.0 - f) * z_i * sigmoid(z_i)
    time = x.shape[1]
    h = np.zeros_like(u)
    for t in range(time):
        for s in range(t + 1):
            h[:, t] += np.prod(f[:, s + 1 : t + 1], axis=1) * u[:, s]
    rms = np.sqrt(np.mean(h**2, -1, keepdims=True) + epsilon)
    gate = sigmoid(x @ weights[prefix + "g_kernel"])
    normed = h / rms * weights[prefix + "norm_scale"]
    return (normed * gate) @ weights[prefix + "output_kernel"]


REFERENCE_CELLS = {"lstm": lstm, "gru": gru, "mgu": mgu, "ligru": ligru}


def backbone_reference(token_ids, padding_mask, weights, cell, num_layers):
    """Logits `(batch, time, vocabulary)` of the backbone, float64.

    x = E[w] * m; every layer's cell over the whole (padded) sequence;
    z = x W + b. HGRN layer k has the forget-gate lower bound k / L.
    """
    w = {k: np.asarray(v, "float64") for k, v in weights.items()}
    x = w["token_embedding/embeddings"][np.asarray(token_ids)]
    x = x * np.asarray(padding_mask, "float64")[..., None]
    for layer in range(num_layers):
        prefix = f"recurrent_{layer}/"
        if cell == "hgrn":
            x = hgrn(x, w, prefix, layer / num_layers)
        else:
            x = REFERENCE_CELLS[cell](x, w, prefix + "cell/")
    return x @ w["logits/kernel"] + w["logits/bias"]


def log_softmax(logits):
    logits = np.asarray(logits, "float64")
    top = logits.max(-1, keepdims=True)
    return logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))


# ------------------------------------------------------- weights by name


def weight_name(variable):
    """`recurrent_0/lstm_cell_7/kernel` -> `recurrent_0/cell/kernel`."""
    return re.sub(
        r"^(recurrent_\d+)/[a-z_]*cell(_\d+)?/", r"\1/cell/", variable.path
    )


def named_weights(backbone, trainable_only=True):
    """`{name: variable}` of the backbone (the carried states left out)."""
    variables = (
        backbone.trainable_weights if trainable_only else backbone.weights
    )
    return {weight_name(v): v for v in variables}


def assign_weights(backbone, weights):
    """Loads `weights` (by name) into every trainable weight."""
    variables = named_weights(backbone)
    assert sorted(variables) == sorted(weights), (
        "The backbone's weights differ from the golden file's: "
        f"{sorted(variables)} vs {sorted(weights)}. Regenerate the golden "
        "file with HADAMARD_ZOO_UPDATE_GOLDEN=1 if the change is intended."
    )
    for name, variable in variables.items():
        variable.assign(np.asarray(weights[name]).astype(variable.dtype))


def draw_weights(backbone, rng, scale=WEIGHT_SCALE):
    """Uniform ±scale weights (RMS-norm gains in [0.5, 1.5]), float32."""
    weights = {}
    for name, variable in named_weights(backbone).items():
        shape = tuple(variable.shape)
        if name.endswith("norm_scale"):
            value = rng.uniform(0.5, 1.5, shape)
        else:
            value = rng.uniform(-scale, scale, shape)
        weights[name] = value.astype("float32")
    return weights


# ------------------------------------------------------------ golden cases


def make_backbone(cell, **overrides):
    return RNNLMBackbone(**{**CONFIG, "cell": cell, **overrides})


def golden_inputs(rng):
    token_ids = rng.integers(0, CONFIG["vocabulary_size"], (BATCH, TIME))
    padding_mask = np.arange(TIME) < np.asarray(LENGTHS)[:, None]
    return token_ids.astype("int32"), padding_mask.astype("int32")


def _write_golden(cell, path):
    rng = np.random.default_rng(zlib.crc32(f"rnn_lm_{cell}".encode()))
    token_ids, padding_mask = golden_inputs(rng)
    weights = draw_weights(make_backbone(cell), rng)
    logits = backbone_reference(
        token_ids, padding_mask, weights, cell, CONFIG["num_layers"]
    )
    arrays = {"input_0": token_ids, "input_1": padding_mask}
    arrays["output_0"] = logits
    arrays.update({f"weight:{k}": v for k, v in weights.items()})
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load_golden(cell):
    """`(inputs, weights, logits)` of the cell's golden file."""
    path = GOLDEN_DIR / f"rnn_lm_{cell}.npz"
    if UPDATE_GOLDEN:
        _write_golden(cell, path)
    if not path.exists():
        pytest.fail(
            f"Missing golden file {path}. Create it with "
            "HADAMARD_ZOO_UPDATE_GOLDEN=1 pytest <this test>."
        )
    with np.load(path) as data:
        weights = {
            k[len("weight:") :]: data[k]
            for k in data.keys()
            if k.startswith("weight:")
        }
        inputs = {"token_ids": data["input_0"], "padding_mask": data["input_1"]}
        return inputs, weights, data["output_0"]


def golden_backbone(cell, **overrides):
    """`(backbone, inputs, weights, logits)`: a backbone with golden weights."""
    inputs, weights, logits = load_golden(cell)
    backbone = make_backbone(cell, **overrides)
    assign_weights(backbone, weights)
    return backbone, inputs, weights, logits


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def logits_of(backbone, inputs):
    """`backbone(inputs)` as NumPy, for repeated calls of one shape.

    An eager call on JAX traces the recurrence's scan again every time
    (~0.5 s for the LSTM on 2 cores); a compiled predict traces it once
    per shape. Not for stateful backbones (an eager call updates them).
    """
    if keras.backend.backend() == "jax":
        return np.asarray(backbone.predict_on_batch(inputs))
    return to_numpy(backbone(inputs))
