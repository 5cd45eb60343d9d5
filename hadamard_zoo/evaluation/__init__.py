"""Evaluation protocols that Keras metrics do not cover.

Filtered ranking of knowledge-graph link prediction (MRR, MR, Hits@k, with
PyKEEN's optimistic / pessimistic / realistic ranks) and average precision
(the AUC-PR of the Countries tasks). NumPy on the host: the model only
supplies scores.

The Fréchet distance between feature statistics, with the features of this
project's own image classifier presets (`classifier_fid`): a quality score
for generated images comparable between models measured the same way, not
the Inception FID of the literature.
"""

from hadamard_zoo.evaluation.average_precision import average_precision
from hadamard_zoo.evaluation.fid import classifier_feature_model
from hadamard_zoo.evaluation.fid import classifier_features
from hadamard_zoo.evaluation.fid import classifier_features_and_logits
from hadamard_zoo.evaluation.fid import classifier_fid
from hadamard_zoo.evaluation.fid import feature_statistics
from hadamard_zoo.evaluation.fid import frechet_distance
from hadamard_zoo.evaluation.fid import real_vs_real_floor
from hadamard_zoo.evaluation.fid import to_classifier_images
from hadamard_zoo.evaluation.link_prediction import FilterIndex
from hadamard_zoo.evaluation.link_prediction import countries_auc_pr
from hadamard_zoo.evaluation.link_prediction import evaluate_link_prediction
from hadamard_zoo.evaluation.link_prediction import filtered_ranks
from hadamard_zoo.evaluation.link_prediction import summarize_ranks

__all__ = [
    "FilterIndex",
    "average_precision",
    "classifier_feature_model",
    "classifier_features",
    "classifier_features_and_logits",
    "classifier_fid",
    "countries_auc_pr",
    "evaluate_link_prediction",
    "feature_statistics",
    "filtered_ranks",
    "frechet_distance",
    "real_vs_real_floor",
    "summarize_ranks",
    "to_classifier_images",
]
