"""Model families, keras-hub style: Backbone, Task, preprocessor, presets.

Importing this package registers every model class with Keras, so
`keras_hub.models.ImageClassifier.from_preset(...)` resolves their names.

- `pinet`: Π-Nets (CCP, NCP, product of polynomials) image classifiers.
"""

from hadamard_zoo.models.pinet import PiNetBackbone
from hadamard_zoo.models.pinet import PiNetImageClassifier
from hadamard_zoo.models.pinet import PiNetImageClassifierPreprocessor
from hadamard_zoo.models.pinet import PiNetImageConverter
