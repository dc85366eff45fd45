"""Benchmark: how long grading takes on full-size data (60,000 + 10,000 images).

Not part of the test suite: it takes about ten minutes on two cores. It runs the demo
(generate, three submissions, autograde, feedback, export) with a full-size data set and
prints the autograde time per submission, plus the reference network's training speed.

Full MNIST cannot be downloaded everywhere, so by default it uses Fashion-MNIST from
Debian's `dataset-fashion-mnist` package: the same format and size, other pictures
(clothes, harder to classify). Its timings carry over to MNIST; its accuracies and
therefore its scores do not. Pass another folder or mnist.npz to measure with that:

    apt-get install dataset-fashion-mnist
    .venv/bin/python benchmarks/full_size_autograde.py [PATH] [--into FOLDER]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from common import prepare

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def training_speed(epochs: int = 1) -> float:
    """Images per second of the reference CNN training on the data in use."""
    from course_lib.teacher.training import train_reference

    started = time.perf_counter()
    result = train_reference(epochs=epochs)
    return result["train_size"] * epochs / (time.perf_counter() - started)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA,
                        help="idx folder or mnist.npz (default: Debian's Fashion-MNIST)")
    parser.add_argument("--into", type=Path, default=None, help="demo folder (default: temp)")
    options = parser.parse_args(argv)
    if not Path(options.data).exists():
        print(f"error: {options.data} does not exist. Install Debian's dataset-fashion-mnist "
              "or pass a folder with the MNIST idx files.", file=sys.stderr)
        return 1
    prepare(options.data)

    from course_lib.teacher.demo import run_demo

    speed = training_speed()
    print(f"Reference CNN: {speed:,.0f} training images per second "
          f"({55_000 * 3 / speed:.0f} s for the lesson's 3 epochs of 55,000).")
    with tempfile.TemporaryDirectory() as scratch:
        demo_dir = options.into or Path(scratch) / "demo"
        result = run_demo(ROOT, demo_dir)
    for outcome in result["outcomes"]:
        print(f"autograde {outcome.student}: {outcome.seconds:.0f} s "
              f"({'graded' if outcome.ok else 'NOT graded'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
