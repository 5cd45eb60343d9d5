"""The `hadamard-zoo` command line."""

import argparse
import sys

from hadamard_zoo.version import __version__


def _demo(args):
    # Imported here so that `hadamard-zoo --help` does not load a backend.
    from hadamard_zoo import demo

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
    demo = commands.add_parser(
        "demo",
        help="fit CCP, NCP and a ReLU MLP to synthetic targets, print errors",
    )
    demo.add_argument("--epochs", type=int, default=150)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(handler=_demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
