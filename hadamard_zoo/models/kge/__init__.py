"""Knowledge-graph embeddings (RotatE, TransE, DistMult, ComplEx)."""

from hadamard_zoo.models.kge.kge_backbone import SCORING_FUNCTIONS
from hadamard_zoo.models.kge.kge_backbone import KnowledgeGraphEmbeddingBackbone
from hadamard_zoo.models.kge.kge_link_predictor import (
    KnowledgeGraphLinkPredictor,
)
from hadamard_zoo.models.kge.kge_link_predictor_preprocessor import (
    KnowledgeGraphLinkPredictorPreprocessor,
)
from hadamard_zoo.models.kge.kge_loss import SelfAdversarialNegativeSamplingLoss
from hadamard_zoo.models.kge.kge_vocabulary import KnowledgeGraphVocabulary
