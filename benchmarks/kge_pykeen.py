"""PyKEEN's side of `benchmarks/kge_training.py` (needs `pykeen` installed).

Run by `kge_training.py` with a Python that has PyKEEN (it is not a
dependency of hadamard_zoo; install it in a separate environment, e.g.
`python -m venv /tmp/pykeen && /tmp/pykeen/bin/pip install torch==2.13.0
pykeen`). It does not import hadamard_zoo: the graph arrives as an npz of
hadamard_zoo's id triples and names (`--graph`), so both sides use the
same ids.

Two jobs, each written as JSON to `--output`:

- `train`: PyKEEN's `RotatE` (its defaults: L2 norm of the complex
  difference, Xavier-uniform entities) with `NSSALoss` (margin γ,
  adversarial temperature α), Adam, `SLCWATrainingLoop` with the basic
  negative sampler (filtered against the training triples), trained for
  `--steps` batches rounded up to whole epochs; reports positive triples
  per second and the filtered test metrics of PyKEEN's evaluator.
- `evaluate`: loads the given embeddings (hadamard_zoo's layout: entities
  `(n, 2d)` as real | imaginary halves, relation phases `(m, d)` scaled
  by π / embedding_range) into a PyKEEN `RotatE` whose interaction takes
  the L1 norm of the complex moduli (RotatE's own score, up to the
  constant γ, which changes no rank; PyKEEN 1.11's takes the L2 norm of
  the complex difference), times `RankBasedEvaluator` on the
  test split filtered by train + valid + test, and saves every rank.
  With `--float64` the model holds the same values in float64 (complex128
  scores): the rank check without float32 rounding, not timed for the
  comparison.
"""

import argparse
import json
import math
import pathlib
import time

import numpy as np


def read_graph(path):
    """The npz written by `kge_training.py`: ids, names and the splits."""
    saved = np.load(path)
    entity_to_id = {str(n): i for i, n in enumerate(saved["entities"])}
    relation_to_id = {str(n): i for i, n in enumerate(saved["relations"])}
    splits = {k: saved[k].astype(np.int64) for k in ("train", "valid", "test")}
    return entity_to_id, relation_to_id, splits


def triples_factory(mapped, entity_to_id, relation_to_id):
    import torch
    from pykeen.triples import TriplesFactory

    return TriplesFactory(
        mapped_triples=torch.as_tensor(mapped),
        entity_to_id=entity_to_id,
        relation_to_id=relation_to_id,
    )


def evaluate(model, splits, batch_size, keep_ranks=False):
    import torch
    from pykeen.evaluation import RankBasedEvaluator

    evaluator = RankBasedEvaluator(clear_on_finalize=not keep_ranks)
    start = time.perf_counter()
    with torch.inference_mode():
        results = evaluator.evaluate(
            model,
            torch.as_tensor(splits["test"]),
            additional_filter_triples=[
                torch.as_tensor(splits["train"]),
                torch.as_tensor(splits["valid"]),
            ],
            batch_size=batch_size,
            use_tqdm=False,
        )
    seconds = time.perf_counter() - start
    names = {
        "mrr": "inverse_harmonic_mean_rank",
        "mr": "arithmetic_mean_rank",
        **{f"hits_at_{k}": f"hits_at_{k}" for k in (1, 3, 10)},
    }
    metrics = {
        key: float(results.get_metric(f"both.realistic.{name}"))
        for key, name in names.items()
    }
    ranks = None
    if keep_ranks:
        ranks = {
            f"{target}_{rank_type}": np.concatenate(arrays)
            for (target, rank_type), arrays in evaluator.ranks.items()
        }
    return metrics, seconds, ranks


