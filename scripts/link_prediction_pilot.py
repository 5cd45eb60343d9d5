"""Validation-split pilot of a link-prediction configuration.

Trains RotatE-style embeddings with the recipe machinery and prints the
filtered valid MRR (and AUC-PR on Countries) every `--every` steps. The
recipe comments and README numbers for the WN18RR, FB15k-237 and
Countries learning-rate choices come from runs of this script, e.g.

    KERAS_BACKEND=jax .venv/bin/python scripts/link_prediction_pilot.py \\
        wn18rr --dim 32 --lr 1e-2 --steps 6000 --warm-up 5000 --gamma 6 \\
        --temperature 0.5 --negatives 256 --every 2000
"""

import argparse
import time

import keras

from hadamard_zoo.datasets import load_knowledge_graph
from hadamard_zoo.models.kge import SelfAdversarialNegativeSamplingLoss
from hadamard_zoo.training import link_prediction as lp
from hadamard_zoo.training.negative_sampling import NegativeSamplingBatches
from hadamard_zoo.training.recipes import LinkPredictionRecipe

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("dataset")
parser.add_argument("--dim", type=int, default=32)
parser.add_argument("--lr", type=float, default=1e-2)
parser.add_argument("--steps", type=int, default=2000)
parser.add_argument("--warm-up", type=int, help="rate cut; default steps/2")
parser.add_argument("--gamma", type=float, default=6.0)
parser.add_argument("--temperature", type=float, default=0.5)
parser.add_argument("--negatives", type=int, default=256)
parser.add_argument("--batch-size", type=int, default=512)
parser.add_argument("--every", type=int, default=500)
args = parser.parse_args()

recipe = LinkPredictionRecipe(
    name="pilot",
    description="pilot",
    dataset=args.dataset,
    embedding_dim=args.dim,
    gamma=args.gamma,
    steps=args.steps,
    steps_per_epoch=args.every,
    adversarial_temperature=args.temperature,
    negatives=args.negatives,
    batch_size=args.batch_size,
    learning_rate=args.lr,
    warm_up_steps=args.warm_up,
)
graph = load_knowledge_graph(args.dataset)
keras.utils.set_random_seed(0)
model = lp.build_link_predictor(recipe, graph)
batches = NegativeSamplingBatches(
    graph.train,
    graph.num_entities,
    graph.num_relations,
    negatives=args.negatives,
    batch_size=args.batch_size,
    steps_per_epoch=args.every,
    known_triples=graph.train,
    seed=0,
)
model.compile(
    optimizer=lp.make_optimizer(recipe),
    loss=SelfAdversarialNegativeSamplingLoss(args.temperature),
)
seconds = 0.0
for epoch in range(recipe.epochs):
    batches.set_epoch(epoch)
    start = time.perf_counter()
    model.fit(batches, epochs=1, verbose=0)
    seconds += time.perf_counter() - start
    results = lp.evaluate(model, graph, split="valid", batch_size=64, verbose=0)
    line = f"step {(epoch + 1) * args.every}: {seconds:.0f} s, valid MRR "
    line += f"{results['mrr']:.4f}"
    if "auc_pr" in results:
        line += f", AUC-PR {results['auc_pr']:.4f}"
    print(line, flush=True)
