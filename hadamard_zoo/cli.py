"""The `hadamard-zoo` command line: list, info, predict, generate, train,
demo."""

import argparse
import json
import pathlib
import sys

from hadamard_zoo.version import __version__

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".npy")


def _list(args):
    from hadamard_zoo import presets

    rows = presets.list_presets()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No bundled presets.")
        return 0
    print(f"{'name':<36} {'params':>9} {'metric':<22} description")
    for row in rows:
        metric = row["metric"]
        value = metric.get("value")
        shown = f"{metric.get('metric')} {value:.4f}" if value else "-"
        print(
            f"{row['name']:<36} {row['params'] or 0:>9,} {shown:<22} "
            f"{row['description']}"
        )
    return 0


def _info(args):
    from hadamard_zoo import presets

    info = presets.preset_info(args.name)
    info["metrics"] = {
        k: v for k, v in info["metrics"].items() if k != "history"
    }
    print(json.dumps(info, indent=2, default=str))
    return 0


def read_image(path):
    """An image file as a `(H, W, C)` array (PNG/JPEG via Pillow, or NPY)."""
    import numpy as np

    path = pathlib.Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(
            f"Cannot read {str(path)!r}: expected one of "
            f"{', '.join(IMAGE_SUFFIXES)}."
        )
    if path.suffix.lower() == ".npy":
        image = np.load(path)
    else:
        from PIL import Image

        with Image.open(path) as pil:
            image = np.asarray(pil.convert("RGB" if pil.mode != "L" else "L"))
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3:
        raise ValueError(
            f"{str(path)!r} holds an array of shape {image.shape}; expected "
            "(height, width) or (height, width, channels)."
        )
    return image


def class_names(dataset):
    from hadamard_zoo import datasets

    names = {
        "mnist": datasets.MNIST_CLASS_NAMES,
        "fashion_mnist": datasets.FASHION_MNIST_CLASS_NAMES,
        "sst2": datasets.SST2_CLASS_NAMES,
    }
    return names.get(dataset)


def predict_top_k(classifier, example, k):
    """`[(class_index, probability), ...]` of one example.

    The example is an `(H, W, C)` image, or a str for a text classifier.
    """
    import keras
    import numpy as np

    batch = [example] if isinstance(example, str) else example[None]
    logits = classifier.predict(batch, verbose=0)
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits))[0]
    top = np.argsort(-probabilities)[:k]
    return [(int(i), float(probabilities[i])) for i in top]


def answer_query(predictor, head=None, relation=None, tail=None, k=10):
    """`[(entity name, score), ...]`: the best heads or tails of a query.

    Exactly one of `head` (then tails are ranked) and `tail` (then heads
    are) is given, with `relation`; names go through the preset's
    vocabulary, which answers unknown ones with the closest names.
    """
    if relation is None or (head is None) == (tail is None):
        raise ValueError(
            "A link-prediction query needs --relation and exactly one of "
            "--head (to rank tails) or --tail (to rank heads). Received: "
            f"head={head!r}, relation={relation!r}, tail={tail!r}."
        )
    import numpy as np

    vocabulary = predictor.preprocessor.tokenizer
    known, side = (head, "tail") if tail is None else (tail, "head")
    ids, scores = predictor.predict_top_k(
        np.array([vocabulary.entity_id(known)]),
        np.array([vocabulary.relation_id(relation)]),
        side,
        k=k,
    )
    return [
        (vocabulary.entity_name(i), float(v))
        for i, v in zip(ids[0], scores[0], strict=True)
    ]


def _predict_link(predictor, args):
    if args.images:
        raise ValueError(
            f"{args.name} is a link-prediction preset: it takes --head / "
            "--tail and --relation names, not input files."
        )
    answers = answer_query(
        predictor, args.head, args.relation, args.tail, args.top_k or 10
    )
    query = (
        f"({args.head}, {args.relation}, ?)"
        if args.tail is None
        else f"(?, {args.relation}, {args.tail})"
    )
    print(f"{query}:")
    for rank, (name, score) in enumerate(answers, 1):
        print(f"  {rank:>3}. {name}  ({score:.3f})")
    return 0


def _continue_text(model, args):
    """Continues each prompt with a language-model preset (top-k sampling,
    seeded) and prints the prompt's own perplexity."""
    import keras
    import keras_hub

    if not args.images:
        raise ValueError(f"{args.name} needs at least one prompt to continue.")
    vocabulary_size = model.preprocessor.tokenizer.vocabulary_size()
    k = min(args.top_k or 10, vocabulary_size)
    model.compile(sampler=keras_hub.samplers.TopKSampler(k=k, seed=args.seed))
    keras.utils.set_random_seed(args.seed)
    perplexities = model.perplexity(args.images)
    for prompt, perplexity in zip(args.images, perplexities, strict=True):
        text = model.generate(prompt, max_length=args.max_length)
        print(f"{prompt!r} (perplexity {perplexity:.1f}): {text}")
    return 0


