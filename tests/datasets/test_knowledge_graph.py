"""Knowledge graph loader, on the real files of shared/data, with no network."""

import ast
import functools
import hashlib
import io
import os
import pathlib
import shutil
import time
import urllib.error

import numpy as np
import pytest

from hadamard_zoo.datasets import files
from hadamard_zoo.datasets import knowledge_graph
from hadamard_zoo.datasets.files import DatasetNotFoundError
from hadamard_zoo.datasets.knowledge_graph import KNOWLEDGE_GRAPH_FILES
from hadamard_zoo.datasets.knowledge_graph import KNOWLEDGE_GRAPHS
from hadamard_zoo.datasets.knowledge_graph import KnowledgeGraph
from hadamard_zoo.datasets.knowledge_graph import load_knowledge_graph
from hadamard_zoo.datasets.knowledge_graph import read_dictionary
from hadamard_zoo.datasets.knowledge_graph import read_knowledge_graph
from hadamard_zoo.datasets.knowledge_graph import read_triples

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = pathlib.Path(
    os.environ.get(files.ENV_VAR) or REPO.parent / "shared" / "data"
)
HAVE_DATA = all(
    (DATA / d).is_dir()
    for d in ("wn18rr", "fb15k-237", "countries_S1", "nations", "umls")
)
needs_data = pytest.mark.skipif(
    not HAVE_DATA,
    reason=f"no knowledge graph files under {DATA} (set {files.ENV_VAR})",
)

# From shared/data/README.md and each SOURCE.md: directory, entities,
# relations, train / valid / test triples, regions (None: no regions.list).
COUNTS = {
    "wn18rr": ("wn18rr", 40943, 11, 86835, 3034, 3134, None),
    "fb15k237": ("fb15k-237", 14541, 237, 272115, 17535, 20466, None),
    "countries_s1": ("countries_S1", 271, 2, 1111, 24, 24, 5),
    "countries_s2": ("countries_S2", 271, 2, 1063, 24, 24, 5),
    "countries_s3": ("countries_S3", 271, 2, 985, 24, 24, 5),
    "nations": ("nations", 14, 55, 1592, 199, 201, None),
    "kinship": ("kinship", 104, 25, 8544, 1068, 1074, None),
    "umls": ("umls", 135, 46, 5216, 652, 661, None),
}
SPLITS = ("train", "valid", "test")
REGIONS = ["oceania", "asia", "europe", "africa", "americas"]
ROTATE = (
    "https://raw.githubusercontent.com/DeepGraphLearning/"
    "KnowledgeGraphEmbedding/2e440e0f9c687314d5ff67ead68ce985dc446e3a/data/"
)
PYKEEN = (
    "https://raw.githubusercontent.com/pykeen/pykeen/v1.11.1/"
    "src/pykeen/datasets/"
)


class FakeResponse(io.BytesIO):
    headers = {}


class Opener:
    """Replaces `files._open_url`: serves bytes per URL, records calls."""

    def __init__(self):
        self.served = {}
        self.calls = []

    def __call__(self, url, timeout):
        self.calls.append(url)
        if url not in self.served:
            raise urllib.error.URLError("unreachable (test)")
        return FakeResponse(self.served[url])


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """$HADAMARD_ZOO_DATA set, an empty Keras cache, and no network."""
    monkeypatch.setenv(files.ENV_VAR, str(DATA))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    opener = Opener()
    monkeypatch.setattr(files, "_open_url", opener)
    return opener


@functools.cache
def loaded(name):
    """Each dataset parsed once per test session, from an explicit path."""
    return load_knowledge_graph(name, data_dir=DATA, download=False)


def raw_lines(path):
    """The fields of each line, read the plain way RotatE's loader does."""
    with open(path, encoding="utf-8") as f:
        return [line.strip().split("\t") for line in f]


def raw_dict(path):
    return {name: int(i) for i, name in raw_lines(path)}


def cache(tmp_path, directory):
    return tmp_path / "keras_home" / "datasets" / "hadamard_zoo" / directory


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def write_graph(directory, train, valid="a\tr\tb\n", test="b\tr\ta\n"):
    for split, text in zip(SPLITS, (train, valid, test), strict=True):
        write(directory / f"{split}.txt", text)
    return directory


