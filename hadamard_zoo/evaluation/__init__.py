"""Evaluation protocols that Keras metrics do not cover.

Filtered ranking of knowledge-graph link prediction (MRR, MR, Hits@k, with
PyKEEN's optimistic / pessimistic / realistic ranks) and average precision
(the AUC-PR of the Countries tasks). NumPy on the host: the model only
supplies scores.
"""

from hadamard_zoo.evaluation.average_precision import average_precision
from hadamard_zoo.evaluation.link_prediction import FilterIndex
from hadamard_zoo.evaluation.link_prediction import countries_auc_pr
from hadamard_zoo.evaluation.link_prediction import evaluate_link_prediction
from hadamard_zoo.evaluation.link_prediction import filtered_ranks
from hadamard_zoo.evaluation.link_prediction import summarize_ranks

__all__ = [
    "FilterIndex",
    "average_precision",
    "countries_auc_pr",
    "evaluate_link_prediction",
    "filtered_ranks",
    "summarize_ranks",
]
