"""Model families, keras-hub style: Backbone, Task, preprocessor, presets.

Importing this package registers every model class with Keras, so
`keras_hub.models.ImageClassifier.from_preset(...)` resolves their names.

- `kge`: knowledge-graph embeddings (RotatE and friends) for link
  prediction.
- `monet`: MONet (Multilinear Operator Networks) image classifiers.
- `pinet`: Π-Nets (CCP, NCP, product of polynomials) image classifiers.
- `rnn_lm`: recurrent word-level language models (LSTM, GRU, MGU,
  Li-GRU, HGRN) with generation and carried states.
- `stylegan`: a StyleGAN-like generator (mapping network, modulated
  convolutions, truncation, style mixing), its ResNet discriminator and a
  DCGAN baseline of similar size.
- `spade`: the SPADE generator (semantic label map → image) and a
  multi-scale PatchGAN discriminator.
- `polysa_transformer`: transformers whose token mixer is Poly-SA (or,
  one flag apart, multi-head attention): text and patch-image classifiers.
"""

from hadamard_zoo.models.kge import KnowledgeGraphEmbeddingBackbone
from hadamard_zoo.models.kge import KnowledgeGraphLinkPredictor
from hadamard_zoo.models.kge import SelfAdversarialNegativeSamplingLoss
from hadamard_zoo.models.monet import MONET_VARIANTS
from hadamard_zoo.models.monet import MONetBackbone
from hadamard_zoo.models.monet import MONetImageClassifier
from hadamard_zoo.models.monet import MONetImageClassifierPreprocessor
from hadamard_zoo.models.monet import MONetImageConverter
from hadamard_zoo.models.pinet import PiNetBackbone
from hadamard_zoo.models.pinet import PiNetImageClassifier
from hadamard_zoo.models.pinet import PiNetImageClassifierPreprocessor
from hadamard_zoo.models.pinet import PiNetImageConverter
from hadamard_zoo.models.polysa_transformer import PolySAImageBackbone
from hadamard_zoo.models.polysa_transformer import PolySAImageClassifier
from hadamard_zoo.models.polysa_transformer import (
    PolySAImageClassifierPreprocessor,
)
from hadamard_zoo.models.polysa_transformer import PolySAImageConverter
from hadamard_zoo.models.polysa_transformer import PolySATextClassifier
from hadamard_zoo.models.polysa_transformer import (
    PolySATextClassifierPreprocessor,
)
from hadamard_zoo.models.polysa_transformer import PolySATokenizer
from hadamard_zoo.models.polysa_transformer import PolySATransformerBackbone
from hadamard_zoo.models.rnn_lm import RNNLMBackbone
from hadamard_zoo.models.rnn_lm import RNNLMCausalLM
from hadamard_zoo.models.rnn_lm import RNNLMCausalLMPreprocessor
from hadamard_zoo.models.rnn_lm import RNNLMTokenizer
from hadamard_zoo.models.rnn_lm import StatefulHGRN
from hadamard_zoo.models.rnn_lm import StatefulRNN
from hadamard_zoo.models.spade import PatchGANDiscriminator
from hadamard_zoo.models.spade import SPADEGenerator
from hadamard_zoo.models.stylegan import DCGANDiscriminator
from hadamard_zoo.models.stylegan import DCGANGenerator
from hadamard_zoo.models.stylegan import StyleGANDiscriminator
from hadamard_zoo.models.stylegan import StyleGANGenerator
