"""The public surface: every layer is exported, registered and documented."""

import importlib
import inspect
import pkgutil

import keras
import pytest

import hadamard_zoo
from hadamard_zoo import layers


def _layer_classes():
    found = {}
    for info in pkgutil.walk_packages(layers.__path__, "hadamard_zoo.layers."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, keras.layers.Layer)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
                and name != "DenseWeightsLayer"  # a base class, not a layer
            ):
                found[name] = obj
    return found


LAYER_CLASSES = _layer_classes()


def test_version():
    assert isinstance(hadamard_zoo.__version__, str)


def test_preset_loaders_are_top_level():
    from hadamard_zoo import generation

    assert hadamard_zoo.load_generator is generation.load_generator
    for name in ("list_presets", "load_classifier", "load_generator"):
        assert name in hadamard_zoo.__all__
        assert getattr(hadamard_zoo, name).__doc__


@pytest.mark.parametrize("name", sorted(LAYER_CLASSES))
def test_layer_is_exported_registered_and_documented(name):
    cls = LAYER_CLASSES[name]
    assert getattr(layers, name) is cls, f"hadamard_zoo.layers lacks {name}"
    registered = keras.saving.get_registered_object(f"hadamard_zoo>{name}")
    assert registered is cls, f"{name} is not registered with Keras"
    doc = inspect.getdoc(cls) or ""
    for section in ("Args:", "Example:", "Reference"):
        assert section in doc, f"{name}'s docstring lacks {section!r}"


def test_expected_layers_present():
    expected = {
        "CCP",
        "NCP",
        "CPPolynomial",
        "PiSigma",
        "QuadraticDense",
        "PolyConv2D",
        "ProdPolyBlock",
        "SqueezeExcitation",
        "GLU",
        "GEGLU",
        "SwiGLU",
        "ReGLU",
        "Highway",
        "HadamardFusion",
        "MultivariatePolynomial",
        "CompactBilinearPooling",
        "MUTANFusion",
        "TrilinearFusion",
        "RotatE",
        "TransE",
        "DistMult",
        "ComplEx",
        "FiLM",
        "AdaptiveInstanceNormalization",
        "SPADE",
        "SoftMaskBlend",
        "PartialConv2D",
        "GatedConv2D",
        "DropConnectDense",
        "WeightMask",
        "CausalLinearAttention",
        "ConvLSTM2DCell",
        "GLA",
        "GRUCell",
        "HGRN",
        "IndRNNCell",
        "LSTMCell",
        "LiGRUCell",
        "MGUCell",
        "MLSTM",
        "RHNCell",
        "PixelNormalization",
        "EqualizedDense",
        "EqualizedConv2D",
        "ModulatedConv2D",
        "NoiseInjection",
        "StyledConv",
        "ToRGB",
        "SPADEResBlock",
        "PolySA",
        "PolyNL",
        "GatedAttentionUnit",
        "MixedChunkAttention",
        "OffsetScale",
        "PolyMlp",
        "PolyBlock",
        "SpatialShift",
        "StarBlock",
        "SpatialGatingUnit",
    }
    assert expected <= set(LAYER_CLASSES)
