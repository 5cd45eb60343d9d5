"""Trains a text-classification recipe into a preset directory.

`train("polysa_transformer_sst2")` is what `hadamard-zoo train
polysa_transformer_sst2` runs: it builds the word vocabulary from the
training sentences, tokenizes every split once with the preset's own
preprocessor, trains with a progress bar, checkpoints after every epoch
(and resumes from the last checkpoint of the same recipe), measures
accuracy on the full labelled evaluation split (SST-2's `dev`: GLUE's test
labels are not public) and writes the preset directory atomically with its
`metrics.json`.
"""

import importlib

import keras
import numpy as np

from hadamard_zoo.training import runs
from hadamard_zoo.training.array_batches import ArrayBatches

# dataset -> (loader name in hadamard_zoo.datasets, train split,
# evaluation split, number of classes).
DATASETS = {"sst2": ("load_sst2", "train", "dev", 2)}

# Each family's tokenizer, preprocessor, backbone and classifier class
# names in `hadamard_zoo.models.<family>`.
FAMILY_CLASSES = {
    "polysa_transformer": (
        "PolySATokenizer",
        "PolySATextClassifierPreprocessor",
        "PolySATransformerBackbone",
        "PolySATextClassifier",
    ),
}


def load_text_split(dataset, split, data_dir=None):
    """`(list of str, int32 labels)` of a labelled split."""
    from hadamard_zoo import datasets

    loader = getattr(datasets, DATASETS[dataset][0])
    sentences, labels = loader(split=split, data_dir=data_dir)
    return list(sentences), np.asarray(labels, "int32")


def build_classifier(recipe, train_sentences):
    """The untrained text classifier of a recipe, its vocabulary built from
    `train_sentences`."""
    if recipe.family not in FAMILY_CLASSES:
        raise ValueError(
            f"Recipe {recipe.name!r} names an unknown text model family "
            f"{recipe.family!r}; expected one of {sorted(FAMILY_CLASSES)}."
        )
    module = importlib.import_module(f"hadamard_zoo.models.{recipe.family}")
    tokenizer_cls, preprocessor_cls, backbone_cls, classifier_cls = (
        getattr(module, name) for name in FAMILY_CLASSES[recipe.family]
    )
    tokenizer = tokenizer_cls.from_texts(
        train_sentences,
        max_size=recipe.vocabulary_size,
        min_count=recipe.min_count,
    )
    preprocessor = preprocessor_cls(
        tokenizer, sequence_length=recipe.sequence_length
    )
    backbone = backbone_cls(
        vocabulary_size=tokenizer.vocabulary_size(),
        max_sequence_length=recipe.sequence_length,
        **recipe.backbone,
    )
    return classifier_cls(
        backbone=backbone,
        num_classes=DATASETS[recipe.dataset][3],
        preprocessor=preprocessor,
        dropout=recipe.dropout,
    )


def tokenize(preprocessor, sentences, batch_size=4096):
    """The preprocessor's model inputs for all `sentences`, as NumPy."""
    parts = []
    for start in range(0, len(sentences), batch_size):
        features = preprocessor(sentences[start : start + batch_size])
        parts.append(
            {k: keras.ops.convert_to_numpy(v) for k, v in features.items()}
        )
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def compile_for_training(model, recipe, steps):
    """Compiles `model` with the recipe's optimizer over `steps` steps,
    cross-entropy on logits and accuracy."""
    model.compile(
        optimizer=runs.make_optimizer(recipe, steps),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def train(
    name,
    output_dir=None,
    checkpoint_dir=None,
    epochs=None,
    max_train_examples=None,
    resume=True,
    data_parallel=False,
    data_dir=None,
    verbose="auto",
    seed=None,
):
    """Trains text recipe `name` and writes its preset (or baseline).

    Args:
        name: a recipe name (`hadamard_zoo.training.RECIPES`).
        output_dir: where the preset directory goes. Defaults to
            `presets/<name>` for shipped recipes, `benchmarks/runs/<name>`
            for baselines.
        checkpoint_dir: where per-epoch checkpoints go. Defaults to
            `$HADAMARD_ZOO_CHECKPOINTS/<name>` or the Keras cache.
        epochs: overrides the recipe's number of epochs (smoke runs).
        max_train_examples: trains on the first N training examples only
            (smoke runs); the vocabulary comes from those too, and the
            evaluation split is always complete.
        resume: continue from the last checkpoint of the same run, if any.
        data_parallel: on JAX, shard every batch over all local devices
            with `keras.distribution.DataParallel`.
        data_dir: dataset directory (see `hadamard_zoo.datasets`).
        verbose: `model.fit` verbosity (1 shows a progress bar).
        seed: overrides the recipe's seed (a second run of the same
            recipe); recorded in the preset's recipe and command.

    Returns:
        The metrics dict written to `metrics.json`.
    """

    recipe, output_dir, checkpoint_dir = runs.resolve_run(
        name, seed, epochs, output_dir, checkpoint_dir
    )
    if data_parallel:
        runs.enable_data_parallel()
    _, train_split, eval_split, _ = DATASETS[recipe.dataset]
    train_sentences, train_labels = load_text_split(
        recipe.dataset, train_split, data_dir
    )
    eval_sentences, eval_labels = load_text_split(
        recipe.dataset, eval_split, data_dir
    )
    if max_train_examples:
        train_sentences = train_sentences[:max_train_examples]
        train_labels = train_labels[:max_train_examples]

    keras.utils.set_random_seed(recipe.seed)
    classifier = build_classifier(recipe, train_sentences)
    preprocessor = classifier.preprocessor
    train_batches = ArrayBatches(
        tokenize(preprocessor, train_sentences),
        train_labels,
        recipe.batch_size,
        seed=recipe.seed,
    )
    steps = len(train_batches) * recipe.epochs
    key = runs.run_key(recipe, len(train_sentences))

    def compile_model(model):
        compile_for_training(model, recipe, steps)

    model, progress = runs.resume_or_compile(
        classifier, recipe, checkpoint_dir, key, resume, compile_model
    )
    runs.fit_remaining_epochs(
        model, train_batches, recipe, checkpoint_dir, progress, verbose
    )

    eval_batches = ArrayBatches(
        tokenize(preprocessor, eval_sentences),
        eval_labels,
        512,
        shuffle=False,
    )
    results = model.evaluate(eval_batches, return_dict=True, verbose=0)
    classifier.set_weights(model.get_weights())
    metrics = runs.run_record(
        recipe, classifier, results, progress, eval_split, len(eval_labels)
    )
    metrics["vocabulary_size"] = int(preprocessor.tokenizer.vocabulary_size())
    metrics["command"] = runs.train_command(
        name,
        epochs,
        max_train_examples,
        ["--data-parallel"] if data_parallel else [],
        seed=seed,
    )
    runs.write_preset(output_dir, classifier, metrics)
    print(
        f"{recipe.name}: {eval_split} accuracy {metrics['value']:.4f} "
        f"({metrics['train_seconds']:.0f} s of training) -> {output_dir}"
    )
    return metrics