def _predict(args):
    import keras_hub

    import hadamard_zoo
    from hadamard_zoo import presets
    from hadamard_zoo.models.kge import KnowledgeGraphLinkPredictor

    classifier = hadamard_zoo.load_classifier(args.name)
    if isinstance(classifier, KnowledgeGraphLinkPredictor):
        return _predict_link(classifier, args)
    if isinstance(classifier, keras_hub.models.CausalLM):
        return _continue_text(classifier, args)
    if not args.images:
        raise ValueError(f"{args.name} needs at least one INPUT to classify.")
    dataset = presets.preset_info(args.name)["metrics"].get("dataset")
    names = class_names(dataset)
    # A text classifier's inputs are the sentences themselves.
    is_text = isinstance(classifier, keras_hub.models.TextClassifier)
    for item in args.images:
        example = item if is_text else read_image(item)
        top = predict_top_k(classifier, example, args.top_k or 3)
        shown = ", ".join(
            f"{names[i] if names else i} ({p:.3f})" for i, p in top
        )
        print(f"{item}: {shown}")
    return 0


LABEL_SUFFIXES = (".png", ".npy")


def read_label_maps(path):
    """Integer label maps `(M, H, W)` from a PNG of class ids or an NPY file.

    A PNG holds one map, its pixel values the class ids (one channel:
    mode L, P or I); an NPY file holds one map `(H, W)` or several
    `(M, H, W)` of integers.
    """
    import numpy as np

    path = pathlib.Path(path)
    if path.suffix.lower() not in LABEL_SUFFIXES:
        raise ValueError(
            f"--labels {str(path)!r}: expected a .png of class ids or a "
            ".npy integer array."
        )
    if path.suffix.lower() == ".npy":
        maps = np.load(path)
    else:
        from PIL import Image

        with Image.open(path) as pil:
            if pil.mode not in ("L", "P", "I", "I;16"):
                raise ValueError(
                    f"--labels {str(path)!r}: a PNG label map has one "
                    "channel of class ids (mode L, P or I). Received a "
                    f"{pil.mode} image."
                )
            maps = np.asarray(pil)
    if maps.ndim == 2:
        maps = maps[None]
    if maps.ndim != 3 or not np.issubdtype(maps.dtype, np.integer):
        raise ValueError(
            f"--labels {str(path)!r}: expected integer class ids of shape "
            f"(height, width) or (maps, height, width). Received an array "
            f"of shape {maps.shape} and dtype {maps.dtype}."
        )
    return maps.astype("int32")


def _preset_dataset(name):
    """The `dataset` of a preset's `metrics.json`, or `None`."""
    from hadamard_zoo import presets

    path = pathlib.Path(presets.resolve(name)) / presets.METRICS_FILE
    try:
        return json.loads(path.read_text()).get("dataset")
    except (OSError, ValueError):
        return None


def bundled_label_maps(name, generator):
    """The sample label maps for SPADE preset `name` (see
    `generation.sample_label_maps`), of its dataset when that is MNIST or
    Fashion-MNIST."""
    from hadamard_zoo import generation

    dataset = _preset_dataset(name)
    if dataset not in ("mnist", "fashion_mnist"):
        dataset = "fashion_mnist"
    if generator.num_classes != 11 or generator.resolution < 28:
        raise ValueError(
            f"{name} has no bundled label maps (num_classes="
            f"{generator.num_classes}, resolution="
            f"{generator.resolution}); pass --labels."
        )
    return generation.sample_label_maps(dataset, generator.resolution)


def _generate(args):
    from hadamard_zoo import generation
    from hadamard_zoo.image_grid import SUFFIXES
    from hadamard_zoo.image_grid import write_image_grid

    if args.num < 1:
        raise ValueError(f"--num must be at least 1. Received: {args.num}.")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0. Received: {args.seed}.")
    if args.truncation is not None and not 0 <= args.truncation <= 1:
        raise ValueError(
            f"--truncation must be in [0, 1]. Received: {args.truncation}."
        )
    if pathlib.Path(args.out).suffix.lower() not in SUFFIXES:
        raise ValueError(
            f"--out must name a {' or '.join(SUFFIXES)} file. Received: "
            f"{args.out!r}."
        )
    generator = generation.load_generator(args.name)
    label_maps = None
    is_spade = hasattr(generator, "segmap_from_labels")
    if args.labels and not is_spade:
        raise ValueError(
            f"--labels is for SPADE presets; {args.name} holds a "
            f"{type(generator).__name__}, which draws from a latent alone."
        )
    if is_spade and args.labels:
        label_maps = read_label_maps(args.labels)
        try:
            generator.segmap_from_labels(label_maps)
        except ValueError as error:
            raise ValueError(f"--labels {args.labels!r}: {error}") from None
    elif is_spade:
        label_maps = bundled_label_maps(args.name, generator)
    images = generation.sample_images(
        generator,
        args.num,
        seed=args.seed,
        truncation=args.truncation,
        label_maps=label_maps,
    )
    path = write_image_grid(args.out, images, columns=args.columns)
    print(f"{args.name}: {args.num} images -> {path}")
    return 0


