"""Benchmark: grading a class with one worker and with N, and the training throughput.

Not part of the test suite. It hands in a class of ``--students`` copies of the model
solution (each a complete submission), grades it once with one worker and once with
``--workers`` workers (default: the number of cores), and prints the wall times and the
speed-up. It grades ``--alone`` of the submissions once more, one at a time, by a worker
limited to the share of the cores one of the N workers gets: how fast such a worker is
without neighbours. It also measures the reference CNN's training speed the way the lesson trains
it (``model.fit`` in a Jupyter kernel) against a bare Keras loop in this process, in
images per second, and projects a 16-core server from the measured times per submission
(see ``projection``). The table is printed and written to
``benchmarks/results/class_grading-<data>.md``.

    .venv/bin/python benchmarks/class_grading.py [DATA] [--students 8] [--workers 2] [--alone 2]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import data_name, prepare, write_table

TRAINING = """
import time, numpy as np, keras
from course_lib.lesson.data import load_mnist, split_validation
from course_lib.lesson.settings import profile_for
from course_lib.teacher.training import build_reference_cnn
(train_images, train_labels), _, source = load_mnist(quiet=True)
(x, y), _ = split_validation(train_images, train_labels, profile_for(source).validation_size)
x = x.reshape(-1, 28, 28, 1).astype("float32") / 255
y = keras.utils.to_categorical(y, 10)
model = build_reference_cnn()
model.fit(x[:512], y[:512], epochs=1, batch_size=64, verbose=0)  # warm-up
started = time.perf_counter()
model.fit(x, y, epochs=2, batch_size=64, verbose=0)
images_per_second = 2 * len(x) / (time.perf_counter() - started)
"""


def bare_throughput() -> float:
    """Images per second of the reference CNN's training in this very process."""
    namespace: dict = {}
    exec(TRAINING, namespace)  # noqa: S102 - our own measuring code
    return namespace["images_per_second"]


def lesson_throughput() -> float:
    """Images per second of the same training in a Jupyter kernel, as in the lesson."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(TRAINING + "\nprint(images_per_second)")]
    NotebookClient(notebook, timeout=1800, kernel_name="python3").execute()
    return float(notebook.cells[0].outputs[-1]["text"].strip().splitlines()[-1])


def grade_class_once(course: Path, workers: int) -> float:
    from course_lib.teacher.autograde import autograde

    started = time.perf_counter()
    outcomes = autograde(course, workers=workers, force=True, report=lambda _: None)
    if not all(o.ok for o in outcomes):
        raise SystemExit("grading failed: " + "; ".join(o.message for o in outcomes))
    return time.perf_counter() - started


def grade_alone(course: Path, students: list[str], threads: int) -> float:
    """Seconds per submission of one worker limited to ``threads`` cores, alone."""
    from course_lib.teacher import course as teacher
    from course_lib.teacher.workers import thread_limits

    started = time.perf_counter()
    for student in students:
        outcome = teacher.autograde_one(course, student, teacher.ASSIGNMENT, [],
                                        environment=thread_limits(threads))
        if not outcome.ok:
            raise SystemExit(f"grading {student} failed: {outcome.message}")
    return (time.perf_counter() - started) / len(students)


def projection(cores_here: int, threads: int, whole: float, share_alone: float,
               share_busy: float, server_cores: int = 16, students: int = 30) -> list[str]:
    """A server's class time and speed-up, from times per submission measured here.

    ``whole``: one worker with every core here; ``share_alone`` / ``share_busy``: a worker
    with ``threads`` cores, alone and beside the others. On the server each worker gets
    ``threads`` cores and is assumed as fast as beside its neighbours here. One worker with
    all the server's cores is bounded by Amdahl's law fitted to the two measured widths:
    at best the part that got faster from ``threads`` to ``cores_here`` cores keeps
    scaling. A slower single worker only makes the speed-up larger, so the figure is a
    lower bound.
    """
    workers = server_cores // threads
    rounds = math.ceil(students / workers)
    rows = [f"| projection: class of {students} on a {server_cores}-core server, {workers} "
            f"workers x {threads} core(s) | {rounds} rounds x {share_busy:.0f} s = "
            f"{rounds * share_busy / 60:.1f} min |"]
    if cores_here > threads and share_alone > whole:
        # t(n) = serial + parallel / n through (threads, share_alone) and (cores_here, whole)
        parallel = (share_alone - whole) / (1 / threads - 1 / cores_here)
        serial = whole - parallel / cores_here
        best_single = max(serial, 0) + parallel / server_cores
        speed_up = workers * best_single / share_busy
        rows.append(f"| projection: speed-up of those {workers} workers over one worker "
                    f"with all {server_cores} cores (at best {best_single:.0f} s each) | "
                    f"at least {speed_up:.1f} = {speed_up / workers:.2f} x N "
                    f"(target 0.8 x N) |")
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=None,
                        help="idx folder or mnist.npz (default: the embedded sample)")
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--alone", type=int, default=2,
                        help="submissions graded again by one worker with a worker's share")
    options = parser.parse_args(argv)
    prepare(options.data)

    from helpers.course import new_course
    from helpers.submissions import hand_in, solution

    from course_lib.lesson.data import load_mnist

    source = load_mnist(quiet=True)[2]
    lesson, bare = lesson_throughput(), bare_throughput()
    with tempfile.TemporaryDirectory() as scratch:
        course = new_course(Path(scratch) / "course")
        for number in range(options.students):
            hand_in(course, f"student-{number:02d}", solution(course), full_lesson=True)
        one = grade_class_once(course, 1)
        many = grade_class_once(course, options.workers)
        threads = max(1, (os.cpu_count() or 1) // options.workers)
        alone = grade_alone(course, [f"student-{n:02d}" for n in range(options.alone)],
                            threads)
        shutil.rmtree(course / "autograded", ignore_errors=True)
    per_submission = one / options.students
    # Each of the N workers graded students / N submissions in the N-worker run.
    beside_others = many * options.workers / options.students
    lines = [
        f"Data: {data_name(options.data, source)}; {os.cpu_count()} cores, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| class of {options.students} complete submissions, 1 worker | {one:.0f} s |",
        f"| the same, {options.workers} workers | {many:.0f} s |",
        f"| speed-up | {one / many:.2f} (target for {options.workers} workers on "
        f"{os.cpu_count()} cores: never below 1) |",
        f"| per submission, 1 worker with all {os.cpu_count()} cores | {per_submission:.0f} s |",
        f"| per submission, 1 worker with {threads} core(s), alone | {alone:.0f} s |",
        f"| per submission, 1 of {options.workers} workers with {threads} core(s) each | "
        f"{beside_others:.0f} s |",
        f"| reference CNN training, lesson (Jupyter kernel) | {lesson:,.0f} images/s |",
        f"| reference CNN training, bare Keras loop | {bare:,.0f} images/s |",
        *projection(os.cpu_count() or 1, threads, per_submission, alone, beside_others),
    ]
    write_table("class_grading", source.kind, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
