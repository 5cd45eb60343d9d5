"""Trains a knowledge-graph embedding recipe into a link-prediction preset.

The RotatE protocol: Adam on the self-adversarial negative-sampling loss,
batches alternately corrupting heads and tails with filtered uniform
negatives, the learning rate divided by 10 at `warm_up_steps` (half-way
by default) and again at each tripling of it, then filtered ranking of
the test triples against every entity (and, on the Countries tasks,
AUC-PR over the candidate regions).
"""

import math
import time

import keras
import numpy as np

from hadamard_zoo.datasets.knowledge_graph import load_knowledge_graph
from hadamard_zoo.evaluation import FilterIndex
from hadamard_zoo.evaluation import countries_auc_pr
from hadamard_zoo.evaluation import evaluate_link_prediction
from hadamard_zoo.models.kge import KnowledgeGraphEmbeddingBackbone
from hadamard_zoo.models.kge import KnowledgeGraphLinkPredictor
from hadamard_zoo.models.kge import KnowledgeGraphLinkPredictorPreprocessor
from hadamard_zoo.models.kge import KnowledgeGraphVocabulary
from hadamard_zoo.models.kge import SelfAdversarialNegativeSamplingLoss
from hadamard_zoo.training import runs
from hadamard_zoo.training.negative_sampling import NegativeSamplingBatches


def build_link_predictor(recipe, graph):
    """The untrained task of `recipe` for `graph`, with its vocabulary."""
    backbone = KnowledgeGraphEmbeddingBackbone(
        num_entities=graph.num_entities,
        num_relations=graph.num_relations,
        embedding_dim=recipe.embedding_dim,
        scoring=recipe.scoring,
        gamma=recipe.gamma,
    )
    preprocessor = KnowledgeGraphLinkPredictorPreprocessor(
        KnowledgeGraphVocabulary.from_knowledge_graph(graph)
    )
    return KnowledgeGraphLinkPredictor(
        backbone,
        preprocessor=preprocessor,
        adversarial_temperature=recipe.adversarial_temperature,
    )


def rate_drops(recipe):
    """Steps at which RotatE's schedule divides the rate by 10.

    RotatE's `run.py` divides the rate at `warm_up_steps` and then
    triples `warm_up_steps`, so a run longer than three warm-ups drops it
    again (10k, 30k, 90k, ... for a 10k warm-up).
    """
    step = recipe.warm_up_steps or recipe.steps // 2
    drops = []
    while step < recipe.steps:
        drops.append(step)
        step *= 3
    return drops or [recipe.steps]