# Real datasets.


@needs_data
@pytest.mark.parametrize("name", KNOWLEDGE_GRAPHS)
def test_counts(name):
    _, entities, relations, *sizes, regions = COUNTS[name]
    kg = loaded(name)
    assert kg.name == name
    assert (kg.num_entities, kg.num_relations) == (entities, relations)
    assert len(kg.entities) == len(kg.entity_ids) == entities
    assert len(kg.relations) == len(kg.relation_ids) == relations
    for split, size in zip(SPLITS, sizes, strict=True):
        triples = getattr(kg, split)
        assert triples.shape == (size, 3) and triples.dtype == np.int32
        assert triples[:, [0, 2]].max() < entities
        assert triples[:, 1].max() < relations and triples.min() >= 0
    if regions is None:
        assert kg.regions is None
    else:
        assert kg.regions.shape == (regions,) and kg.regions.dtype == np.int32
    everything = kg.all_true_triples()
    assert everything.shape == (sum(sizes), 3) and everything.dtype == np.int32
    np.testing.assert_array_equal(everything[: sizes[0]], kg.train)
    np.testing.assert_array_equal(everything[-sizes[2] :], kg.test)


@needs_data
@pytest.mark.parametrize("name", KNOWLEDGE_GRAPHS)
def test_ids_map_back_to_the_raw_lines(name):
    kg = loaded(name)
    directory = DATA / COUNTS[name][0]
    entity_ids = raw_dict(directory / "entities.dict")
    relation_ids = raw_dict(directory / "relations.dict")
    for split in SPLITS:
        text = (directory / f"{split}.txt").read_text(encoding="utf-8")
        lines = text.splitlines()
        triples = getattr(kg, split)
        assert len(lines) == len(triples)
        # Every line of the small graphs, about 3000 of each large split
        # (a list per line of FB15k-237 takes seconds to build and check).
        rows = range(0, len(lines), max(1, len(lines) // 3000))
        for i in [*rows, len(lines) - 1]:
            h, r, t = lines[i].strip().split("\t")
            expected = [entity_ids[h], relation_ids[r], entity_ids[t]]
            assert triples[i].tolist() == expected
            assert kg.entities[triples[i, 0]] == h
            assert kg.relations[triples[i, 1]] == r
            assert kg.entities[triples[i, 2]] == t


@needs_data
@pytest.mark.parametrize("name", KNOWLEDGE_GRAPHS)
def test_ids_are_those_of_the_dict_files(name):
    # RotatE's files define the ids; for Nations, Kinship and UMLS the
    # loader builds them (sorted names), as shared/data's dicts were made.
    kg = loaded(name)
    directory = DATA / COUNTS[name][0]
    assert kg.entity_ids == raw_dict(directory / "entities.dict")
    assert kg.relation_ids == raw_dict(directory / "relations.dict")
    if name in ("nations", "kinship", "umls"):
        assert list(kg.entities) == sorted(kg.entities)
        assert "entities.dict" not in {
            r.name for r in KNOWLEDGE_GRAPH_FILES[name]
        }
    else:
        # Not sorted: a loader that sorted RotatE's names would differ.
        assert list(kg.entities) != sorted(kg.entities)


@needs_data
@pytest.mark.parametrize(
    "name", ["countries_s1", "countries_s2", "countries_s3"]
)
def test_countries_queries_and_regions(name):
    kg = loaded(name)
    assert [kg.entities[i] for i in kg.regions] == REGIONS
    located_in = kg.relation_ids["locatedin"]
    for split in ("valid", "test"):
        triples = getattr(kg, split)
        assert (triples[:, 1] == located_in).all()
        assert set(triples[:, 2].tolist()) <= set(kg.regions.tolist())
    # The same names in every variant, but each with its own ids.
    s1 = loaded("countries_s1")
    assert set(kg.entities) == set(s1.entities)


@needs_data
def test_countries_variants_have_their_own_ids():
    s1, s3 = loaded("countries_s1"), loaded("countries_s3")
    assert s1.relations == ("neighbor", "locatedin")
    assert s3.relations == ("locatedin", "neighbor")
    # Same queries, different ids: names must go through each graph.
    names = [
        [g.entities[h], g.relations[r], g.entities[t]]
        for g in (s1, s3)
        for h, r, t in g.test[:1]
    ]
    assert names[0] == names[1]
    assert not np.array_equal(s1.test, s3.test)


@needs_data
def test_env_var_and_aliases(monkeypatch):
    kg = load_knowledge_graph("Countries_S2", download=False)
    np.testing.assert_array_equal(kg.train, loaded("countries_s2").train)
    assert kg.name == "countries_s2"
    # "fb15k-237" resolves to the fb15k-237/ directory (seen in the error).
    monkeypatch.setenv(files.ENV_VAR, "/nonexistent")
    for alias in ("fb15k-237", "FB15k-237", "FB15K237"):
        with pytest.raises(DatasetNotFoundError) as info:
            load_knowledge_graph(alias, download=False)
        assert info.value.dataset == "fb15k-237"
        assert "/nonexistent/fb15k-237" in str(info.value)


@needs_data
def test_fb15k237_is_fast():
    # Generous bound on a busy machine; a per-line Python path with a list
    # per line took several times longer than the column-wise one.
    start = time.perf_counter()
    load_knowledge_graph("fb15k237", data_dir=DATA, download=False)
    assert time.perf_counter() - start < 10


# Names and arguments.


def test_known_names():
    assert KNOWLEDGE_GRAPHS == tuple(COUNTS)
    assert set(KNOWLEDGE_GRAPH_FILES) == set(COUNTS)


@pytest.mark.parametrize("name", ["wn18", "fb15k", "", None, 3])
def test_unknown_name_lists_the_known_ones(name):
    with pytest.raises(ValueError, match="`name` must be one of") as info:
        load_knowledge_graph(name, download=False)
    for known in KNOWLEDGE_GRAPHS:
        assert repr(known) in str(info.value)
    assert f"Received: name={name!r}" in str(info.value)


def test_bad_download_flag():
    with pytest.raises(ValueError, match="download"):
        load_knowledge_graph("nations", download="no")


# Checksums, the search path and downloads (files.py's machinery).


@needs_data
def test_corrupt_copy_fails_the_checksum(tmp_path):
    copy = tmp_path / "countries_S1"
    shutil.copytree(DATA / "countries_S1", copy)
    data = bytearray((copy / "train.txt").read_bytes())
    data[200] ^= 0x01
    (copy / "train.txt").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256 checksum mismatch") as info:
        load_knowledge_graph("countries_s1", data_dir=copy, download=False)
    message = str(info.value)
    assert str(copy / "train.txt") in message
    assert hashlib.sha256(bytes(data)).hexdigest() in message
    expected = hashlib.sha256(
        (DATA / "countries_S1" / "train.txt").read_bytes()
    ).hexdigest()
    assert expected in message
    # data_dir as a root holding countries_S1/ finds the same damaged file.
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_knowledge_graph("countries_s1", data_dir=tmp_path, download=False)


@needs_data
def test_generated_dicts_are_not_needed(tmp_path):
    # ConvE's release of Nations: only the three split files.
    copy = tmp_path / "nations"
    copy.mkdir()
    for split in SPLITS:
        shutil.copy(DATA / "nations" / f"{split}.txt", copy)
    kg = load_knowledge_graph("nations", data_dir=copy, download=False)
    expected = loaded("nations")
    assert kg.entities == expected.entities
    assert kg.relations == expected.relations
    for split in SPLITS:
        np.testing.assert_array_equal(
            getattr(kg, split), getattr(expected, split)
        )


def test_missing_files_offline(tmp_path, monkeypatch, offline):
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "empty"))
    with pytest.raises(DatasetNotFoundError) as info:
        load_knowledge_graph(
            "countries_s1", data_dir=tmp_path / "nowhere", download=False
        )
    error, message = info.value, str(info.value)
    assert error.dataset == "countries_S1"
    assert set(error.missing) == {
        "entities.dict",
        "relations.dict",
        "train.txt",
        "valid.txt",
        "test.txt",
        "regions.list",
    }
    for directory in (
        tmp_path / "nowhere",
        tmp_path / "empty" / "countries_S1",
        cache(tmp_path, "countries_S1"),
    ):
        assert str(directory) in message
    assert ROTATE + "countries_S1/regions.list" in message
    assert offline.calls == []


