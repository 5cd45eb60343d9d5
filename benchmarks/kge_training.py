"""RotatE on WN18RR: hadamard_zoo's training and evaluation against PyKEEN's.

Three measurements at equal dimension, batch size, negatives, margin γ,
adversarial temperature α and learning rate (defaults: d = 32, batch 512,
256 negatives, γ 6, α 0.5, Adam 1e-2):

1. Training throughput, in positive triples per second:
   `KnowledgeGraphLinkPredictor.fit` on `NegativeSamplingBatches` (the
   backend of `KERAS_BACKEND`, compiled as the recipes compile it: XLA,
   10 steps per call) for `--steps` batches, against PyKEEN's `RotatE`
   trained by its `SLCWATrainingLoop` for the same number of batches
   rounded up to whole epochs. Ours is reported over all steps
   (compilation included) and over the steps after the first call
   (`steady_triples_per_second`).
2. The filtered test MRR / Hits@k each implementation reaches after
   those steps (realistic ranks, test triples filtered by train + valid +
   test), as a check that equal work was done, not a quality claim: the
   two models differ in initialisation, norm and sampling details.
3. Evaluation time on the same embeddings: hadamard_zoo's trained
   embeddings are evaluated by `hadamard_zoo.evaluation.filtered_ranks`
   and, loaded into PyKEEN's `RotatE` with the L1 norm of the complex
   moduli (RotatE's own score), by PyKEEN's `RankBasedEvaluator`; both
   rank all 40,943 entities for the 3,134 x 2 test queries, and every
   rank (optimistic, pessimistic, realistic, head and tail) is compared.
   Both evaluators then rank again with the same embeddings upcast to
   float64: in float32 they round near-tied scores differently, so the
   identity of the ranks is judged in float64 (on TensorFlow only: Keras
   computes 64-bit results in 32 bits on the other backends; the timings
   are float32 throughout).

PyKEEN runs in its own Python (`--pykeen-python`, an environment with
`pykeen`; see `benchmarks/kge_pykeen.py`). Its training result is stored
in `benchmarks/results/kge_training_pykeen.json` and reused by later runs
with the same settings (`--rerun-pykeen` to redo it). Results go to
`benchmarks/results/kge_training_<backend>.json` and `.md`; targets are
from the project's issue (throughput >= 2x PyKEEN's, evaluation >= 20x
faster with identical ranks).

Usage:

    KERAS_BACKEND=jax .venv/bin/python benchmarks/kge_training.py \\
        --pykeen-python /tmp/pykeen/bin/python

Without `--pykeen-python`, only hadamard_zoo's side is measured.
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

import keras
import numpy as np

from hadamard_zoo.datasets.knowledge_graph import load_knowledge_graph
from hadamard_zoo.evaluation import FilterIndex
from hadamard_zoo.evaluation import filtered_ranks
from hadamard_zoo.evaluation import summarize_ranks
from hadamard_zoo.training import link_prediction
from hadamard_zoo.training.negative_sampling import NegativeSamplingBatches
from hadamard_zoo.training.recipes import LinkPredictionRecipe
from hadamard_zoo.utils.atomic import atomic_path

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results"
PYKEEN_SCRIPT = HERE / "kge_pykeen.py"
TARGETS = {"throughput_ratio": 2.0, "evaluation_speedup": 20.0}
RANK_TYPES = ("optimistic", "pessimistic", "realistic")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="wn18rr")
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--negatives", type=int, default=256)
    parser.add_argument("--steps", type=int, default=1020)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--gamma", type=float, default=6.0)
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--eval-batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", help="the dataset's directory")
    parser.add_argument("--pykeen-python", help="a Python with pykeen")
    parser.add_argument("--rerun-pykeen", action="store_true")
    parser.add_argument("--output-dir", default=str(RESULTS))
    return parser.parse_args(argv)


def settings(args):
    """What both implementations share (the key of PyKEEN's cache)."""
    return {
        "dataset": args.dataset,
        "dim": args.dim,
        "batch_size": args.batch_size,
        "negatives": args.negatives,
        "steps": args.steps,
        "learning_rate": args.learning_rate,
        "gamma": args.gamma,
        "temperature": args.temperature,
        "eval_batch_size": args.eval_batch_size,
        "seed": args.seed,
    }


class StepClock(keras.callbacks.Callback):
    """Wall-clock time at the end of the first and of the last call.

    A call runs `steps_per_execution` steps; Keras reports the index of
    its last one, so `first_steps` counts the steps the first call did.
    """

    def on_train_begin(self, logs=None):
        self.begin = time.perf_counter()
        self.first = None

    def on_train_batch_end(self, batch, logs=None):
        if self.first is None:
            self.first = time.perf_counter()
            self.first_steps = batch + 1

    def on_train_end(self, logs=None):
        self.end = time.perf_counter()


def train_ours(args, graph):
    recipe = LinkPredictionRecipe(
        name="kge_training_benchmark",
        description="benchmark",
        dataset=args.dataset,
        embedding_dim=args.dim,
        gamma=args.gamma,
        adversarial_temperature=args.temperature,
        negatives=args.negatives,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        # One rate throughout, as PyKEEN's loop runs it.
        warm_up_steps=args.steps + 1,
        steps=args.steps,
        steps_per_epoch=args.steps,
        seed=args.seed,
    )
    keras.utils.set_random_seed(args.seed)
    predictor = link_prediction.build_link_predictor(recipe, graph)
    # Compiled as the recipes compile (XLA on tensorflow too, 10 steps
    # per call).
    link_prediction.compile_for_training(predictor, recipe)
    batches = NegativeSamplingBatches(
        graph.train,
        graph.num_entities,
        graph.num_relations,
        negatives=args.negatives,
        batch_size=args.batch_size,
        steps_per_epoch=args.steps,
        known_triples=graph.train,
        seed=args.seed,
    )
    clock = StepClock()
    history = predictor.fit(batches, epochs=1, verbose=2, callbacks=[clock])
    seconds = clock.end - clock.begin
    steady = clock.end - clock.first
    return predictor, {
        "train_seconds": seconds,
        "triples_per_second": args.steps * args.batch_size / seconds,
        "steady_triples_per_second": (args.steps - clock.first_steps)
        * args.batch_size
        / steady,
        "final_loss": float(history.history["loss"][-1]),
    }


def evaluate_ours(predictor, graph, args):
    filter_index = FilterIndex([graph.train, graph.valid, graph.test])
    start = time.perf_counter()
    ranks = filtered_ranks(
        link_prediction.score_queries(predictor),
        graph.test,
        filter_index,
        graph.num_entities,
        batch_size=args.eval_batch_size,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    metrics = summarize_ranks(ranks)
    test = {k: metrics[k] for k in ("mrr", "mr", "hits_at_1", "hits_at_3")}
    test["hits_at_10"] = metrics["hits_at_10"]
    return test, seconds, ranks


def export_embeddings(predictor, path):
    """Entities `(n, 2d)` and relation phases in radians `(m, d)`.

    The phases are computed in float64 from the stored values, as the
    float64 rank check needs them; PyKEEN's float32 model rounds them (and
    their cosines and sines) back to float32 when it copies them in.
    """
    backbone = predictor.backbone
    entities = keras.ops.convert_to_numpy(backbone.entity_embedding.embeddings)
    relations = keras.ops.convert_to_numpy(
        backbone.relation_embedding.embeddings
    )
    phases = relations.astype("float64") * (
        np.pi / backbone.scorer.embedding_range
    )
    np.savez(path, entities=entities, phases=phases)


def float64_support():
    """`None` if this backend computes in float64, else why it does not."""
    if keras.backend.backend() == "tensorflow":
        return None
    # keras.src.backend.common.dtypes.result_type maps every 64-bit result
    # to 32 bits except on TensorFlow (to match JAX's default).
    return (
        f"Keras {keras.__version__} computes float64 as float32 on "
        f"{keras.backend.backend()}; the check runs on tensorflow"
    )


def float64_predictor(predictor):
    """The same (float32) embeddings, upcast exactly, scored in float64.

    At float32 the two evaluators round near-tied scores differently, so a
    few ranks in a thousand differ by one; in float64 those rounding
    errors shrink by nine orders of magnitude, and a rank that still
    differs would be a real disagreement between the evaluators.
    """
    backbone = predictor.backbone
    config = dict(backbone.get_config(), dtype="float64")
    copy = type(backbone).from_config(config)
    copy.set_weights([np.asarray(w, "float64") for w in backbone.get_weights()])
    return type(predictor)(copy)


def run_pykeen(args, job, output, extra=()):
    command = [
        args.pykeen_python,
        str(PYKEEN_SCRIPT),
        job,
        "--graph",
        str(args.graph_file),
        "--output",
        str(output),
        "--dim",
        str(args.dim),
        "--batch-size",
        str(args.batch_size),
        "--negatives",
        str(args.negatives),
        "--steps",
        str(args.steps),
        "--learning-rate",
        str(args.learning_rate),
        "--gamma",
        str(args.gamma),
        "--temperature",
        str(args.temperature),
        "--eval-batch-size",
        str(args.eval_batch_size),
        "--seed",
        str(args.seed),
        *extra,
    ]
    print(f"PyKEEN {job}: {' '.join(command)}", flush=True)
    subprocess.run(command, check=True)
    return json.loads(pathlib.Path(output).read_text())


def pykeen_ranks(args, embeddings, float64=False):
    """PyKEEN's evaluation of the npz `embeddings` and all its ranks."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        extra = ["--embeddings", str(embeddings)]
        extra += ["--ranks-output", str(tmp / "ranks.npz")]
        if float64:
            extra.append("--float64")
        evaluation = run_pykeen(args, "evaluate", tmp / "evaluate.json", extra)
        return evaluation, dict(np.load(tmp / "ranks.npz"))


def pykeen_training(args, output_dir):
    """PyKEEN's training result, from the cache when the settings match."""
    cache = output_dir / "kge_training_pykeen.json"
    if cache.exists() and not args.rerun_pykeen:
        cached = json.loads(cache.read_text())
        if cached.get("settings") == settings(args):
            print(f"PyKEEN training: reusing {cache}", flush=True)
            return cached
    with tempfile.TemporaryDirectory() as tmp:
        result = run_pykeen(args, "train", pathlib.Path(tmp) / "train.json")
    result["settings"] = settings(args)
    with atomic_path(cache) as tmp:
        pathlib.Path(tmp).write_text(json.dumps(result, indent=2) + "\n")
    return result


def compare_ranks(ours, theirs):
    """Per side and rank type: how many ranks are equal, largest gap."""
    comparison = {}
    for side in ("head", "tail"):
        for rank_type in RANK_TYPES:
            a = np.asarray(ours[side][rank_type], dtype=np.float64)
            b = np.asarray(theirs[f"{side}_{rank_type}"], dtype=np.float64)
            if a.shape != b.shape:
                raise ValueError(
                    f"{side} {rank_type} ranks: {a.shape} here, "
                    f"{b.shape} from PyKEEN."
                )
            comparison[f"{side}_{rank_type}"] = {
                "equal": int(np.sum(a == b)),
                "total": int(a.size),
                "max_abs_difference": float(np.max(np.abs(a - b))),
            }
    comparison["identical"] = all(
        entry["equal"] == entry["total"]
        for entry in comparison.values()
        if isinstance(entry, dict)
    )
    return comparison


def derive(report):
    ours, pykeen = report["hadamard_zoo"], report.get("pykeen")
    if not pykeen:
        return {}
    # Identity is judged where rounding cannot decide a rank: in float64
    # when that check ran, else (a backend without float64) in float32.
    float64 = report.get("rank_comparison_float64")
    ranks = float64 if float64 else report["rank_comparison"]
    throughput = (
        ours["triples_per_second"] / pykeen["training"]["triples_per_second"]
    )
    speedup = pykeen["evaluation"]["eval_seconds"] / ours["evaluation_seconds"]
    return {
        "throughput_ratio": throughput,
        "throughput_target_met": throughput >= TARGETS["throughput_ratio"],
        "evaluation_speedup": speedup,
        "evaluation_target_met": speedup >= TARGETS["evaluation_speedup"],
        "ranks_identical": ranks["identical"],
        "ranks_identical_in": "float64" if float64 else "float32",
        "ranks_identical_float32": report["rank_comparison"]["identical"],
    }


def markdown(report):
    ours, pykeen = report["hadamard_zoo"], report.get("pykeen")
    s = report["settings"]
    lines = [
        f"# RotatE on {s['dataset']}: hadamard_zoo "
        f"({report['backend']}) vs PyKEEN",
        "",
        f"d = {s['dim']}, batch {s['batch_size']}, {s['negatives']} "
        f"negatives, γ {s['gamma']}, α {s['temperature']}, Adam "
        f"{s['learning_rate']}, {report['machine']}.",
        "",
        "| | steps | triples/s | train s | test MRR | Hits@10 | eval s |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| hadamard_zoo ({report['backend']}) | {s['steps']} | "
        f"{ours['triples_per_second']:.0f} (steady "
        f"{ours['steady_triples_per_second']:.0f}) | "
        f"{ours['train_seconds']:.1f} | {ours['test']['mrr']:.4f} | "
        f"{ours['test']['hits_at_10']:.4f} | "
        f"{ours['evaluation_seconds']:.1f} |",
    ]
    if pykeen:
        training, evaluation = pykeen["training"], pykeen["evaluation"]
        lines.append(
            f"| PyKEEN {training['pykeen_version']} | {training['steps']} | "
            f"{training['triples_per_second']:.0f} | "
            f"{training['train_seconds']:.1f} | "
            f"{training['test']['mrr']:.4f} | "
            f"{training['test']['hits_at_10']:.4f} | "
            f"{training['eval_seconds']:.1f} |"
        )
        d = report["derived"]
        lines += [
            "",
            "On hadamard_zoo's embeddings: our evaluation "
            f"{ours['evaluation_seconds']:.1f} s, PyKEEN's "
            f"{evaluation['eval_seconds']:.1f} s (MRR "
            f"{ours['test']['mrr']:.4f} vs {evaluation['test']['mrr']:.4f}).",
            "",
            f"- throughput ratio {d['throughput_ratio']:.2f}x (target >= "
            f"{TARGETS['throughput_ratio']}x): "
            f"{'met' if d['throughput_target_met'] else 'NOT met'}",
            f"- evaluation speedup {d['evaluation_speedup']:.1f}x (target "
            f">= {TARGETS['evaluation_speedup']}x): "
            f"{'met' if d['evaluation_target_met'] else 'NOT met'}",
            f"- ranks identical ({d['ranks_identical_in']} scores): "
            f"{d['ranks_identical']}",
        ]
        comparisons = [("float32", report["rank_comparison"])]
        if report.get("rank_comparison_float64"):
            comparisons.append(("float64", report["rank_comparison_float64"]))
        elif report.get("float64_check_skipped"):
            lines.append(
                "- float64 rank check skipped: "
                f"{report['float64_check_skipped']}"
            )
        for dtype, comparison in comparisons:
            lines.append(f"- ranks from {dtype} scores:")
            for key, entry in comparison.items():
                if isinstance(entry, dict):
                    lines.append(
                        f"  - {key}: {entry['equal']}/{entry['total']} "
                        "equal, largest difference "
                        f"{entry['max_abs_difference']:g}"
                    )
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    backend = keras.backend.backend()
    output_dir = pathlib.Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    graph = load_knowledge_graph(args.dataset, data_dir=args.data_dir)
    scratch = tempfile.TemporaryDirectory()
    args.graph_file = pathlib.Path(scratch.name) / "graph.npz"
    np.savez(
        args.graph_file,
        entities=np.array(graph.entities),
        relations=np.array(graph.relations),
        train=graph.train,
        valid=graph.valid,
        test=graph.test,
    )

    predictor, training = train_ours(args, graph)
    test, eval_seconds, ranks = evaluate_ours(predictor, graph, args)
    report = {
        "settings": settings(args),
        "backend": backend,
        "keras_version": keras.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "date": time.strftime("%Y-%m-%d"),
        "command": " ".join([f"KERAS_BACKEND={backend}", "python"] + sys.argv),
        "hadamard_zoo": {
            **training,
            "test": test,
            "evaluation_seconds": eval_seconds,
        },
    }
    if args.pykeen_python:
        training = pykeen_training(args, output_dir)
        with tempfile.TemporaryDirectory() as tmp:
            embeddings = pathlib.Path(tmp) / "embeddings.npz"
            export_embeddings(predictor, embeddings)
            evaluation, theirs = pykeen_ranks(args, embeddings)
            report["pykeen"] = {"training": training, "evaluation": evaluation}
            report["rank_comparison"] = compare_ranks(ranks, theirs)
            skipped = float64_support()
            if skipped:
                report["float64_check_skipped"] = skipped
            else:
                _, _, ranks64 = evaluate_ours(
                    float64_predictor(predictor), graph, args
                )
                _, theirs64 = pykeen_ranks(args, embeddings, float64=True)
                report["rank_comparison_float64"] = compare_ranks(
                    ranks64, theirs64
                )
    report["derived"] = derive(report)
    report["targets"] = TARGETS

    stem = output_dir / f"kge_training_{backend}"
    with atomic_path(stem.with_suffix(".json")) as tmp:
        pathlib.Path(tmp).write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    with atomic_path(stem.with_suffix(".md")) as tmp:
        pathlib.Path(tmp).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
