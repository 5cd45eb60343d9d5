"""Entity and relation names of a knowledge graph, saved with a preset."""

import difflib
import os

import keras
import numpy as np
from keras_hub.tokenizers import Tokenizer

from hadamard_zoo.datasets.knowledge_graph import read_dictionary
from hadamard_zoo.models.kge.kge_backbone import KnowledgeGraphEmbeddingBackbone
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.atomic import atomic_path

ENTITIES_FILE = "entities.dict"
RELATIONS_FILE = "relations.dict"
KINDS = ("entity", "relation")


def _check_names(name, names):
    if names is None:
        return None
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError(
            f"`{name}` must be a list of strings (the names by id). "
            f"Received: {type(names).__name__}."
        )
    names = tuple(names)
    if len(set(names)) != len(names):
        seen, repeated = set(), []
        for n in names:
            if n in seen:
                repeated.append(n)
            seen.add(n)
        raise ValueError(
            f"`{name}` must hold distinct names. Repeated: {repeated[:5]}."
        )
    return names


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class KnowledgeGraphVocabulary(PresetNameMixin, Tokenizer):
    """Maps entity and relation names to the ids of the embeddings.

    A keras-hub `Tokenizer` whose vocabulary is two lists of names: like
    any tokenizer's, it is a preset asset, written by `save_to_preset` as
    RotatE's `assets/tokenizer/entities.dict` and `relations.dict`
    (`id<TAB>name` lines) and read back by `from_preset`.

    `tokenize` maps entity names to ids and `detokenize` ids to names;
    `relation_id` / `relation_name` do the same for relations. An unknown
    name raises a `ValueError` that lists the closest known names.

    Args:
        entities: list of entity names, by id (or `None`, then loaded
            from a preset's assets).
        relations: list of relation names, by id.

    Example:

    >>> vocabulary = KnowledgeGraphVocabulary(
    ...     entities=["paris", "france", "lyon"], relations=["capital_of"]
    ... )
    >>> vocabulary.tokenize(["lyon", "paris"]).tolist()
    [2, 0]
    >>> vocabulary.relation_id("capital_of")
    0
    >>> vocabulary.detokenize([1])
    ['france']

    Reference:
        Sun et al., "RotatE: Knowledge Graph Embedding by Relational
        Rotation in Complex Space", ICLR 2019 (the `*.dict` file format of
        its code).
    """

    def __init__(self, entities=None, relations=None, **kwargs):
        super().__init__(**kwargs)
        self.file_assets = [ENTITIES_FILE, RELATIONS_FILE]
        self.set_vocabulary(entities, relations)

    def set_vocabulary(self, entities, relations):
        """Sets both name lists (by id)."""
        self.entities = _check_names("entities", entities)
        self.relations = _check_names("relations", relations)
        self._ids = {
            "entity": {n: i for i, n in enumerate(self.entities or ())},
            "relation": {n: i for i, n in enumerate(self.relations or ())},
        }

    def save_assets(self, dir_path):
        for filename, names in (
            (ENTITIES_FILE, self.entities),
            (RELATIONS_FILE, self.relations),
        ):
            with atomic_path(os.path.join(dir_path, filename)) as tmp:
                with open(tmp, "w", encoding="utf-8") as file:
                    file.writelines(f"{i}\t{n}\n" for i, n in enumerate(names))

    def load_assets(self, dir_path):
        self.set_vocabulary(
            read_dictionary(os.path.join(dir_path, ENTITIES_FILE)),
            read_dictionary(os.path.join(dir_path, RELATIONS_FILE)),
        )

    def _lookup(self, kind, name):
        ids = self._ids[kind]
        if not ids:
            raise ValueError(
                f"This vocabulary has no {kind} names yet: pass them to "
                "the constructor or load a preset."
            )
        if name in ids:
            return ids[name]
        close = difflib.get_close_matches(str(name), list(ids), n=5)
        hint = (
            f" Closest known names: {', '.join(map(repr, close))}."
            if close
            else " No known name is close."
        )
        raise ValueError(f"Unknown {kind} name {name!r}.{hint}")

    def entity_id(self, name):
        """The id of entity `name`."""
        return self._lookup("entity", name)

    def relation_id(self, name):
        """The id of relation `name`."""
        return self._lookup("relation", name)

    def entity_name(self, entity_id):
        """The name of entity `entity_id`."""
        return self.entities[int(entity_id)]

    def relation_name(self, relation_id):
        """The name of relation `relation_id`."""
        return self.relations[int(relation_id)]

    def tokenize(self, inputs):
        """Entity names (a str or a list of str) to an int32 id array."""
        if isinstance(inputs, str):
            return np.int32(self.entity_id(inputs))
        return np.array([self.entity_id(n) for n in inputs], "int32")

    def detokenize(self, inputs):
        """Entity ids to their names."""
        ids = np.asarray(inputs)
        if ids.ndim == 0:
            return self.entity_name(ids)
        return [self.entity_name(i) for i in ids.ravel()]

    def vocabulary_size(self):
        return len(self.entities or ())

    def get_vocabulary(self):
        return list(self.entities or ())

    def id_to_token(self, id):
        return self.entity_name(id)

    def token_to_id(self, token):
        return self.entity_id(token)

    def get_config(self):
        config = super().get_config()
        # The names are assets (entities.dict, relations.dict), not config:
        # FB15k-237's 14,541 names would bloat tokenizer.json.
        config.update({"entities": None, "relations": None})
        return config

    @classmethod
    def from_knowledge_graph(cls, graph, **kwargs):
        """The vocabulary of a `hadamard_zoo.datasets.KnowledgeGraph`."""
        return cls(
            entities=list(graph.entities),
            relations=list(graph.relations),
            **kwargs,
        )


KnowledgeGraphVocabulary.backbone_cls = KnowledgeGraphEmbeddingBackbone
