"""NumPy references and golden cases of the Poly-SA transformer models.

Written from the equations (survey Eq. 9 for Poly-SA, scaled dot-product
attention, SwiGLU, pre-LayerNorm residual blocks), not by calling the
layers. Weights are keyed by variable path (`"block0/mixer/w1_kernel"`,
`"block0/mixer/query/kernel"`, `"embeddings/token_embedding/embeddings"`,
`"logits/kernel"`, ...).

Text cases have integer inputs (token ids and a padding mask), which the
layer harness does not draw, so they get their own golden files here
(`tests/golden/polysa_text_*.npz`: `input_0` token ids, `input_1` padding
mask, `output_0` the backbone's sequence output, `output_1` the
classifier's logits, `weight:<path>` every weight). Image cases are
harness `LayerCase`s (`tests/golden/polysa_image_*.npz`), as for Π-Net.
Every backend compares to the same files.
"""

import dataclasses
import functools
import os
import zlib

import numpy as np
import pytest
from harness import GOLDEN_DIR
from harness import UPDATE_GOLDEN
from harness import LayerCase
from harness import weight_name

from hadamard_zoo.models.polysa_transformer import PolySAImageBackbone
from hadamard_zoo.models.polysa_transformer import PolySAImageClassifier
from hadamard_zoo.models.polysa_transformer import PolySATextClassifier
from hadamard_zoo.models.polysa_transformer import PolySATransformerBackbone

NUM_CLASSES = 3

# ------------------------------------------------------------ NumPy maths


