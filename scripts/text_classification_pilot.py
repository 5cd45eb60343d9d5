"""Dev-split pilot of the SST-2 transformer recipe.

Trains `polysa_transformer_sst2` with some fields replaced and prints the
dev accuracy after every epoch (the recipe itself measures dev once, at
the end); unset options keep the recipe's values. The dropout choice in
`hadamard_zoo/training/recipes.py` and the README comes from runs of this
script:

    KERAS_BACKEND=jax .venv/bin/python scripts/text_classification_pilot.py \\
        --mixer poly_sa --dropout 0.1
    (dev 0.8108, 0.8028, 0.7982; attention: 0.8050, 0.8268, 0.8222)
    ... --dropout 0.3
    (dev 0.8234, 0.8154, 0.8188; attention: 0.8028, 0.8234, 0.8165)

Unlike `hadamard-zoo train`, the pilot does not reshuffle between epochs
(every epoch reads the batches in epoch 0's order), so its last-epoch
numbers differ a little from the recipe's.
"""

import argparse
import dataclasses
import json
import time

import keras

from hadamard_zoo.training import RECIPES
from hadamard_zoo.training.array_batches import ArrayBatches
from hadamard_zoo.training.text_classification import DATASETS
from hadamard_zoo.training.text_classification import build_classifier
from hadamard_zoo.training.text_classification import compile_for_training
from hadamard_zoo.training.text_classification import load_text_split
from hadamard_zoo.training.text_classification import tokenize

base = RECIPES["polysa_transformer_sst2"]
parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--mixer", default="poly_sa", help="poly_sa, attention")
parser.add_argument("--epochs", type=int, default=base.epochs)
parser.add_argument(
    "--dropout", type=float, default=base.dropout, help="branches and head"
)
parser.add_argument("--lr", type=float, default=base.learning_rate)
parser.add_argument("--weight-decay", type=float, default=base.weight_decay)
parser.add_argument("--seed", type=int, default=base.seed)
args = parser.parse_args()

recipe = dataclasses.replace(
    base,
    backbone=dict(base.backbone, mixer=args.mixer, dropout=args.dropout),
    dropout=args.dropout,
    epochs=args.epochs,
    learning_rate=args.lr,
    weight_decay=args.weight_decay,
    seed=args.seed,
)
_, train_split, dev_split, _ = DATASETS[recipe.dataset]
train_sentences, train_labels = load_text_split(recipe.dataset, train_split)
dev_sentences, dev_labels = load_text_split(recipe.dataset, dev_split)
keras.utils.set_random_seed(recipe.seed)
classifier = build_classifier(recipe, train_sentences)
train_batches = ArrayBatches(
    tokenize(classifier.preprocessor, train_sentences),
    train_labels,
    recipe.batch_size,
    seed=recipe.seed,
)
dev_batches = ArrayBatches(
    tokenize(classifier.preprocessor, dev_sentences),
    dev_labels,
    512,
    shuffle=False,
)
# The plain model over the classifier's layers, as the recipe trains it.
model = keras.Model(classifier.inputs, classifier.outputs)
compile_for_training(model, recipe, len(train_batches) * recipe.epochs)
start = time.perf_counter()
history = model.fit(
    train_batches,
    validation_data=dev_batches,
    epochs=recipe.epochs,
    shuffle=False,
    verbose=2,
).history
record = dict(
    vars(args),
    dev=[round(v, 4) for v in history["val_accuracy"]],
    train=[round(v, 4) for v in history["accuracy"]],
    seconds=round(time.perf_counter() - start),
)
print(json.dumps(record))