@needs_data
@pytest.mark.parametrize(
    "name, base",
    [
        ("countries_s1", ROTATE + "countries_S1/"),
        ("kinship", PYKEEN + "kinships/"),
    ],
)
def test_download_into_the_cache(tmp_path, monkeypatch, offline, name, base):
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "empty"))
    directory = COUNTS[name][0]
    names = sorted(r.name for r in KNOWLEDGE_GRAPH_FILES[name])
    for file in names:
        offline.served[base + file] = (DATA / directory / file).read_bytes()
    kg = load_knowledge_graph(name)
    assert sorted(offline.calls) == sorted(base + f for f in names)
    assert sorted(os.listdir(cache(tmp_path, directory))) == names
    np.testing.assert_array_equal(
        kg.all_true_triples(), loaded(name).all_true_triples()
    )
    assert kg.entities == loaded(name).entities
    # Cached now: a second load downloads nothing.
    load_knowledge_graph(name)
    assert len(offline.calls) == len(names)


@needs_data
def test_wrong_download_falls_back_to_the_mirror(
    tmp_path, monkeypatch, offline
):
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "empty"))
    remotes = KNOWLEDGE_GRAPH_FILES["umls"]
    for remote in remotes:
        good = (DATA / "umls" / remote.name).read_bytes()
        first, mirror = remote.urls
        assert mirror.startswith(
            "https://raw.githubusercontent.com/pykeen/pykeen/master/"
        )
        offline.served[first] = good[:-1]  # truncated
        offline.served[mirror] = good
    kg = load_knowledge_graph("umls")
    assert kg.num_entities == 135 and len(offline.calls) == 6


