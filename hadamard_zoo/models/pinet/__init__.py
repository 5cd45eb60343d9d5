"""Π-Nets: CCP, NCP and product-of-polynomials image classifiers."""

from hadamard_zoo.models.pinet.pinet_backbone import PiNetBackbone
from hadamard_zoo.models.pinet.pinet_image_classifier import (
    PiNetImageClassifier,
)
from hadamard_zoo.models.pinet.pinet_image_classifier_preprocessor import (
    PiNetImageClassifierPreprocessor,
)
from hadamard_zoo.models.pinet.pinet_image_converter import PiNetImageConverter
