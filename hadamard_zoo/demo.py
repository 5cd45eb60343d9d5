"""The `hadamard-zoo demo` command: bundled presets, then a polynomial fit.

`run_presets()` loads every bundled preset by name: classifiers label the
few test images (or sentences, or triples) shipped in `hadamard_zoo/samples`,
printing each prediction next to the true label; language models score and
continue a sentence; generators write an image grid `NAME.png`.

`run()`: CCP and NCP polynomial networks and a ReLU MLP of about the same
parameter count are fitted to two synthetic regression targets on this machine:

- `interaction`: `x1·x2·x3·x4` of an 8-dimensional input, a fourth-order
  multiplicative interaction (four of the inputs are irrelevant);
- `oscillation`: `sin(2π x1)·sin(2π x2)`, a high-frequency function of a
  2-dimensional input.

The polynomial networks have degree 4 and their rank is chosen so that their
parameter count is closest to the MLP's (two hidden ReLU layers of 24).
Every model gets the best of the same small learning-rate sweep, chosen on a
validation split, and reports its mean squared error on a held-out test set.
A degree-4 polynomial cannot follow `sin(2πx)` over [-1, 1] (it changes sign
four times per axis), so the second target shows the limit of that bias.
The printed table is measured on every run; nothing is precomputed.
"""

import pathlib
import time

import keras
import numpy as np

from hadamard_zoo.layers import CCP
from hadamard_zoo.layers import NCP

TARGETS = {
    "interaction": (8, lambda x: x[:, 0] * x[:, 1] * x[:, 2] * x[:, 3]),
    "oscillation": (
        2,
        lambda x: np.sin(2 * np.pi * x[:, 0]) * np.sin(2 * np.pi * x[:, 1]),
    ),
}
LEARNING_RATES = (3e-3, 1e-2, 3e-2)
# What `run_presets` asks of generators and language models.
GRID_IMAGES = 16
SENTENCE = "the company said it expects a loss"
PROMPT = "the company said"
DEGREE, MLP_WIDTH = 4, 24


def _mlp_params(dim):
    return (dim + 1) * MLP_WIDTH + (MLP_WIDTH + 1) * MLP_WIDTH + MLP_WIDTH + 1


def _poly_params(kind, dim, rank):
    factors = DEGREE * (dim + 1) * rank  # U_n or A_n with biases
    coupling = (DEGREE - 1) * (rank + 1) * rank if kind == "NCP" else 0
    return factors + coupling + rank + 1  # + the output map C


def _matched_rank(kind, dim):
    """The rank whose parameter count is closest to the MLP's."""
    budget = _mlp_params(dim)
    return min(
        range(1, 257), key=lambda k: abs(_poly_params(kind, dim, k) - budget)
    )


def _split(rng, dim, fn):
    def draw(n):
        x = rng.uniform(-1, 1, (n, dim)).astype("float32")
        return x, fn(x)[:, None].astype("float32")

    return draw(2048), draw(1024), draw(4096)


def _model(kind, dim):
    inputs = keras.Input((dim,))
    if kind == "CCP":
        rank = _matched_rank(kind, dim)
        outputs = CCP(rank=rank, degree=DEGREE, output_units=1)(inputs)
    elif kind == "NCP":
        rank = _matched_rank(kind, dim)
        outputs = NCP(rank=rank, degree=DEGREE, output_units=1)(inputs)
    else:
        hidden = keras.layers.Dense(MLP_WIDTH, activation="relu")(inputs)
        hidden = keras.layers.Dense(MLP_WIDTH, activation="relu")(hidden)
        outputs = keras.layers.Dense(1)(hidden)
    return keras.Model(inputs, outputs, name=kind)


def _fit(kind, data, learning_rate, epochs, seed):
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = data
    keras.utils.set_random_seed(seed)
    model = _model(kind, x_train.shape[-1])
    model.compile(keras.optimizers.Adam(learning_rate), loss="mse")
    model.fit(x_train, y_train, batch_size=256, epochs=epochs, verbose=0)
    val = model.evaluate(x_val, y_val, batch_size=1024, verbose=0)
    test = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)
    if not np.isfinite(val):
        val = test = float("inf")
    return model.count_params(), val, test


def predict_samples(model, inputs):
    """Scores `(8, classes)` of a preset on `samples.load_samples` inputs.

    Classifiers get the images (with their channel axis) or sentences; a
    link predictor scores each `(head, relation, candidate)` query against
    the sample's candidate answers (the Countries regions).
    """
    if isinstance(inputs, dict):
        count = len(inputs["heads"])
        x = {
            "heads": [[h] for h in inputs["heads"]],
            "relations": [[r] for r in inputs["relations"]],
            "tails": [list(inputs["candidates"])] * count,
        }
        scores = model.predict_on_batch(x)
    else:
        if not isinstance(inputs, list):
            inputs = inputs[..., None]  # grayscale images: one channel
        scores = model.predict(inputs, verbose=0)
    return np.asarray(keras.ops.convert_to_numpy(scores))