def learning_rate_schedule(recipe):
    """The recipe's rate, divided by 10 at each of `rate_drops`."""
    drops = rate_drops(recipe)
    rates = [recipe.learning_rate / 10**i for i in range(len(drops) + 1)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(drops, rates)


def make_optimizer(recipe):
    """Adam on RotatE's learning-rate schedule."""
    return keras.optimizers.Adam(learning_rate_schedule(recipe))


# Steps per compiled call: one call of 10 steps instead of 10 calls saves
# Keras' per-step Python work (WN18RR, d = 32, batch 512, 256 negatives:
# 86 -> 76 ms a step on tensorflow, 166 -> 145 ms on jax). The gcd keeps
# every epoch (checkpoint) a whole number of calls.
STEPS_PER_EXECUTION = 10


def compile_for_training(model, recipe):
    """Compiles `model` with the recipe's optimizer and loss.

    On TensorFlow the step is XLA-compiled: Keras' `jit_compile="auto"`
    turns XLA off on machines without a GPU, where it made a RotatE step
    1.1x faster (94 -> 86 ms). Other backends keep `"auto"` (jit on JAX,
    eager on torch, where Keras runs one step per call).
    """
    backend = keras.backend.backend()
    steps_per_execution = 1
    if backend != "torch":
        steps_per_execution = math.gcd(
            STEPS_PER_EXECUTION, recipe.steps_per_epoch
        )
    model.compile(
        optimizer=make_optimizer(recipe),
        loss=SelfAdversarialNegativeSamplingLoss(
            recipe.adversarial_temperature
        ),
        jit_compile=True if backend == "tensorflow" else "auto",
        steps_per_execution=steps_per_execution,
    )


def score_queries(predictor):
    """`score_fn(queries, side)` for `hadamard_zoo.evaluation`."""

    def score_fn(queries, side):
        known = queries[:, 0] if side == "tail" else queries[:, 2]
        return predictor.score_all(known, queries[:, 1], side)

    return score_fn


def score_triples(predictor):
    """`score_fn(triples) -> (n,)` scores of explicit triples."""

    def score_fn(triples):
        triples = np.asarray(triples, "int32")
        x = {
            "heads": triples[:, :1],
            "relations": triples[:, 1:2],
            "tails": triples[:, 2:],
        }
        scores = predictor.backbone.predict_on_batch(x)
        return np.asarray(keras.ops.convert_to_numpy(scores))[:, 0]

    return score_fn


def evaluate(predictor, graph, split="test", batch_size=16, verbose=1):
    """Filtered ranking metrics of `split` (and AUC-PR on Countries)."""
    triples = getattr(graph, split)
    filter_index = FilterIndex([graph.train, graph.valid, graph.test])
    start = time.perf_counter()
    results = evaluate_link_prediction(
        score_queries(predictor),
        triples,
        filter_index,
        graph.num_entities,
        batch_size=batch_size,
        verbose=verbose,
    )
    results["eval_seconds"] = round(time.perf_counter() - start, 1)
    if graph.regions is not None:
        results["auc_pr"] = float(
            countries_auc_pr(score_triples(predictor), triples, graph.regions)
        )
    return results


def _rounded(value):
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 4)
    return value


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
    overrides=None,
):
    """Trains link-prediction recipe `name` and writes its preset.

    Args:
        name: a recipe name (`hadamard_zoo.training.RECIPES`).
        output_dir: where the preset directory goes (default
            `presets/<name>`, or `benchmarks/runs/<name>` for baselines).
        checkpoint_dir: where per-epoch checkpoints go.
        epochs: overrides the number of epochs (of `steps_per_epoch`
            steps each) for smoke runs.
        max_train_examples: trains on the first N training triples only.
        resume: continue from the last checkpoint of the same run.
        data_parallel: on JAX, shard batches over all local devices.
        data_dir: dataset directory (see `hadamard_zoo.datasets`).
        verbose: `model.fit` verbosity (1 shows a progress bar).
        seed: overrides the recipe's seed (a second run of the same
            recipe); recorded in the preset's recipe and command.
        overrides: optional dict of recipe fields to replace (shorter
            epochs, another dimension: tests and experiments). They are
            recorded in `metrics.json`; the recorded command does not
            reproduce them.

    Returns:
        The metrics dict written to `metrics.json`.
    """
    recipe, output_dir, checkpoint_dir = runs.resolve_run(
        name, seed, epochs, output_dir, checkpoint_dir, overrides
    )
    if data_parallel:
        runs.enable_data_parallel()
    graph = load_knowledge_graph(recipe.dataset, data_dir=data_dir)
    train_triples = graph.train
    if max_train_examples:
        train_triples = train_triples[:max_train_examples]

    keras.utils.set_random_seed(recipe.seed)
    predictor = build_link_predictor(recipe, graph)
    batches = NegativeSamplingBatches(
        train_triples,
        graph.num_entities,
        graph.num_relations,
        negatives=recipe.negatives,
        batch_size=recipe.batch_size,
        steps_per_epoch=recipe.steps_per_epoch,
        known_triples=graph.train,
        subsampling=recipe.subsampling,
        seed=recipe.seed,
    )
    key = runs.run_key(recipe, len(train_triples))

    model, progress = runs.resume_or_compile(
        predictor,
        recipe,
        checkpoint_dir,
        key,
        resume,
        lambda model: compile_for_training(model, recipe),
    )
    runs.fit_remaining_epochs(
        model, batches, recipe, checkpoint_dir, progress, verbose
    )
    predictor.set_weights(model.get_weights())

    results = evaluate(
        predictor,
        graph,
        batch_size=recipe.eval_batch_size,
        verbose=0 if verbose == 0 else 1,
    )
    metrics = {
        "preset": recipe.name,
        "description": recipe.description,
        "dataset": recipe.dataset,
        "split": "test",
        "examples": int(len(graph.test)),
        "metric": recipe.metric,
        "value": round(float(results[recipe.metric]), 4),
        "ranking": _rounded(results),
        "parameters": int(predictor.count_params()),
        "steps": recipe.steps,
        "epochs": recipe.epochs,
        "train_seconds": round(progress["train_seconds"], 1),
        "history": progress["history"],
        "baseline_of": recipe.baseline_of,
        "recipe": recipe.to_dict(),
        **runs.environment_record(),
    }
    if overrides:
        metrics["overrides"] = dict(overrides)
    metrics["command"] = runs.train_command(
        name,
        epochs,
        max_train_examples,
        ["--data-parallel"] if data_parallel else [],
        seed=seed,
    )
    runs.write_preset(output_dir, predictor, metrics)
    print(
        f"{recipe.name}: test {recipe.metric} {metrics['value']:.4f} "
        f"({metrics['train_seconds']:.0f} s of training) -> {output_dir}"
    )
    return metrics
