"""The ``course`` command: the teacher's tasks with sensible defaults.

``course data status|fetch|import PATH`` prepares the data; ``course reference`` trains the
lesson's reference network on the data this computer has and reports its accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time

from course_lib.mnist_files import MnistFileError


def main(argv: list[str] | None = None) -> int:
    """Run ``course`` with ``argv`` (default: the command line); return the exit code."""
    parser = build_parser()
    options = parser.parse_args(argv)
    if not hasattr(options, "run"):
        parser.print_help()
        return 2
    try:
        return options.run(options) or 0
    except MnistFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """Describe the command line of ``course``."""
    parser = argparse.ArgumentParser(prog="course", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(title="commands")

    data = commands.add_parser("data", help="see or prepare the MNIST data").add_subparsers(
        title="data commands"
    )
    data.add_parser("status", help="say which MNIST the course uses here").set_defaults(
        run=_data_status
    )
    data.add_parser("fetch", help="download the full MNIST once (needs internet)").set_defaults(
        run=_data_fetch
    )
    importer = data.add_parser("import", help="check a copied MNIST and store it for the course")
    importer.add_argument("path", help="a keras-style mnist.npz, or a folder with the idx files")
    importer.set_defaults(run=_data_import)

    reference = commands.add_parser(
        "reference", help="train the lesson's reference CNN here and report its test accuracy"
    )
    reference.add_argument("--epochs", type=int, default=None,
                           help="epochs to train (default: the data profile's)")
    reference.set_defaults(run=_reference)

    commands.add_parser(
        "demo", help="show the course working on this computer"
    ).set_defaults(run=_reference, epochs=None)
    return parser


def _data_status(options) -> int:
    from course_lib.offline import describe_available_data

    print(describe_available_data())
    return 0


def _data_fetch(options) -> int:
    from course_lib.offline import fetch_full_set

    try:
        path = fetch_full_set()
    except MnistFileError:
        raise
    except Exception as error:  # noqa: BLE001 - a network failure, told in plain words
        print(f"error: the download failed ({error}). Connect to the internet and try again, "
              "or copy mnist.npz from another computer and run `course data import PATH`.",
              file=sys.stderr)
        return 1
    print(f"The full MNIST is stored in {path}; the course will use it from now on.")
    return 0


def _data_import(options) -> int:
    from course_lib.offline import import_full_set

    path = import_full_set(options.path)
    print(f"Checked {options.path} and stored it as {path}; the course will use it from now on.")
    return 0


def _reference(options) -> int:
    from course_lib.training import train_reference

    started = time.perf_counter()
    result = train_reference(epochs=options.epochs)
    print(
        f"Reference CNN on {result['source']}: {result['epochs']} epochs on "
        f"{result['train_size']:,} images, test accuracy {result['test_accuracy']:.3f} "
        f"({time.perf_counter() - started:.0f} s)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
