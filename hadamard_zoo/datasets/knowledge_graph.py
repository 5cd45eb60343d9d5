"""Knowledge graphs in the RotatE directory layout, offline first.

A knowledge graph is a set of `(head, relation, tail)` triples over named
entities and relations. The RotatE authors' layout (GitHub
`DeepGraphLearning/KnowledgeGraphEmbedding`, `data/<dataset>/`) is one
directory holding:

- `entities.dict`, `relations.dict`: `id<TAB>name` lines, ids `0..n-1`;
- `train.txt`, `valid.txt`, `test.txt`: `head<TAB>relation<TAB>tail` lines
  of names;
- for the Countries datasets, `regions.list`: the candidate answers of the
  `locatedin` queries, one entity name a line.

The ConvE releases of Nations, Kinship and UMLS have only the three split
files; their dictionaries are built here, with ids given in sorted
(Python `sorted`) order of the names over all splits.

As in RotatE's reader, each line is stripped of surrounding whitespace
(which also drops the `\\r` of CRLF files, as FB15k-237's `train.txt` has)
and split on tabs; blank lines are skipped. Files are UTF-8.

`load_knowledge_graph` finds the files with `hadamard_zoo.datasets.fetch`
(`data_dir`, `$HADAMARD_ZOO_DATA/<directory>/`, the Keras cache, then a
download) and checks their sha256 digests; `read_knowledge_graph` reads
any directory in this layout without digests.
"""

import dataclasses
import difflib
import itertools
import operator
import os

import numpy as np

from hadamard_zoo.datasets.files import RemoteFile
from hadamard_zoo.datasets.files import fetch
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice

SPLITS = ("train", "valid", "test")
ENTITIES_FILE = "entities.dict"
RELATIONS_FILE = "relations.dict"
REGIONS_FILE = "regions.list"
_TRIPLE_FIELDS = ("head", "relation", "tail")
_DICT_FIELDS = ("id", "name")

# Pinned to the commit whose files shared/data holds (see its SOURCE.md),
# then the moving branch as a mirror: the digests decide which is right.
_ROTATE_URLS = (
    "https://raw.githubusercontent.com/DeepGraphLearning/"
    "KnowledgeGraphEmbedding/2e440e0f9c687314d5ff67ead68ce985dc446e3a/data/",
    "https://raw.githubusercontent.com/DeepGraphLearning/"
    "KnowledgeGraphEmbedding/master/data/",
)
# ConvE ships Nations, Kinship and UMLS only inside tarballs; PyKEEN's
# repository holds the same three split files byte for byte, as plain files.
_PYKEEN_URLS = (
    "https://raw.githubusercontent.com/pykeen/pykeen/v1.11.1/"
    "src/pykeen/datasets/",
    "https://raw.githubusercontent.com/pykeen/pykeen/master/"
    "src/pykeen/datasets/",
)