def run_presets(print_fn=print, grid_dir="."):
    """Runs every bundled preset on the bundled samples.

    Classifiers (and link predictors) label the samples of their dataset;
    language models score and continue a sentence; generators draw
    `GRID_IMAGES` images (seed 0; SPADE from the sample label maps) into
    `grid_dir/NAME.png`.

    Returns `{preset: accuracy on the samples}` for the classifiers and
    `{preset: path of the grid}` for the generators.
    """
    from hadamard_zoo import presets

    results = {}
    for name in presets.preset_names():
        metrics = presets.preset_info(name)["metrics"]
        if metrics.get("metric") == "fid":
            results[name] = _draw_grid(name, metrics, grid_dir, print_fn)
        elif metrics.get("metric") == "perplexity":
            results[name] = _continue_sentence(name, print_fn)
        else:
            accuracy = _classify_samples(name, metrics, print_fn)
            if accuracy is not None:
                results[name] = accuracy
    if not results:
        print_fn("No bundled presets to run.")
    return results


def _classify_samples(name, metrics, print_fn):
    import hadamard_zoo
    from hadamard_zoo import cli
    from hadamard_zoo import samples

    dataset = metrics.get("dataset")
    if dataset not in samples.DATASETS:
        return None
    inputs, labels = samples.load_samples(dataset)
    model = hadamard_zoo.load_classifier(name)
    scores = predict_samples(model, inputs)
    predicted = np.argmax(scores, axis=-1)
    names = cli.class_names(dataset) or inputs["candidates"]
    pairs = ", ".join(
        f"{names[p]}" + ("" if p == t else f" (true {names[t]})")
        for p, t in zip(predicted, labels, strict=True)
    )
    print_fn(
        f"{name}: {int(np.sum(predicted == labels))}/{len(labels)} "
        f"correct: {pairs}"
    )
    return float(np.mean(predicted == labels))


def _continue_sentence(name, print_fn):
    import hadamard_zoo

    model = hadamard_zoo.load_classifier(name)
    (perplexity,) = model.perplexity([SENTENCE])
    continued = model.generate(PROMPT, max_length=12)
    print_fn(
        f"{name}: perplexity {perplexity:.1f} of {SENTENCE!r}; "
        f"{PROMPT!r} -> {continued!r}"
    )
    return float(perplexity)


def _draw_grid(name, metrics, grid_dir, print_fn):
    from hadamard_zoo import cli
    from hadamard_zoo import generation
    from hadamard_zoo.image_grid import write_image_grid

    generator = generation.load_generator(name)
    label_maps = None
    if hasattr(generator, "segmap_from_labels"):  # SPADE
        label_maps = cli.bundled_label_maps(name, generator)
    images = generation.sample_images(
        generator, GRID_IMAGES, seed=0, label_maps=label_maps
    )
    path = write_image_grid(
        pathlib.Path(grid_dir) / f"{name}.png", images, columns=8
    )
    fid = metrics.get("value")
    quality = f" (FID {fid:.2f})" if isinstance(fid, (int, float)) else ""
    print_fn(f"{name}: {GRID_IMAGES} generated images{quality} -> {path}")
    return str(path)


def run(epochs=150, seed=0, print_fn=print):
    """Runs the comparison and returns its rows as dicts."""
    rows = []
    print_fn(
        f"Backend: {keras.backend.backend()}. Each model: best of learning "
        f"rates {LEARNING_RATES} on validation, Adam, {epochs} epochs."
    )
    header = f"{'target':<12} {'model':<8} {'params':>6} {'lr':>6} "
    header += f"{'test MSE':>10} {'target var':>10} {'time':>6}"
    print_fn(header)
    for target, (dim, fn) in TARGETS.items():
        data = _split(np.random.default_rng(seed), dim, fn)
        variance = float(np.var(data[2][1]))
        for kind in ("CCP", "NCP", "ReLU-MLP"):
            start = time.perf_counter()
            trials = [
                (_fit(kind, data, lr, epochs, seed), lr)
                for lr in LEARNING_RATES
            ]
            (params, _, test), lr = min(trials, key=lambda t: t[0][1])
            row = dict(
                target=target,
                model=kind,
                params=params,
                learning_rate=lr,
                test_mse=test,
                target_variance=variance,
                seconds=time.perf_counter() - start,
            )
            rows.append(row)
            print_fn(
                f"{target:<12} {kind:<8} {params:>6} {lr:>6g} "
                f"{test:>10.2e} {variance:>10.2e} {row['seconds']:>5.1f}s"
            )
    return rows
