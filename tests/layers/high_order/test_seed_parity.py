"""Faithfulness to the seed: the survey's PyTorch Π-Net listings (S.2.2).

The two modules below are written from the survey's listings of the CCP and
NCP models for MNIST. Their weights are copied into hadamard_zoo's `CCP` and
`NCP` layers and both must give the same logits (max abs error <= 1e-5) on
the same inputs. This runs under every Keras backend: the PyTorch side is
only the reference.
"""

import keras
import numpy as np
import pytest
import torch

from hadamard_zoo.layers.high_order.ccp import CCP
from hadamard_zoo.layers.high_order.ncp import NCP

nn = torch.nn

IMAGE_SIZE, CHANNELS, HIDDEN, DEGREE, CLASSES = 28, 1, 16, 4, 10


class SurveyCCP(nn.Module):
    """out = U1(h); out = U_i(h) * out + out; y = C(out)."""

    def __init__(self, hidden_size, n_degree, n_classes, bias=True):
        super().__init__()
        self.image_size = IMAGE_SIZE * IMAGE_SIZE * CHANNELS
        self.n_degree = n_degree
        for i in range(1, n_degree + 1):
            layer = nn.Linear(self.image_size, hidden_size, bias=bias)
            setattr(self, f"U{i}", layer)
        self.C = nn.Linear(hidden_size, n_classes, bias=True)

    def forward(self, z):
        h = z.reshape(-1, self.image_size)
        out = self.U1(h)
        for i in range(2, self.n_degree + 1):
            out = getattr(self, f"U{i}")(h) * out + out
        return self.C(out)


class SurveyNCP(nn.Module):
    """out = A1(h); out = A_i(h) * S_i(out); y = C(out)."""

    def __init__(self, hidden_size, n_degree, n_classes, bias=True):
        super().__init__()
        self.image_size = IMAGE_SIZE * IMAGE_SIZE * CHANNELS
        self.n_degree = n_degree
        for i in range(1, n_degree + 1):
            layer = nn.Linear(self.image_size, hidden_size, bias=bias)
            setattr(self, f"A{i}", layer)
            if i > 1:
                layer = nn.Linear(hidden_size, hidden_size, bias=True)
                setattr(self, f"S{i}", layer)
        self.C = nn.Linear(hidden_size, n_classes, bias=True)

    def forward(self, z):
        h = z.reshape(-1, self.image_size)
        out = self.A1(h)
        for i in range(2, self.n_degree + 1):
            a = getattr(self, f"A{i}")(h)
            out = a * getattr(self, f"S{i}")(out)
        return self.C(out)


def _copy_linear(torch_linear, layer, prefix):
    """Copies an nn.Linear into `{prefix}_kernel` / `{prefix}_bias`."""
    by_name = {v.path.split("/", 1)[1]: v for v in layer.weights}
    weight = torch_linear.weight.detach().numpy()
    by_name[f"{prefix}_kernel"].assign(weight.T)
    if torch_linear.bias is None:
        return
    bias = torch_linear.bias.detach().numpy()
    if f"{prefix}_bias" in by_name:
        by_name[f"{prefix}_bias"].assign(bias)
    else:  # a bias-free layer can only match a zero bias
        assert not bias.any(), f"{prefix} has no bias to copy {bias} into"


def _images():
    # MNIST-shaped inputs after the tutorial's Normalize(0.5, 0.5).
    rng = np.random.default_rng(0)
    pixels = rng.uniform(0, 1, (16, CHANNELS, IMAGE_SIZE, IMAGE_SIZE))
    return ((pixels - 0.5) / 0.5).astype("float32")


def _compare(torch_model, layer):
    images = _images()
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(images)).numpy()
    flat = images.reshape(len(images), -1)
    actual = keras.ops.convert_to_numpy(layer(flat))
    assert actual.shape == expected.shape
    error = float(np.max(np.abs(actual - expected)))
    assert error <= 1e-5, f"max abs error {error:.2e} > 1e-5"
    return error


@pytest.mark.parametrize("bias", [True, False])
def test_ccp_matches_survey_listing(bias):
    torch.manual_seed(0)
    reference = SurveyCCP(HIDDEN, DEGREE, CLASSES, bias=bias)
    layer = CCP(rank=HIDDEN, degree=DEGREE, output_units=CLASSES, use_bias=bias)
    layer.build((None, IMAGE_SIZE * IMAGE_SIZE * CHANNELS))
    if not bias:
        # The listing's C always has a bias; CCP(use_bias=False) has none.
        reference.C.bias.data.zero_()
    for i in range(1, DEGREE + 1):
        _copy_linear(getattr(reference, f"U{i}"), layer, f"u{i}")
    _copy_linear(reference.C, layer, "c")
    _compare(reference, layer)


def test_ncp_matches_survey_listing():
    torch.manual_seed(0)
    reference = SurveyNCP(HIDDEN, DEGREE, CLASSES)
    layer = NCP(rank=HIDDEN, degree=DEGREE, output_units=CLASSES)
    layer.build((None, IMAGE_SIZE * IMAGE_SIZE * CHANNELS))
    for i in range(1, DEGREE + 1):
        _copy_linear(getattr(reference, f"A{i}"), layer, f"a{i}")
        if i > 1:
            _copy_linear(getattr(reference, f"S{i}"), layer, f"s{i}")
    _copy_linear(reference.C, layer, "c")
    _compare(reference, layer)
