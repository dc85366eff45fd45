"""How many students can train at once on a classroom server? (not a test)

Runs the whole lesson, the model solution filled in, in a Jupyter kernel as a student's
JupyterLab would, and samples the kernel's memory (resident, the whole process) and CPU
time twice a second. From one student's peak memory and CPU seconds it projects how many
students a server of given cores and memory holds while they all train, and how long the
lesson's training then takes each of them: a projection from one measurement, said to be
one.

    .venv/bin/python benchmarks/classroom_capacity.py [DATA] [--cores 16] [--memory-gb 64]
        [--students 30]

DATA: an idx folder or mnist.npz (default: the embedded sample); Debian's
dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) stands in for full-size MNIST.
The table goes to benchmarks/results/classroom_capacity-<data>.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import data_name, prepare, write_table

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def kernel_usage(pid: int) -> tuple[int, float]:
    """(resident bytes, CPU seconds so far) of process ``pid`` and its children."""
    resident, cpu = 0, 0.0
    for process in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
            resident += int(Path(f"/proc/{process}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return resident, cpu


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            found += [int(c) for c in children.read_text().split()]
    return found + [g for c in found for g in _children(c)]


def run_lesson(notebook) -> dict:
    """Execute the lesson; return peak memory, CPU seconds and wall time of the kernel."""
    from nbclient import NotebookClient

    client = NotebookClient(notebook, timeout=3600, kernel_name="python3",
                            allow_errors=True)  # a stand-in data set misses pass marks
    samples, stop = [], threading.Event()

    def sample():
        while not stop.wait(0.5):
            manager = client.km
            process = getattr(getattr(manager, "provisioner", None), "process", None)
            if process is not None and process.poll() is None:
                samples.append((time.perf_counter(), *kernel_usage(process.pid)))

    watcher = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    watcher.start()
    try:
        client.execute()
    finally:
        stop.set()
        watcher.join()
    wall = time.perf_counter() - started
    peak = max(s[1] for s in samples)
    cpu = samples[-1][2]
    return {"wall": wall, "peak_mb": peak / 2**20, "cpu_seconds": cpu,
            "cores_used": cpu / wall}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=None,
                        help="idx folder or mnist.npz (default: the embedded sample)")
    parser.add_argument("--cores", type=int, default=16)
    parser.add_argument("--memory-gb", type=float, default=64)
    parser.add_argument("--students", type=int, default=30)
    options = parser.parse_args(argv)
    prepare(options.data)

    import nbformat
    from helpers.course import new_course

    from course_lib.lesson.data import load_mnist
    from course_lib.teacher import demo
    from course_lib.teacher.hub import STUDENT_LIMITS

    source = load_mnist(quiet=True)[2]
    with tempfile.TemporaryDirectory() as scratch:
        course = new_course(Path(scratch) / "course")
        answers = demo.solution_sources(course / "source" / "mnist_cnn" / "mnist_cnn.ipynb")
        notebook = demo.fill_in(course / "release" / "mnist_cnn" / "mnist_cnn.ipynb", answers)
        os.chdir(course / "release" / "mnist_cnn")
        demo.write_own_digits(Path("own_digits"))
        nbformat.validate(notebook)
        measured = run_lesson(notebook)
    cores, memory_mb, students = options.cores, options.memory_gb * 1024, options.students
    by_memory = int(memory_mb * 0.9 // measured["peak_mb"])  # 10% for the system
    # Training at once, each student's kernel gets cores/students of the CPU.
    share = min(measured["cores_used"], cores / students)
    slowdown = measured["cores_used"] / share
    lines = [
        f"Classroom capacity, {data_name(options.data, source)}; measured on "
        f"{os.cpu_count()} cores, one student's kernel through the whole lesson "
        "(model solution):", "",
        "| measure | value |", "| --- | --- |",
        f"| wall time of the lesson | {measured['wall']:.0f} s |",
        f"| peak memory of the kernel (resident) | {measured['peak_mb']:,.0f} MB |",
        f"| CPU time of the kernel | {measured['cpu_seconds']:.0f} s |",
        f"| cores used on average | {measured['cores_used']:.2f} |",
        f"| per-student limits (course_lib/teacher/hub_limits.py) | "
        f"{STUDENT_LIMITS.memory_mb:,} MB, {STUDENT_LIMITS.cpu_cores:g} core(s) |", "",
        f"Projection, not a measurement: a server of {cores} cores and "
        f"{options.memory_gb:g} GB with {students} students training at once.", "",
        "| projection | value |", "| --- | --- |",
        f"| students whose peak memory fits (90% of memory) | {by_memory} |",
        f"| CPU share of each of {students} students | {cores / students:.2f} core |",
        f"| the lesson's wall time for each (CPU-bound part slowed {slowdown:.1f}x) | "
        f"about {measured['wall'] * slowdown:.0f} s |",
    ]
    write_table("classroom_capacity", source.kind, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