def layer_norm(x, w, name, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w[f"{name}/gamma"] + w[
        f"{name}/beta"
    ]


def silu(x):
    return x / (1.0 + np.exp(-x))


def swiglu_ffn(x, w, prefix):
    """W_o ((x W + b) * Swish(x V + c)) + b_o."""
    value = x @ w[f"{prefix}ffn_gate/value_kernel"]
    value = value + w[f"{prefix}ffn_gate/value_bias"]
    gate = x @ w[f"{prefix}ffn_gate/gate_kernel"]
    gate = gate + w[f"{prefix}ffn_gate/gate_bias"]
    hidden = value * silu(gate)
    return (
        hidden @ w[f"{prefix}ffn_output/kernel"] + w[f"{prefix}ffn_output/bias"]
    )


def poly_sa(x, w, prefix, valid, causal):
    """Z = α X + β (φ((X W_1) * (X W_2)) * X) W_3, φ the masked mean."""
    p = (x @ w[f"{prefix}/w1_kernel"]) * (x @ w[f"{prefix}/w2_kernel"])
    m = valid[..., None].astype(x.dtype)
    p = p * m
    if causal:
        sums, counts = np.cumsum(p, axis=1), np.cumsum(m, axis=1)
    else:
        sums = p.sum(1, keepdims=True)
        counts = m.sum(1, keepdims=True)
    phi = sums / np.maximum(counts, 1.0)
    y = (phi * x) @ w[f"{prefix}/w3_kernel"]
    return w[f"{prefix}/alpha"] * x + w[f"{prefix}/beta"] * y


def attention(x, w, prefix, valid, causal):
    """softmax(Q Kᵀ / √d_k) V per head, then the output projection.

    Token t attends to the valid tokens (those <= t when causal) and
    always to itself.
    """
    q, k, v = (
        np.einsum("bnc,chd->bnhd", x, w[f"{prefix}/{n}/kernel"])
        + w[f"{prefix}/{n}/bias"]
        for n in ("query", "key", "value")
    )
    scores = np.einsum("bthd,bshd->bhts", q, k) / np.sqrt(q.shape[-1])
    n = x.shape[1]
    allowed = np.broadcast_to(valid[:, None, :], (x.shape[0], n, n))
    if causal:
        allowed = allowed & np.tril(np.ones((n, n), bool))
    allowed = allowed | np.eye(n, dtype=bool)
    scores = np.where(allowed[:, None], scores, -np.inf)
    scores = scores - scores.max(-1, keepdims=True)
    probs = np.exp(scores)
    probs = probs / probs.sum(-1, keepdims=True)
    out = np.einsum("bhts,bshd->bthd", probs, v)
    return (
        np.einsum("bthd,hdc->btc", out, w[f"{prefix}/attention_output/kernel"])
        + w[f"{prefix}/attention_output/bias"]
    )


def block(x, w, prefix, valid, config):
    """One pre-LN block: x += Mixer(LN_1(x)); x += FFN(LN_2(x))."""
    eps = config.get("layer_norm_epsilon", 1e-5)
    causal = config.get("causal", False)
    h = layer_norm(x, w, f"{prefix}mixer_norm", eps)
    if config.get("mixer", "poly_sa") == "poly_sa":
        x = x + poly_sa(h, w, f"{prefix}mixer", valid, causal)
    else:
        x = x + attention(h, w, f"{prefix}mixer", valid, causal)
    h = layer_norm(x, w, f"{prefix}ffn_norm", eps)
    return x + swiglu_ffn(h, w, prefix)


def blocks(x, w, valid, config):
    """`num_layers` blocks `block0/`, `block1/`, ..., then the final LN."""
    for i in range(config["num_layers"]):
        x = block(x, w, f"block{i}/", valid, config)
    eps = config.get("layer_norm_epsilon", 1e-5)
    return layer_norm(x, w, "final_norm", eps)


def block_reference(inputs, weights, config):
    """A lone `PolySATransformerBlock` (weights without a prefix)."""
    (x,) = inputs
    valid = np.ones(x.shape[:2], bool)
    return block(x.astype("float64"), _float64(weights), "", valid, config)


def _float64(weights):
    return {k: np.asarray(v, "float64") for k, v in weights.items()}


def text_backbone_reference(token_ids, padding_mask, weights, config):
    """Token + position embedding, the blocks, the final LN."""
    w = _float64(weights)
    n = token_ids.shape[1]
    x = w["embeddings/token_embedding/embeddings"][token_ids]
    x = x + w["embeddings/position_embedding/embeddings"][:n]
    return blocks(x, w, padding_mask.astype(bool), config)


def masked_mean(x, padding_mask):
    m = padding_mask.astype(bool)[..., None]
    return np.where(m, x, 0.0).sum(1) / np.maximum(m.sum(1), 1)


def text_classifier_reference(token_ids, padding_mask, weights, config):
    """(sequence output, logits = masked mean -> Dense)."""
    w = _float64(weights)
    sequence = text_backbone_reference(token_ids, padding_mask, w, config)
    pooled = masked_mean(sequence, padding_mask)
    return sequence, pooled @ w["logits/kernel"] + w["logits/bias"]


def patchify(images, p):
    """(B, H, W, C) -> (B, T, p * p * C), patches in row-major order."""
    b, h, w, c = images.shape
    x = images.reshape(b, h // p, p, w // p, p, c).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(b, (h // p) * (w // p), p * p * c)


def image_backbone_reference(images, weights, config):
    """Patch embedding (conv p x p, stride p), positions, blocks, LN."""
    w = _float64(weights)
    p = config["patch_size"]
    kernel = w["patch_embedding/kernel"]  # (p, p, C, d)
    x = patchify(images.astype("float64"), p) @ kernel.reshape(
        -1, kernel.shape[-1]
    )
    x = x + w["patch_embedding/bias"] + w["position_embedding/embeddings"]
    valid = np.ones(x.shape[:2], bool)
    return blocks(x, w, valid, dict(config, causal=False))


def image_classifier_reference(inputs, weights, config):
    (images,) = inputs
    w = _float64(weights)
    tokens = image_backbone_reference(images, w, config)
    return tokens.mean(1) @ w["predictions/kernel"] + w["predictions/bias"]


# ------------------------------------------------------ model factories


def make_text_classifier(num_classes=NUM_CLASSES, dtype=None, **kwargs):
    """A `PolySATextClassifier` (logits, no preprocessor, no dropout)."""
    backbone = PolySATransformerBackbone(dtype=dtype, **kwargs)
    return PolySATextClassifier(
        backbone=backbone, num_classes=num_classes, dropout=0.0
    )


def make_image_classifier(num_classes=NUM_CLASSES, dtype=None, **kwargs):
    """A `PolySAImageClassifier` (logits, no preprocessor)."""
    backbone = PolySAImageBackbone(dtype=dtype, **kwargs)
    return PolySAImageClassifier(backbone=backbone, num_classes=num_classes)


def _draw(rng, name, shape, scale):
    if name.endswith("gamma"):
        return rng.uniform(0.5, 1.5, shape)
    return rng.uniform(-scale, scale, shape)


# ------------------------------------------------------------ text cases


@dataclasses.dataclass
class TextCase:
    """A text classifier configuration with its golden file."""

    name: str
    config: dict
    lengths: tuple = (7, 4, 1)
    weight_scale: float = 0.5

    def make(self, **overrides):
        return make_text_classifier(**{**self.config, **overrides})


def text_inputs(case, rng):
    n = max(case.lengths)
    token_ids = rng.integers(0, case.config["vocabulary_size"], (3, n))
    padding_mask = np.arange(n) < np.array(case.lengths)[:, None]
    return token_ids.astype("int32"), padding_mask


def _write_text_golden(case, path):
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    token_ids, padding_mask = text_inputs(case, rng)
    model = case.make()
    weights = {
        weight_name(model, v): _draw(
            rng, v.path, tuple(v.shape), case.weight_scale
        ).astype("float32")
        for v in model.weights
    }
    sequence, logits = text_classifier_reference(
        token_ids, padding_mask, weights, case.config
    )
    arrays = {"input_0": token_ids, "input_1": padding_mask}
    arrays.update({"output_0": sequence, "output_1": logits})
    arrays.update({f"weight:{k}": v for k, v in weights.items()})
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load_text_golden(case):
    """`(token_ids, padding_mask, weights, (sequence, logits))`."""
    path = GOLDEN_DIR / f"{case.name}.npz"
    if UPDATE_GOLDEN:
        _write_text_golden(case, path)
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
        outputs = (data["output_0"], data["output_1"])
        return data["input_0"], data["input_1"], weights, outputs


def golden_text_classifier(case, **overrides):
    """The case's classifier loaded with the golden weights, and the data."""
    token_ids, padding_mask, weights, outputs = load_text_golden(case)
    model = case.make(**overrides)
    names = [weight_name(model, v) for v in model.weights]
    assert sorted(names) == sorted(weights), (
        "The model's weights differ from the golden file's: "
        f"{sorted(names)} vs {sorted(weights)}."
    )
    for name, variable in zip(names, model.weights, strict=True):
        variable.assign(weights[name].astype(variable.dtype))
    inputs = {"token_ids": token_ids, "padding_mask": padding_mask}
    return model, inputs, weights, outputs


_TEXT = dict(
    vocabulary_size=23,
    num_layers=2,
    hidden_dim=8,
    intermediate_dim=12,
    max_sequence_length=9,
    num_heads=2,
)
TEXT_CASES = [
    TextCase("polysa_text_poly_sa", dict(_TEXT, mixer="poly_sa")),
    TextCase("polysa_text_attention", dict(_TEXT, mixer="attention")),
    TextCase(
        "polysa_text_poly_sa_causal",
        dict(_TEXT, mixer="poly_sa", causal=True, layer_norm_epsilon=1e-3),
    ),
    TextCase(
        "polysa_text_attention_causal",
        dict(_TEXT, mixer="attention", causal=True, num_heads=4),
        lengths=(5, 2, 0),
    ),
]

# ----------------------------------------------------------- image cases


def image_case(name, **config):
    return LayerCase(
        name=f"polysa_image_{name}",
        layer_cls=functools.partial(make_image_classifier, **config),
        init_kwargs={},
        input_shapes=(3,) + tuple(config["image_shape"]),
        reference=lambda x, w: image_classifier_reference(x, w, config),
        input_range=(0.0, 1.0),
        weight_overrides={"gamma": lambda rng, s: rng.uniform(0.5, 1.5, s)},
    )


IMAGE_CASES = [
    image_case(
        "poly_sa",
        image_shape=(8, 8, 2),
        patch_size=4,
        num_layers=2,
        hidden_dim=8,
        intermediate_dim=12,
    ),
    image_case(
        "attention",
        image_shape=(6, 4, 1),
        patch_size=2,
        num_layers=1,
        hidden_dim=8,
        intermediate_dim=12,
        mixer="attention",
        num_heads=2,
    ),
]