# Bad input, on tiny files.


def test_read_triples_of_synthetic_file(tmp_path):
    path = write(
        tmp_path / "t.txt", "\n  b\tr\ta \r\n\nä\ts\tb\n\n"
    )  # CRLF, blank lines, padding, UTF-8
    triples = read_triples(path, {"a": 0, "b": 1, "ä": 2}, {"r": 0, "s": 1})
    assert triples.tolist() == [[1, 0, 0], [2, 1, 1]]
    assert triples.dtype == np.int32


@pytest.mark.parametrize(
    "text, line, match",
    [
        ("a\tr\tb\na\tr\n", 2, "expected 3 tab-separated fields .* found 2"),
        ("\n\na\tr\tb\tc\n", 3, "found 4: 'a\\\\tr\\\\tb\\\\tc'"),
        ("a r b\n", 1, "found 1"),
        ("a\tr\tb\na\t\tb\n", 2, "unknown relation ''"),
        ("a\tr\tb\n\nalpah\tr\tb\n", 3, "unknown entity 'alpah' \\(the head"),
        ("a\tr\tbeta\n", 1, "unknown entity 'beta' \\(the tail"),
        ("a\tlikes\tb\n", 1, "unknown relation 'likes'"),
    ],
)
def test_read_triples_rejects_bad_lines(tmp_path, text, line, match):
    path = write(tmp_path / "train.txt", text)
    with pytest.raises(ValueError, match=match) as info:
        read_triples(path, {"a": 0, "b": 1, "alpha": 2}, {"r": 0, "like": 1})
    assert str(info.value).startswith(f"{path}, line {line}: ")


