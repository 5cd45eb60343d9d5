"""MONet: Multilinear Operator Networks (polynomial image classifiers)."""

from hadamard_zoo.models.monet.monet_backbone import MONET_VARIANTS
from hadamard_zoo.models.monet.monet_backbone import MONetBackbone
from hadamard_zoo.models.monet.monet_image_classifier import (
    MONetImageClassifier,
)
from hadamard_zoo.models.monet.monet_image_classifier_preprocessor import (
    MONetImageClassifierPreprocessor,
)
from hadamard_zoo.models.monet.monet_image_converter import MONetImageConverter
