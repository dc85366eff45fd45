"""Benchmark: what grading costs on top of simply running the model solution.

Not part of the test suite. For the model solution handed in as a student would, it times

* a plain execution of the notebook (``jupyter nbconvert --execute``, no sandbox, no
  grading), and
* its autograde with every trust measure on (sandbox, handover, the separate checker that
  retrains the tuned network),

``--pairs`` times each, alternating, and prints a table with the ratio; the table is also
written to ``benchmarks/results/grading_overhead-<data>.md``. On the embedded sample by
default; pass a full-size data set (a folder with the MNIST idx files, or ``mnist.npz``;
Debian's ``dataset-fashion-mnist`` has MNIST's size and format) to measure at full size:

    .venv/bin/python benchmarks/grading_overhead.py [DATA] [--pairs 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import data_name, prepare, write_table


def plain_execution(course: Path, student: str) -> float:
    """Seconds for ``jupyter nbconvert --execute`` of the student's notebook, in a copy."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "mnist_cnn"
        shutil.copytree(course / "submitted" / student / "mnist_cnn", folder)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                        "--execute", "--ExecutePreprocessor.timeout=1800",
                        "--ExecutePreprocessor.allow_errors=True", "--output",
                        "executed.ipynb", str(folder / "mnist_cnn.ipynb")],
                       check=True, capture_output=True, cwd=folder)
        return time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=None,
                        help="idx folder or mnist.npz (default: the embedded sample)")
    parser.add_argument("--pairs", type=int, default=2, help="timings of each kind")
    options = parser.parse_args(argv)
    prepare(options.data)

    from helpers.course import new_course
    from helpers.submissions import hand_in, solution

    from course_lib.lesson.data import load_mnist
    from course_lib.teacher.autograde import autograde

    source = load_mnist(quiet=True)[2]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        course = new_course(Path(scratch) / "course")
        hand_in(course, "model-solution", solution(course), full_lesson=True)
        for number in range(options.pairs):
            plain = plain_execution(course, "model-solution")
            [graded] = autograde(course, ["model-solution"], report=lambda _: None)
            if not graded.ok:
                print(graded.message, file=sys.stderr)
                return 1
            rows.append((number + 1, plain, graded.seconds))
    table = ["| pair | plain execution (s) | autograde (s) | ratio |", "| --- | --- | --- | --- |"]
    table += [f"| {n} | {plain:.1f} | {graded:.1f} | {graded / plain:.2f} |"
              for n, plain, graded in rows]
    mean_plain = sum(r[1] for r in rows) / len(rows)
    mean_graded = sum(r[2] for r in rows) / len(rows)
    table.append(f"| mean | {mean_plain:.1f} | {mean_graded:.1f} | "
                 f"{mean_graded / mean_plain:.2f} |")
    header = (f"Model solution on {data_name(options.data, source)}; {os.cpu_count()} cores, "
              f"{platform.processor() or platform.machine()}, Python "
              f"{platform.python_version()}.")
    write_table("grading_overhead", source.kind, header + "\n\n" + "\n".join(table) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