def test_unknown_names_list_the_closest_known_ones(tmp_path):
    path = write(tmp_path / "valid.txt", "alpha\tlike\tbetta\n")
    entities = {"alpha": 0, "beta": 1, "bet": 2, "zzz": 3}
    with pytest.raises(ValueError) as info:
        read_triples(path, entities, {"likes": 0, "liked": 1, "hates": 2})
    message = str(info.value)
    assert "unknown relation 'like'" in message
    assert "'likes'" in message and "'liked'" in message
    assert "'hates'" not in message and "3 known relation names" in message
    path = write(tmp_path / "valid.txt", "alpha\tlikes\tbetta\n")
    with pytest.raises(ValueError, match="closest known: 'beta', 'bet'"):
        read_triples(path, entities, {"likes": 0})
    path = write(tmp_path / "valid.txt", "alpha\tlikes\tqqqqqq\n")
    with pytest.raises(ValueError, match="no known name is close"):
        read_triples(path, entities, {"likes": 0})


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_split_file(tmp_path, text):
    path = write(tmp_path / "test.txt", text)
    with pytest.raises(ValueError, match="holds no triples") as info:
        read_triples(path, {"a": 0}, {"r": 0})
    assert str(path) in str(info.value)
    directory = write_graph(tmp_path / "g", "a\tr\tb\n", test=text)
    with pytest.raises(ValueError, match="test.txt holds no triples"):
        read_knowledge_graph(directory)


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_bytes(b"a\tr\tb\nc\xff\tr\tb\n")
    with pytest.raises(ValueError, match="line 2: not UTF-8"):
        read_triples(path, {"a": 0, "b": 1}, {"r": 0})


def test_read_dictionary(tmp_path):
    path = write(tmp_path / "e.dict", "2\tc\n0\ta\r\n\n1\tb b\n")
    assert read_dictionary(path) == ("a", "b b", "c")


@pytest.mark.parametrize(
    "text, line, match",
    [
        ("0\ta\n1\n", 2, "expected 2 tab-separated fields"),
        ("0\ta\tx\n", 1, "found 3"),
        ("0\ta\none\tb\n", 2, "id 'one' is not a non-negative integer"),
        ("0\ta\n-1\tb\n", 2, "id '-1' is not"),
        ("0\ta\n1.0\tb\n", 2, "id '1.0' is not"),
        ("0\ta\n1\tb\n0\tc\n", 3, "id 0 repeats \\(first on line 1\\)"),
        ("0\ta\n\n1\ta\n", 3, "name 'a' repeats \\(first on line 1\\)"),
        ("0\ta\n2\tb\n", 2, "id 2 is out of range.* ids must be 0..1"),
        ("1\ta\n2\tb\n", 2, "id 2 is out of range"),
    ],
)
def test_read_dictionary_rejects_bad_lines(tmp_path, text, line, match):
    path = write(tmp_path / "entities.dict", text)
    with pytest.raises(ValueError, match=match) as info:
        read_dictionary(path)
    assert str(info.value).startswith(f"{path}, line {line}: ")


def test_empty_dictionary(tmp_path):
    path = write(tmp_path / "relations.dict", "\n")
    with pytest.raises(ValueError, match="relations.dict holds no entries"):
        read_dictionary(path)


# Whole directories.


def test_builds_sorted_dicts_when_absent(tmp_path):
    directory = write_graph(
        tmp_path / "toy",
        "c\tr2\ta\r\nb\tr1\tc\r\n",
        valid="a\tr1\tb\n",
        test="d\tr2\ta\n",
    )
    kg = read_knowledge_graph(directory)
    assert kg.name == "toy" and kg.regions is None
    # Sorted over all splits: "d" appears only in test.
    assert kg.entities == ("a", "b", "c", "d")
    assert kg.relations == ("r1", "r2")
    assert kg.entity_ids == {"a": 0, "b": 1, "c": 2, "d": 3}
    assert kg.train.tolist() == [[2, 1, 0], [1, 0, 2]]
    assert kg.valid.tolist() == [[0, 0, 1]]
    assert kg.test.tolist() == [[3, 1, 0]]


def test_reads_dicts_and_regions_when_present(tmp_path):
    directory = write_graph(tmp_path / "g", "b\tr\ta\n")
    write(directory / "entities.dict", "0\tb\n1\ta\n2\tz\n")
    write(directory / "relations.dict", "0\tr\n")
    write(directory / "regions.list", "z\na")  # no final newline, as upstream
    kg = read_knowledge_graph(directory, name="custom")
    assert kg.name == "custom"
    assert kg.entities == ("b", "a", "z")
    assert kg.train.tolist() == [[0, 0, 1]]
    assert kg.regions.tolist() == [2, 1]
    # The dicts, not the splits, define the names: a name missing from
    # entities.dict is an error even though the splits could define it.
    write(directory / "entities.dict", "0\tb\n")
    with pytest.raises(
        ValueError, match="train.txt, line 1: unknown entity 'a'"
    ):
        read_knowledge_graph(directory)