# Digests of shared/data/<directory>/ (listed in each SOURCE.md), every
# file byte-identical to its upstream. Nations, Kinship and UMLS pin only
# their split files: the `*.dict` files in shared/data were generated
# locally, not published, so the loader builds the dictionaries instead.
_SHA256 = {
    "wn18rr": {
        "entities.dict": (
            "3dc41455a835d7523b68a2d449a8ae9429ba8cf8be7db7e29b4cbadf6fbc092f"
        ),
        "relations.dict": (
            "0cf033f5ea243c938d86e8e5e89b43676df040b9196ce495b92382e54ad59916"
        ),
        "train.txt": (
            "038612e783c215ee5f3ca9fbfca27b8d0739be1028fe4ee7c174aecf0b83d5df"
        ),
        "valid.txt": (
            "453ce7202afa58094a04d2b1560ee2b02660f1c260b32ce6651c8ccedd1028ab"
        ),
        "test.txt": (
            "0383bceaaa1096cf3c03ec021ed0048068e2355dbfc0239b292cefdac821cec5"
        ),
    },
    "fb15k237": {
        "entities.dict": (
            "55666c4fb9c2990ef809e41d3a0023503b1f927fd00a1c947f21a805608f50ac"
        ),
        "relations.dict": (
            "e98ebcc621a217ca80d44992cdf0ef5f0eb355ff9aff0ba1a3e939f6ca8fb095"
        ),
        "train.txt": (
            "6e4c2782169af21e9743f3b1d200886f5d595bf6bc504ec1351720949c5cdfae"
        ),
        "valid.txt": (
            "cf6309010852f6a8d47a45df830a426415d1ee6f7a3970a8376ff1fb81db4a5c"
        ),
        "test.txt": (
            "5711cf41623ceb4eacc50eb6108a3ca6565c7492e3caaf82a3e355cc660d1574"
        ),
    },
    "countries_s1": {
        "entities.dict": (
            "885f763906da5592aa03d67243f6244ba5c4e54145c4312d06a6aec08af21fd4"
        ),
        "relations.dict": (
            "dfaed2f46b0d485ed672c62e7a6629724ad72812d99db1ffc7fc4434be7b733e"
        ),
        "train.txt": (
            "5256bf3fc4181d7e87d819571e3acfa5425fc5af365b9ebe5c113740534ca561"
        ),
        "valid.txt": (
            "f4b27648148a44f87e627140ec3a02ca4c884c32d348591147ca72f1d6fff5b0"
        ),
        "test.txt": (
            "262ca5ae5ed3aa1927026e0f258cc52b10830185b93465b93b9360727e719158"
        ),
        "regions.list": (
            "0d81ea3e5c46224305813ab07bb3f0038c30ee903bec74fee668f976f5311663"
        ),
    },
    "countries_s2": {
        "entities.dict": (
            "d62d8a54b7ee43fb2292add5dc0f450c296f1a9f642de1b6ad6e2cc9dec505c4"
        ),
        "relations.dict": (
            "dfaed2f46b0d485ed672c62e7a6629724ad72812d99db1ffc7fc4434be7b733e"
        ),
        "train.txt": (
            "84c8f310fa076f902760f0909716b13bc0853a105ab9e0145e4e5135d855f68a"
        ),
        "valid.txt": (
            "f4b27648148a44f87e627140ec3a02ca4c884c32d348591147ca72f1d6fff5b0"
        ),
        "test.txt": (
            "262ca5ae5ed3aa1927026e0f258cc52b10830185b93465b93b9360727e719158"
        ),
        "regions.list": (
            "0d81ea3e5c46224305813ab07bb3f0038c30ee903bec74fee668f976f5311663"
        ),
    },
    "countries_s3": {
        "entities.dict": (
            "ffe66d57635b59d81597b29d3fd7a78e2191f4a3c1d1a1d40616c9703b98694e"
        ),
        "relations.dict": (
            "956e0b366f262cebb6759b9ecd5cabe1ee0884ae401f89bb3ad1c7781887ed74"
        ),
        "train.txt": (
            "80a8e3a26aff58b78fd5a453ec2a37591466bad621df8d05185f26763b663a0c"
        ),
        "valid.txt": (
            "f4b27648148a44f87e627140ec3a02ca4c884c32d348591147ca72f1d6fff5b0"
        ),
        "test.txt": (
            "262ca5ae5ed3aa1927026e0f258cc52b10830185b93465b93b9360727e719158"
        ),
        "regions.list": (
            "0d81ea3e5c46224305813ab07bb3f0038c30ee903bec74fee668f976f5311663"
        ),
    },
    "nations": {
        "train.txt": (
            "0830fa9da8e5bba2ccdaa45b7bdc9130451ba66b09ff2708f35fccaf82473e57"
        ),
        "valid.txt": (
            "2b337a62e51a2f45c283eac98a70d21b7e0e102136be1539b2a52c652a7b0530"
        ),
        "test.txt": (
            "3971085165b47b6aeaec68058c6d8d98b3005e929db81268410b95ae4db770ab"
        ),
    },
    "kinship": {
        "train.txt": (
            "738612111a6acf0e39662bde24c7e72a4d1edf20931beea077da367dda689731"
        ),
        "valid.txt": (
            "c56f8630a583178b1e569f11a64aa535ae1ce0b0912d8b1e24716be2b37f04da"
        ),
        "test.txt": (
            "05e5733265761d55be9c05bfaff5a8d0808df46f9c1e9d66cc3f2fe114e43d88"
        ),
    },
    "umls": {
        "train.txt": (
            "873ef4925516b83e7f6f8cc02b4be51d848828710a7f65a956f0ac4a9e452f35"
        ),
        "valid.txt": (
            "025c98f8a4891e2a6582ec5b40ee0d904031edad9c52554522f4b7904820c98e"
        ),
        "test.txt": (
            "a7eb529a3d2810fcc96341ccc97c625a5e202f8389673aa6bd317eeebbb79014"
        ),
    },
}
# name -> (directory on disk, directory under the base URLs, base URLs).
_LOCATIONS = {
    "wn18rr": ("wn18rr", "wn18rr", _ROTATE_URLS),
    "fb15k237": ("fb15k-237", "FB15k-237", _ROTATE_URLS),
    "countries_s1": ("countries_S1", "countries_S1", _ROTATE_URLS),
    "countries_s2": ("countries_S2", "countries_S2", _ROTATE_URLS),
    "countries_s3": ("countries_S3", "countries_S3", _ROTATE_URLS),
    "nations": ("nations", "nations", _PYKEEN_URLS),
    "kinship": ("kinship", "kinships", _PYKEEN_URLS),
    "umls": ("umls", "umls", _PYKEEN_URLS),
}


