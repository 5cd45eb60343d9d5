"""Offline-first dataset loaders.

Each loader looks for its files in `data_dir`, then
`$HADAMARD_ZOO_DATA/<dataset>/`, then the Keras cache
(`~/.keras/datasets/hadamard_zoo/<dataset>/`), downloads them into the
cache when missing, and checks every file's sha256 digest. `fetch` and
`RemoteFile` are the generic machinery the loaders are built on.
"""

from hadamard_zoo.datasets.files import DatasetNotFoundError
from hadamard_zoo.datasets.files import RemoteFile
from hadamard_zoo.datasets.files import fetch
from hadamard_zoo.datasets.knowledge_graph import KNOWLEDGE_GRAPHS
from hadamard_zoo.datasets.knowledge_graph import KnowledgeGraph
from hadamard_zoo.datasets.knowledge_graph import load_knowledge_graph
from hadamard_zoo.datasets.knowledge_graph import read_knowledge_graph
from hadamard_zoo.datasets.knowledge_graph import read_triples
from hadamard_zoo.datasets.mnist import FASHION_MNIST_CLASS_NAMES
from hadamard_zoo.datasets.mnist import MNIST_CLASS_NAMES
from hadamard_zoo.datasets.mnist import load_fashion_mnist
from hadamard_zoo.datasets.mnist import load_mnist
from hadamard_zoo.datasets.sst2 import SST2_CLASS_NAMES
from hadamard_zoo.datasets.sst2 import load_sst2
from hadamard_zoo.datasets.sst2 import read_sst2_tsv
from hadamard_zoo.datasets.text_corpora import PTB_EOS
from hadamard_zoo.datasets.text_corpora import load_ptb
from hadamard_zoo.datasets.text_corpora import load_tiny_shakespeare
from hadamard_zoo.datasets.vocabulary import build_vocabulary
from hadamard_zoo.datasets.vocabulary import split_words

__all__ = [
    "DatasetNotFoundError",
    "FASHION_MNIST_CLASS_NAMES",
    "KNOWLEDGE_GRAPHS",
    "KnowledgeGraph",
    "MNIST_CLASS_NAMES",
    "PTB_EOS",
    "RemoteFile",
    "SST2_CLASS_NAMES",
    "build_vocabulary",
    "fetch",
    "load_fashion_mnist",
    "load_knowledge_graph",
    "load_mnist",
    "load_ptb",
    "load_sst2",
    "load_tiny_shakespeare",
    "read_knowledge_graph",
    "read_sst2_tsv",
    "read_triples",
    "split_words",
]