def _train(args):
    from hadamard_zoo.training import train

    train(
        args.name,
        output_dir=args.output,
        checkpoint_dir=args.checkpoint_dir,
        epochs=args.epochs,
        max_train_examples=args.max_train_examples,
        resume=not args.no_resume,
        data_parallel=args.data_parallel,
        data_dir=args.data_dir,
        seed=args.seed,
    )
    return 0


def _demo(args):
    # Imported here so that `hadamard-zoo --help` does not load a backend.
    from hadamard_zoo import demo

    demo.run_presets(grid_dir=args.grid_dir)
    if not args.skip_fit:
        demo.run(epochs=args.epochs, seed=args.seed)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="hadamard-zoo",
        description="Keras 3 layers and models built on the Hadamard product.",
    )
    parser.add_argument(
        "--version", action="version", version=f"hadamard_zoo {__version__}"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list the bundled presets")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_list)

    info = commands.add_parser("info", help="describe one preset")
    info.add_argument("name")
    info.set_defaults(handler=_info)

    predict = commands.add_parser(
        "predict",
        help="classify images (PNG, JPEG or NPY), or sentences for a text "
        "preset, continue prompts with a language model, or answer a "
        "link-prediction query, with a preset",
    )
    predict.add_argument("name")
    predict.add_argument(
        "images",
        nargs="*",
        metavar="INPUT",
        help="image files, or the sentences (prompts) themselves for a "
        "text (language-model) preset",
    )
    predict.add_argument(
        "--top-k", "--top", type=int, default=None, help="answers to show"
    )
    predict.add_argument(
        "--max-length",
        type=int,
        default=30,
        help="language model: tokens in prompt and continuation",
    )
    predict.add_argument(
        "--seed", type=int, default=0, help="language model: sampling seed"
    )
    predict.add_argument("--head", help="link prediction: the known head")
    predict.add_argument("--relation", help="link prediction: the relation")
    predict.add_argument("--tail", help="link prediction: the known tail")
    predict.set_defaults(handler=_predict)

    generate = commands.add_parser(
        "generate",
        help="draw a grid of images (PNG) from a generator preset",
    )
    generate.add_argument(
        "name", help="a bundled generator preset or a preset directory"
    )
    generate.add_argument("--num", type=int, default=64, help="images")
    generate.add_argument(
        "--out", default="grid.png", help="the PNG file to write"
    )
    generate.add_argument("--seed", type=int, default=0, help="sampling seed")
    generate.add_argument(
        "--truncation",
        type=float,
        default=None,
        help="StyleGAN: psi in [0, 1] (1: none)",
    )
    generate.add_argument(
        "--labels",
        help="SPADE: a label map of class ids (PNG, or NPY of shape (H, W) "
        "or (maps, H, W)); default: the bundled sample garments' maps",
    )
    generate.add_argument(
        "--columns", type=int, default=None, help="images per grid row"
    )
    generate.set_defaults(handler=_generate)

    train = commands.add_parser(
        "train", help="reproduce a preset (or baseline) from its recipe"
    )
    train.add_argument("name")
    train.add_argument("--output", help="preset directory to write")
    train.add_argument("--checkpoint-dir", help="per-epoch checkpoints")
    train.add_argument("--epochs", type=int, help="override the recipe")
    train.add_argument(
        "--max-train-examples", type=int, help="train on a subset (smoke)"
    )
    train.add_argument("--no-resume", action="store_true")
    train.add_argument(
        "--data-parallel",
        action="store_true",
        help="JAX only: shard batches over all local devices",
    )
    train.add_argument("--data-dir", help="dataset directory")
    train.add_argument(
        "--seed", type=int, help="override the recipe's seed (another run)"
    )
    train.set_defaults(handler=_train)

    demo = commands.add_parser(
        "demo",
        help="run every bundled preset on sample inputs, then fit CCP, NCP "
        "and a ReLU MLP to synthetic targets",
    )
    demo.add_argument("--epochs", type=int, default=150)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument(
        "--skip-fit", action="store_true", help="only the preset part"
    )
    demo.add_argument(
        "--grid-dir",
        default=".",
        help="where generator presets write their image grid (NAME.png)",
    )
    demo.set_defaults(handler=_demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"hadamard-zoo: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