def _remote_files(name):
    _, remote_directory, base_urls = _LOCATIONS[name]
    return tuple(
        RemoteFile(
            file,
            digest,
            tuple(f"{b}{remote_directory}/{file}" for b in base_urls),
        )
        for file, digest in _SHA256[name].items()
    )


KNOWLEDGE_GRAPHS = tuple(_LOCATIONS)
# The files `load_knowledge_graph` fetches, per dataset name.
KNOWLEDGE_GRAPH_FILES = {name: _remote_files(name) for name in KNOWLEDGE_GRAPHS}
_ALIASES = {"fb15k-237": "fb15k237"}


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class KnowledgeGraph:
    """A knowledge graph: named entities and relations, and id triples.

    Each split is an int32 array of shape `(n, 3)` whose rows are
    `(head, relation, tail)` ids: `entities[h]` is the head's name,
    `relations[r]` the relation's, and `entity_ids[name]` maps back. The
    inputs are checked and the splits converted to int32; `entity_ids` and
    `relation_ids` are derived from `entities` and `relations`.

    Args:
        name: str, the dataset name.
        entities: sequence of distinct str, the entity names by id.
        relations: sequence of distinct str, the relation names by id.
        train: integer array-like of shape `(n, 3)`, training triples.
        valid: integer array-like of shape `(n, 3)`, validation triples.
        test: integer array-like of shape `(n, 3)`, test triples.
        regions: optional 1-D integer array-like of entity ids, the
            candidate answers of the Countries `locatedin` queries.
            Defaults to `None`.

    Attributes:
        entity_ids: dict, entity name -> id.
        relation_ids: dict, relation name -> id.
        num_entities: int, the number of entities.
        num_relations: int, the number of relations.

    Raises:
        ValueError: if names repeat, a split has the wrong shape or a
            non-integer dtype, or an id is out of range.

    Example:

    >>> kg = KnowledgeGraph(
    ...     "toy", ["a", "b"], ["likes"], [[0, 0, 1]], [[1, 0, 0]], [[0, 0, 0]]
    ... )
    >>> kg
    KnowledgeGraph(name='toy', entities=2, relations=1, train=1, valid=1, \
test=1)
    >>> kg.entity_ids["b"], kg.train.dtype
    (1, dtype('int32'))
    >>> kg.all_true_triples().tolist()
    [[0, 0, 1], [1, 0, 0], [0, 0, 0]]

    Reference:
        Sun, Deng, Nie and Tang, "RotatE: Knowledge Graph Embedding by
        Relational Rotation in Complex Space", ICLR 2019.
    """

    name: str
    entities: tuple
    relations: tuple
    entity_ids: dict = dataclasses.field(init=False)
    relation_ids: dict = dataclasses.field(init=False)
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    regions: np.ndarray = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(
                f"`name` must be a non-empty str. Received: name={self.name!r}."
            )
        # Frozen: the checked, normalised values go in once, here.
        for field, ids_field in (
            ("entities", "entity_ids"),
            ("relations", "relation_ids"),
        ):
            names = _check_names(field, getattr(self, field))
            object.__setattr__(self, field, names)
            ids = {n: i for i, n in enumerate(names)}
            object.__setattr__(self, ids_field, ids)
        for split in SPLITS:
            array = self._check_triples(split, getattr(self, split))
            object.__setattr__(self, split, array)
        if self.regions is not None:
            regions = self._check_regions(self.regions)
            object.__setattr__(self, "regions", regions)

    @property
    def num_entities(self):
        return len(self.entities)

    @property
    def num_relations(self):
        return len(self.relations)

    def all_true_triples(self):
        """Returns train, valid and test stacked, for filtered ranking.

        Filtered evaluation (Bordes et al. 2013) ranks a test triple only
        against corrupted triples that are in none of the splits.

        Returns:
            An int32 array of shape `(n_train + n_valid + n_test, 3)`.
        """
        return np.concatenate([self.train, self.valid, self.test])

    def __repr__(self):
        return (
            f"KnowledgeGraph(name={self.name!r}, entities="
            f"{self.num_entities}, relations={self.num_relations}, train="
            f"{len(self.train)}, valid={len(self.valid)}, test="
            f"{len(self.test)}"
            + ("" if self.regions is None else f", regions={len(self.regions)}")
            + ")"
        )

    def _check_triples(self, split, value):
        array = np.asarray(value)
        if array.size == 0:
            array = array.reshape(-1, 3) if array.ndim < 2 else array
        if array.ndim != 2 or array.shape[1] != 3:
            raise ValueError(
                f"`{split}` must have shape (n, 3), rows (head, relation, "
                f"tail). Received: {split} with shape {array.shape}."
            )
        _check_integer(split, array)
        for column, bound, what in (
            (0, self.num_entities, "head entity"),
            (1, self.num_relations, "relation"),
            (2, self.num_entities, "tail entity"),
        ):
            _check_range(split, array[:, column], bound, what)
        return np.ascontiguousarray(array, dtype=np.int32)

    def _check_regions(self, value):
        array = np.asarray(value)
        if array.ndim != 1:
            raise ValueError(
                "`regions` must be a 1-D array of entity ids. Received: "
                f"regions with shape {array.shape}."
            )
        _check_integer("regions", array)
        _check_range("regions", array, self.num_entities, "entity")
        return np.ascontiguousarray(array, dtype=np.int32)


