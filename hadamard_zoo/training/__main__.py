"""`python -m hadamard_zoo.training NAME ...`: `hadamard-zoo train NAME`."""

import sys

from hadamard_zoo.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