@pytest.mark.parametrize(
    "text, match",
    [
        ("b\nnarnia\n", "line 2: unknown entity 'narnia' \\(the region"),
        ("a\n\na\n", "line 3: region 'a' repeats \\(first on line 1\\)"),
        ("", "holds no regions"),
    ],
)
def test_bad_regions(tmp_path, text, match):
    directory = write_graph(tmp_path / "g", "a\tr\tb\n")
    write(directory / "regions.list", text)
    with pytest.raises(ValueError, match=match) as info:
        read_knowledge_graph(directory)
    assert str(directory / "regions.list") in str(info.value)


def test_one_dict_without_the_other(tmp_path):
    directory = write_graph(tmp_path / "g", "a\tr\tb\n")
    write(directory / "entities.dict", "0\ta\n1\tb\n")
    with pytest.raises(ValueError, match="entities.dict but not relations"):
        read_knowledge_graph(directory)


def test_missing_split_file(tmp_path):
    directory = write_graph(tmp_path / "g", "a\tr\tb\n")
    (directory / "valid.txt").unlink()
    with pytest.raises(FileNotFoundError, match="valid.txt"):
        read_knowledge_graph(directory)


# The dataclass.


def test_knowledge_graph_normalises_and_derives():
    kg = KnowledgeGraph(
        "toy",
        ["a", "b", "c"],
        ("r",),
        np.array([[0, 0, 1], [2, 0, 1]], dtype=np.int64),
        [],
        np.zeros((0, 3), dtype=np.uint8),
        regions=[2],
    )
    assert kg.entities == ("a", "b", "c") and kg.relations == ("r",)
    assert kg.relation_ids == {"r": 0}
    for split in SPLITS:
        assert getattr(kg, split).dtype == np.int32
        assert getattr(kg, split).shape[1] == 3
    assert kg.valid.shape == (0, 3)
    assert kg.regions.tolist() == [2] and kg.regions.dtype == np.int32
    assert kg.all_true_triples().tolist() == [[0, 0, 1], [2, 0, 1]]
    assert repr(kg) == (
        "KnowledgeGraph(name='toy', entities=3, relations=1, train=2, "
        "valid=0, test=0, regions=1)"
    )
    with pytest.raises(AttributeError):
        kg.train = kg.test


@pytest.mark.parametrize(
    "change, match",
    [
        ({"name": ""}, "`name` must be a non-empty str"),
        ({"entities": ["a", "a"]}, "`entities` must hold distinct.*'a'"),
        ({"relations": "r"}, "`relations` must be a list or tuple"),
        ({"entities": ["a", 1]}, "`entities` must hold only str"),
        ({"train": [[0, 0]]}, "`train` must have shape \\(n, 3\\)"),
        ({"valid": [[0.0, 0.0, 1.0]]}, "`valid` must hold integer ids"),
        (
            {"test": [[0, 0, 2]]},
            "`test` holds tail entity id 2, out of range \\[0, 2\\)",
        ),
        ({"train": [[-1, 0, 1]]}, "`train` holds head entity id -1"),
        ({"train": [[0, 1, 1]]}, "`train` holds relation id 1"),
        ({"train": [[2**32, 0, 1]]}, "head entity id 4294967296"),
        ({"regions": [[0]]}, "`regions` must be a 1-D array"),
        ({"regions": [5]}, "`regions` holds entity id 5"),
    ],
)
def test_knowledge_graph_rejects_bad_fields(change, match):
    fields = {
        "name": "toy",
        "entities": ["a", "b"],
        "relations": ["r"],
        "train": [[0, 0, 1]],
        "valid": [[1, 0, 0]],
        "test": [[0, 0, 0]],
    }
    fields.update(change)
    with pytest.raises(ValueError, match=match):
        KnowledgeGraph(**fields)


def test_module_imports_no_backend():
    # Data loading is numpy and stdlib only: it must not need a backend.
    tree = ast.parse(pathlib.Path(knowledge_graph.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {
        "dataclasses",
        "difflib",
        "itertools",
        "operator",
        "os",
        "numpy",
        "hadamard_zoo",
    }