def load_knowledge_graph(name, data_dir=None, download=True):
    """Loads a knowledge graph benchmark as id triples, offline first.

    The RotatE-layout files (see `hadamard_zoo.datasets.knowledge_graph`)
    are looked for in `data_dir` (itself, then `data_dir/<directory>/`),
    `$HADAMARD_ZOO_DATA/<directory>/` and the Keras cache
    `~/.keras/datasets/hadamard_zoo/<directory>/`, and downloaded into the
    cache when missing (see `hadamard_zoo.datasets.fetch`); their sha256
    digests are checked. The datasets, with their directory names:

    | name | directory | entities, relations | train / valid / test |
    |---|---|---|---|
    | `"wn18rr"` | `wn18rr` | 40943, 11 | 86835 / 3034 / 3134 |
    | `"fb15k237"` | `fb15k-237` | 14541, 237 | 272115 / 17535 / 20466 |
    | `"countries_s1"` | `countries_S1` | 271, 2 | 1111 / 24 / 24 |
    | `"countries_s2"` | `countries_S2` | 271, 2 | 1063 / 24 / 24 |
    | `"countries_s3"` | `countries_S3` | 271, 2 | 985 / 24 / 24 |
    | `"nations"` | `nations` | 14, 55 | 1592 / 199 / 201 |
    | `"kinship"` | `kinship` | 104, 25 | 8544 / 1068 / 1074 |
    | `"umls"` | `umls` | 135, 46 | 5216 / 652 / 661 |

    WN18RR, FB15k-237 and Countries come from the RotatE repository with
    its dictionaries, so ids match RotatE's; Countries also has `regions`
    (5 regions). Nations, Kinship and UMLS are ConvE's split files, whose
    dictionaries are built from the sorted names (`*.dict` files next to
    them are not read). Names are case-insensitive; `"fb15k-237"` is
    accepted for `"fb15k237"`.

    Args:
        name: str, one of `KNOWLEDGE_GRAPHS` (the first column above).
        data_dir: optional directory searched first, either holding the
            files or holding `<directory>/`. Defaults to `None`.
        download: bool, whether to download missing files. Defaults to
            `True`.

    Returns:
        A `KnowledgeGraph`.

    Raises:
        ValueError: if `name` is unknown, a file's checksum does not match
            or a file is malformed (the message names the file and line).
        DatasetNotFoundError: if a file is missing and cannot be downloaded.

    Example:

    >>> kg = load_knowledge_graph("countries_s1")  # $HADAMARD_ZOO_DATA/
    >>> kg
    KnowledgeGraph(name='countries_s1', entities=271, relations=2, \
train=1111, valid=24, test=24, regions=5)
    >>> h, r, t = kg.test[0]
    >>> kg.entities[h], kg.relations[r], kg.entities[t]
    ('zambia', 'locatedin', 'africa')
    >>> [kg.entities[i] for i in kg.regions]
    ['oceania', 'asia', 'europe', 'africa', 'americas']

    Reference:
        Sun, Deng, Nie and Tang, "RotatE: Knowledge Graph Embedding by
        Relational Rotation in Complex Space", ICLR 2019; Dettmers,
        Minervini, Stenetorp and Riedel, "Convolutional 2D Knowledge Graph
        Embeddings", AAAI 2018 (WN18RR, and the Nations, Kinship and UMLS
        splits); Toutanova and Chen, "Observed versus latent features for
        knowledge base and text inference", CVSC 2015 (FB15k-237);
        Bouchard, Singh and Trouillon, "On approximate reasoning
        capabilities of low-rank vector spaces", AAAI Spring Symposium
        2015 (Countries).
    """
    key = name.lower() if isinstance(name, str) else name
    key = _ALIASES.get(key, key)
    if key not in _LOCATIONS:
        check_choice("name", name, KNOWLEDGE_GRAPHS)
    check_bool("download", download)
    remotes = KNOWLEDGE_GRAPH_FILES[key]
    directory = _LOCATIONS[key][0]
    paths = fetch(directory, remotes, data_dir=data_dir, download=download)
    return _assemble(
        key, {r.name: p for r, p in zip(remotes, paths, strict=True)}
    )