def train(args, entity_to_id, relation_to_id, splits):
    import torch
    from pykeen.losses import NSSALoss
    from pykeen.models import RotatE
    from pykeen.training import SLCWATrainingLoop

    torch.manual_seed(args.seed)
    factory = triples_factory(splits["train"], entity_to_id, relation_to_id)
    model = RotatE(
        triples_factory=factory,
        embedding_dim=args.dim,
        loss=NSSALoss(
            margin=args.gamma, adversarial_temperature=args.temperature
        ),
        random_seed=args.seed,
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    loop = SLCWATrainingLoop(
        model=model,
        triples_factory=factory,
        optimizer=optimizer,
        negative_sampler="basic",
        negative_sampler_kwargs=dict(
            num_negs_per_pos=args.negatives, filtered=True
        ),
    )
    steps_per_epoch = math.ceil(len(splits["train"]) / args.batch_size)
    epochs = math.ceil(args.steps / steps_per_epoch)
    start = time.perf_counter()
    loop.train(
        triples_factory=factory,
        num_epochs=epochs,
        batch_size=args.batch_size,
        use_tqdm=False,
    )
    seconds = time.perf_counter() - start
    metrics, eval_seconds, _ = evaluate(model, splits, args.eval_batch_size)
    return {
        "epochs": epochs,
        "steps": epochs * steps_per_epoch,
        "train_seconds": seconds,
        "triples_per_second": epochs * len(splits["train"]) / seconds,
        "test": metrics,
        "eval_seconds": eval_seconds,
    }


def rotate_l1_interaction():
    """RotatE's own score, `-Σ_k |h_k r_k - t_k|`, as a PyKEEN interaction.

    PyKEEN 1.11's `RotatEInteraction.forward` takes the L2 norm of the
    complex difference whatever its `p`; this keeps its cheaper-side
    rotation and takes the L1 norm of the moduli instead.
    """
    from pykeen.nn.modules import RotatEInteraction
    from pykeen.utils import ensure_complex
    from pykeen.utils import estimate_cost_of_sequence
    from pykeen.utils import negative_norm

    class RotatEL1Interaction(RotatEInteraction):
        def forward(self, h, r, t):
            h, r, t = ensure_complex(h, r, t)
            if estimate_cost_of_sequence(
                h.shape, r.shape
            ) < estimate_cost_of_sequence(r.shape, t.shape):
                h = h * r
            else:
                t = t * r.conj()
            return negative_norm(h - t, p=1, power_norm=False)

    return RotatEL1Interaction(p=1)


def evaluate_embeddings(args, entity_to_id, relation_to_id, splits):
    import torch
    from pykeen.models import RotatE

    saved = np.load(args.embeddings)
    entities, phases = saved["entities"], saved["phases"]
    dim = phases.shape[1]
    factory = triples_factory(splits["train"], entity_to_id, relation_to_id)
    model = RotatE(
        triples_factory=factory,
        embedding_dim=dim,
        random_seed=args.seed,
    )
    model.interaction = rotate_l1_interaction()
    if args.float64:
        # Scores in float64 (complex128): the rank check without rounding.
        model = model.double()
    # PyKEEN stores a complex row as interleaved (re, im) pairs.
    interleaved = np.stack([entities[:, :dim], entities[:, dim:]], axis=-1)
    rotation = np.stack([np.cos(phases), np.sin(phases)], axis=-1)
    with torch.no_grad():
        model.entity_representations[0]._embeddings.weight.copy_(
            torch.as_tensor(interleaved.reshape(len(entities), 2 * dim))
        )
        model.relation_representations[0]._embeddings.weight.copy_(
            torch.as_tensor(rotation.reshape(len(phases), 2 * dim))
        )
    metrics, seconds, ranks = evaluate(
        model, splits, args.eval_batch_size, keep_ranks=True
    )
    np.savez(args.ranks_output, **ranks)
    return {"test": metrics, "eval_seconds": seconds}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("job", choices=("train", "evaluate"))
    parser.add_argument("--graph", required=True, help="graph npz")
    parser.add_argument("--output", required=True)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--negatives", type=int, default=256)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--gamma", type=float, default=6.0)
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--eval-batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embeddings", help="npz: entities, phases")
    parser.add_argument("--ranks-output", help="npz written by `evaluate`")
    parser.add_argument(
        "--float64",
        action="store_true",
        help="`evaluate` in float64 (for the rank check, not the timing)",
    )
    args = parser.parse_args(argv)

    import pykeen.version
    import torch

    entity_to_id, relation_to_id, splits = read_graph(args.graph)
    if args.job == "train":
        result = train(args, entity_to_id, relation_to_id, splits)
    else:
        result = evaluate_embeddings(args, entity_to_id, relation_to_id, splits)
    result["pykeen_version"] = pykeen.version.get_version()
    result["torch_version"] = torch.__version__
    result["torch_threads"] = torch.get_num_threads()
    pathlib.Path(args.output).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
