"""Who is graded, and by how many workers: the first decision of ``course autograde``.

Only an id that :func:`~course_lib.teacher.student_ids.check_student_id` accepts is ever
graded: nbgrader reads ``--student`` as a pattern, so a folder ``submitted/*/`` would grade
the whole class under one student's name. Such a folder is refused, with the reason, and
the rest of the class is graded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.autograder.limits import Limits
from course_lib.teacher.course import course_config
from course_lib.teacher.records import already_graded
from course_lib.teacher.student_ids import check_student_id


@dataclass
class Plan:
    """How a class will be graded."""

    students: list[str]
    skipped: list[str]
    workers: int
    threads_per_worker: int
    refused: dict[str, str] = field(default_factory=dict)  # id -> why it is not graded


def default_workers(memory_mb: int = Limits.memory_mb, cores: int | None = None,
                    memory: int | None = None) -> int:
    """One worker per core, as far as the memory (``memory_mb`` per worker) holds.

    A submission's grading is mostly work that one core does (starting the kernel and the
    checker, loading data, small training batches): measured on 2 cores, one worker with
    both took 121 s per full-size submission and one with a single core 129 s, so two
    workers of one core grade a class 1.48 times as fast as one of two (benchmarks page).
    """
    cores = cores or os.cpu_count() or 1
    if memory is None:
        try:
            memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
        except (ValueError, OSError, AttributeError):
            memory = memory_mb
    return max(1, min(cores, memory // memory_mb))


def plan(course_dir: Path, students: list[str], assignment: str, workers: int | None,
         force: bool) -> Plan:
    """Decide who is graded (and who is skipped or refused), by how many workers with how
    many threads."""
    refused, valid = {}, []
    for student in students:
        try:
            valid.append(check_student_id(student))
        except ValueError as error:
            refused[student] = str(error)
    skipped = [] if force else [s for s in valid
                                if already_graded(course_dir, s, assignment)]
    todo = [s for s in valid if s not in skipped]
    # Each worker's kernel may use what the course's settings allow it.
    memory_mb = course_config(course_dir).GradeInSandbox.get("memory_mb", Limits.memory_mb)
    workers = max(1, min(workers or default_workers(memory_mb), max(1, len(todo))))
    threads = max(1, (os.cpu_count() or 1) // workers)
    return Plan(todo, skipped, workers, threads, refused)