def read_knowledge_graph(directory, name=None):
    """Reads a knowledge graph from a directory in the RotatE layout.

    No checksum is verified, so this reads any graph in the layout: the
    three split files are required; `entities.dict` and `relations.dict`
    are read when present (both or neither), else built with ids in sorted
    order of the names over all splits; `regions.list` is read when
    present.

    Args:
        directory: path (str or `os.PathLike`) of the directory.
        name: optional str, the graph's name. Defaults to `None` (the
            directory's base name).

    Returns:
        A `KnowledgeGraph`.

    Raises:
        ValueError: if only one dictionary file is present or a file is
            malformed (the message names the file and line).
        FileNotFoundError: if a split file is missing.

    Example:

    >>> import pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> triples = {"train": "b r a", "valid": "a r c", "test": "c r b"}
    >>> for split, triple in triples.items():
    ...     line = triple.replace(" ", "\\t") + "\\n"
    ...     _ = pathlib.Path(tmp.name, f"{split}.txt").write_text(line)
    >>> kg = read_knowledge_graph(tmp.name, name="toy")
    >>> kg.entities, kg.train.tolist()
    (('a', 'b', 'c'), [[1, 0, 0]])
    >>> tmp.cleanup()
    """
    directory = os.fspath(directory)
    if name is None:
        name = os.path.basename(os.path.normpath(directory))
    paths = {
        f"{split}.txt": os.path.join(directory, f"{split}.txt")
        for split in SPLITS
    }
    present = [
        f
        for f in (ENTITIES_FILE, RELATIONS_FILE, REGIONS_FILE)
        if os.path.isfile(os.path.join(directory, f))
    ]
    dicts = [f for f in present if f != REGIONS_FILE]
    if len(dicts) == 1:
        missing = RELATIONS_FILE if dicts == [ENTITIES_FILE] else ENTITIES_FILE
        raise ValueError(
            f"{directory} holds {dicts[0]} but not {missing}: give both "
            "dictionary files, or neither to build them from the sorted "
            "names of the splits."
        )
    paths.update({f: os.path.join(directory, f) for f in present})
    return _assemble(name, paths)


def read_dictionary(path):
    """Reads a RotatE `*.dict` file of `id<TAB>name` lines.

    The ids must be the integers `0..n-1`, each once, in any order, and the
    names distinct.

    Args:
        path: path (str or `os.PathLike`) of the file.

    Returns:
        A tuple of the `n` names, by id.

    Raises:
        ValueError: if a line does not have two tab-separated fields, an id
            is not a non-negative integer, an id or a name repeats, the ids
            are not `0..n-1` or the file is empty; the message names the
            file and the 1-based line.

    Example:

    >>> import pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name, "relations.dict")
    >>> _ = path.write_text("1\\tlocatedin\\n0\\tneighbor\\n")
    >>> read_dictionary(path)
    ('neighbor', 'locatedin')
    >>> tmp.cleanup()
    """
    path = os.fspath(path)
    (text_ids, names), numbers = _read_columns(path, _DICT_FIELDS, "entries")
    count = len(names)
    by_id, id_lines, name_lines = [None] * count, {}, {}
    for text_id, name, number in zip(text_ids, names, numbers, strict=True):
        if not (text_id.isascii() and text_id.isdigit()):
            raise _line_error(
                path, number, f"id {text_id!r} is not a non-negative integer"
            )
        index = int(text_id)
        if index in id_lines:
            raise _line_error(
                path,
                number,
                f"id {index} repeats (first on line {id_lines[index]})",
            )
        if name in name_lines:
            raise _line_error(
                path,
                number,
                f"name {name!r} repeats (first on line {name_lines[name]})",
            )
        if index >= count:
            raise _line_error(
                path,
                number,
                f"id {index} is out of range: the file has {count} entries, "
                f"so its ids must be 0..{count - 1}, each once",
            )
        id_lines[index] = name_lines[name] = number
        by_id[index] = name
    return tuple(by_id)


def read_triples(path, entity_ids, relation_ids):
    """Reads a `head<TAB>relation<TAB>tail` file of names into id triples.

    Args:
        path: path (str or `os.PathLike`) of the file.
        entity_ids: mapping, entity name -> id.
        relation_ids: mapping, relation name -> id.

    Returns:
        An int32 array of shape `(n, 3)`, rows `(head, relation, tail)` in
        file order (duplicates kept).

    Raises:
        ValueError: if a line does not have three tab-separated fields,
            names an unknown entity or relation (the message lists the
            closest known names), or the file holds no triple; the message
            names the file and the 1-based line.

    Example:

    >>> import pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name, "test.txt")
    >>> _ = path.write_text("oman\\tlocatedin\\tasia\\n")
    >>> read_triples(path, {"asia": 0, "oman": 1}, {"locatedin": 0})
    array([[1, 0, 0]], dtype=int32)
    >>> tmp.cleanup()
    """
    path = os.fspath(path)
    columns, numbers = _read_columns(path, _TRIPLE_FIELDS, "triples")
    return _to_ids(path, columns, numbers, entity_ids, relation_ids)


def _assemble(name, paths):
    """Builds a `KnowledgeGraph` from {file name: path}."""
    read = {}
    for split in SPLITS:
        path = os.fspath(paths[f"{split}.txt"])
        read[split] = (path,) + _read_columns(path, _TRIPLE_FIELDS, "triples")
    if ENTITIES_FILE in paths:
        entities = read_dictionary(paths[ENTITIES_FILE])
        relations = read_dictionary(paths[RELATIONS_FILE])
    else:
        entities, relations = set(), set()
        for _, (heads, rels, tails), _ in read.values():
            entities.update(heads, tails)
            relations.update(rels)
        entities, relations = tuple(sorted(entities)), tuple(sorted(relations))
    entity_ids = {n: i for i, n in enumerate(entities)}
    relation_ids = {n: i for i, n in enumerate(relations)}
    splits = {
        split: _to_ids(path, columns, numbers, entity_ids, relation_ids)
        for split, (path, columns, numbers) in read.items()
    }
    regions = None
    if REGIONS_FILE in paths:
        regions = _read_regions(os.fspath(paths[REGIONS_FILE]), entity_ids)
    return KnowledgeGraph(name, entities, relations, regions=regions, **splits)


def _read_columns(path, fields, what):
    """Returns (columns, line numbers) of a tab-separated file.

    `columns` holds one list per field, `numbers` the 1-based line number
    of each row. Blank lines are skipped; every other line must have
    `len(fields)` fields, and there must be at least one.
    """
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _line_error(
            path, data.count(b"\n", 0, e.start) + 1, f"not UTF-8 ({e.reason})"
        ) from None
    lines = [line.strip() for line in text.split("\n")]
    numbers = list(itertools.compress(range(1, len(lines) + 1), lines))
    if not numbers:
        raise ValueError(
            f"{path} holds no {what}: it is empty or blank. Expected lines "
            f"of {len(fields)} tab-separated fields: {', '.join(fields)}."
        )
    lines = list(filter(None, lines))
    # One split of the whole text instead of a list per line: it is several
    # times faster on FB15k-237 (272k lines), mostly by sparing the garbage
    # collector hundreds of thousands of small lists.
    tabs = list(map(operator.methodcaller("count", "\t"), lines))
    if tabs.count(len(fields) - 1) != len(lines):
        for line, count, number in zip(lines, tabs, numbers, strict=True):
            if count != len(fields) - 1:
                raise _line_error(
                    path,
                    number,
                    f"expected {len(fields)} tab-separated fields "
                    f"({', '.join(fields)}), found {count + 1}: {line!r}",
                )
    values = "\t".join(lines).split("\t")
    columns = [values[i :: len(fields)] for i in range(len(fields))]
    return columns, numbers


def _to_ids(path, columns, numbers, entity_ids, relation_ids):
    lookups = (entity_ids, relation_ids, entity_ids)
    try:
        ids = [
            np.fromiter(map(ids.__getitem__, column), np.int32, len(column))
            for ids, column in zip(lookups, columns, strict=True)
        ]
    except KeyError:
        # Rare: find the first offending line, in file order.
        for row, number in zip(
            zip(*columns, strict=True), numbers, strict=True
        ):
            for field, value, known in zip(
                _TRIPLE_FIELDS, row, lookups, strict=True
            ):
                if value not in known:
                    raise _unknown(path, number, field, value, known) from None
        raise
    return np.stack(ids, axis=1)


def _read_regions(path, entity_ids):
    (names,), numbers = _read_columns(path, ("region",), "regions")
    ids, seen = [], {}
    for name, number in zip(names, numbers, strict=True):
        if name not in entity_ids:
            raise _unknown(path, number, "region", name, entity_ids)
        if name in seen:
            raise _line_error(
                path,
                number,
                f"region {name!r} repeats (first on line {seen[name]})",
            )
        seen[name] = number
        ids.append(entity_ids[name])
    return np.asarray(ids, dtype=np.int32)


def _unknown(path, number, field, value, known):
    close = difflib.get_close_matches(value, known, n=3, cutoff=0.6)
    hint = (
        "closest known: " + ", ".join(repr(c) for c in close)
        if close
        else "no known name is close"
    )
    kind = "relation" if field == "relation" else "entity"
    return _line_error(
        path,
        number,
        f"unknown {kind} {value!r} (the {field}), not among the "
        f"{len(known)} known {kind} names; {hint}",
    )


def _line_error(path, number, what):
    return ValueError(f"{path}, line {number}: {what}.")


def _check_names(field, value):
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(
            f"`{field}` must be a list or tuple of str. Received: "
            f"{field}={value!r}."
        )
    names = tuple(value)
    if not all(isinstance(n, str) for n in names):
        raise ValueError(f"`{field}` must hold only str names.")
    if len(set(names)) != len(names):
        seen, repeated = set(), None
        for n in names:
            if n in seen:
                repeated = n
                break
            seen.add(n)
        raise ValueError(
            f"`{field}` must hold distinct names. Received: {repeated!r} "
            "more than once."
        )
    return names


def _check_integer(field, array):
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"`{field}` must hold integer ids. Received: dtype {array.dtype}."
        )


def _check_range(field, ids, bound, what):
    if ids.size and (ids.min() < 0 or ids.max() >= bound):
        bad = ids[(ids < 0) | (ids >= bound)][0]
        raise ValueError(
            f"`{field}` holds {what} id {bad}, out of range [0, {bound})."
        )
