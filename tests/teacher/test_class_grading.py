"""Grading a class: several workers, here or on a cluster, give the scores the work earns
(those one worker gives it everywhere else in the suite), into SQLite or a school's
PostgreSQL server; a re-run skips what is done, a stopped run resumes, and the teacher's
manual grades survive.

The PostgreSQL server is a real, throw-away one (Debian's, which `.ci/run` installs) on a
loopback port. Without PostgreSQL the class is graded into SQLite and only the test of
PostgreSQL itself is skipped."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from helpers.course import NOTEBOOK, cell_scores, new_course
from helpers.dask_cluster import DaskCluster
from helpers.postgres import PostgresServer, postgres_bin
from helpers.submissions import COMPARE, WEAK_WORK_SCORES, hand_in, weak_work, wrong_work

from course_lib.autograder.sandbox import sandbox_available
from course_lib.teacher import course as teacher
from course_lib.teacher import records, summary
from course_lib.teacher.autograde import RESULTS, autograde
from course_lib.teacher.certificates import default_folder, make_certificates
from course_lib.teacher.course import gradebook_url
from course_lib.teacher.plan import default_workers
from course_lib.teacher.progress import Progress

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap")]
STUDENTS = ["broken", "weak", "wrong"]
SETTINGS = "c.Execute.timeout = 120"  # every course of this file


def hand_in_class(course):
    hand_in(course, "weak", weak_work(course))
    hand_in(course, "wrong", wrong_work())
    broken = course / "submitted" / "broken" / "mnist_cnn"
    broken.mkdir(parents=True)
    (broken / NOTEBOOK).write_text('{"cells": [ this is not JSON')


def all_scores(course):
    return {student: cell_scores(course, student) for student in ("weak", "wrong")}


@pytest.fixture(scope="module")
def two_ways(tmp_path_factory):
    """The class graded by two workers side by side, into a PostgreSQL gradebook where
    PostgreSQL is installed: a school with several graders. (One worker grades the same work,
    weak and wrong, into SQLite to the same expected scores in the trust, hostile and
    end-to-end tests: grading it a third time here would prove nothing more.)"""
    server = PostgresServer() if postgres_bin() else None
    try:
        settings = SETTINGS + (f"\nc.CourseDirectory.db_url = {server.url!r}" if server else "")
        # Generated in place: the assignment must be in the course's own gradebook.
        two = new_course(tmp_path_factory.mktemp("class") / "two", extra_config=settings,
                         generate=server is not None)
        hand_in_class(two)
        parallel_lines = []
        parallel = autograde(two, STUDENTS, workers=2, report=parallel_lines.append)
        yield {"two": two, "parallel": parallel, "parallel_lines": parallel_lines,
               "postgres": server is not None, "table": summary.score_table(two),
               "csv": teacher.read_grades_csv(teacher.export(two))}
    finally:
        if server:
            server.stop()


def earned(scores: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The test cells' scores of weak and wrong work, against what that work earns."""
    return {student: {cell: found[cell] for cell in WEAK_WORK_SCORES}
            for student, found in scores.items()}


EARNED = {"weak": WEAK_WORK_SCORES, "wrong": dict.fromkeys(WEAK_WORK_SCORES, 0)}


@pytest.fixture(scope="module")
def on_cluster(two_ways, tmp_path_factory):
    """The same class graded on a Dask cluster of two workers, over TLS with the course's
    certificates."""
    folder = tmp_path_factory.mktemp("cluster")
    three = new_course(folder / "three", extra_config=SETTINGS)
    shutil.copytree(two_ways["two"] / "submitted", three / "submitted")
    certificates, _ = make_certificates(default_folder(three))
    cluster = DaskCluster(folder, certificates)
    try:
        for number in range(2):
            cluster.start_worker(f"lab-{number}")
        cluster.wait_for_workers(2)
        lines = []
        outcomes = autograde(three, STUDENTS, scheduler=cluster.address, workers=None,
                             report=lines.append)
    finally:
        cluster.stop()
    return {"course": three, "outcomes": outcomes, "lines": lines}


def test_a_dask_cluster_gives_the_scores_of_one_machine(two_ways, on_cluster):
    """Graded by two Dask workers over TLS: the same scores as two workers in place."""
    assert "2 task(s) at once on the Dask cluster at tls://" in on_cluster["lines"][0]
    assert {o.student: o.ok for o in on_cluster["outcomes"]} == {
        "broken": False, "weak": True, "wrong": True}
    assert all_scores(on_cluster["course"]) == all_scores(two_ways["two"])


def test_two_workers_give_the_scores_the_work_earns(two_ways):
    """The scores one worker gives (weak work 13, wrong work 0), the broken notebook not
    graded, nothing doubled; no leftovers of the workers."""
    assert earned(all_scores(two_ways["two"])) == EARNED
    assert sum(all_scores(two_ways["two"])["weak"].values()) == 13
    ok = {o.student: o.ok for o in two_ways["parallel"]}
    assert ok == {"broken": False, "weak": True, "wrong": True}
    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url(two_ways["two"])) as book:
        assert sorted(s.id for s in book.students) == ["broken", "weak", "wrong"]
        assert len(book.find_assignment("mnist_cnn").submissions) == 3
    assert not (two_ways["two"] / RESULTS / "weak").exists()


def test_progress_names_failures_and_the_retry_command(two_ways):
    """A line per student with the state of the run, and a closing summary."""
    lines = "\n".join(two_ways["parallel_lines"])
    assert "with 2 worker(s), 1 thread(s) each" in lines
    assert "[3/3]" in lines and "failed: 1" in lines and "s left" in lines
    assert "not graded: broken:" in lines
    assert "Retry just these: course autograde mnist_cnn --force --student broken" in lines


@pytest.mark.skipif(postgres_bin() is None, reason="needs PostgreSQL (apt install postgresql)")
def test_grades_are_written_to_postgres_and_read_back(two_ways):
    """With a PostgreSQL gradebook, no SQLite file is made, and `course summary` and
    `course export` read the scores from PostgreSQL."""
    assert two_ways["postgres"]
    assert not (two_ways["two"] / "gradebook.db").exists()
    header, rows = two_ways["table"]
    table = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    # The written answers left blank are scored 0 automatically: out of 22.
    assert table["weak"]["auto"] == "13/18" and table["wrong"]["auto"] == "0/22"
    exported = {r["student_id"]: float(r["score"]) for r in two_ways["csv"]
                if r["assignment"] == "mnist_cnn"}
    assert {s: exported[s] for s in ("weak", "wrong")} == {"weak": 13.0, "wrong": 0.0}


def test_a_rerun_skips_what_is_graded_and_unchanged(two_ways):
    """Again without --force: nothing is graded twice, and the scores stay."""
    course = two_ways["two"]
    before = all_scores(course)
    lines = []
    assert autograde(course, ["weak", "wrong"], force=False, report=lines.append) == []
    assert "Skipping 2 submission(s)" in lines[0]
    assert all_scores(course) == before


def test_work_handed_in_again_is_graded_again_and_manual_grades_survive(two_ways):
    """The weak work handed in again with one answer changed, after a written answer was
    graded in Formgrader: does a run without --force grade only that submission again,
    score the changed answer anew and every other cell as before, and keep the manual
    grade?"""
    from nbgrader.api import Gradebook

    course = two_ways["two"]
    url = gradebook_url(course)
    with Gradebook(url) as book:
        grade = book.find_grade("explain_generalisation", "mnist_cnn", "mnist_cnn", "weak")
        grade.manual_score = 1.5
        book.db.commit()
    before = cell_scores(course, "weak")
    wrong_verdict = COMPARE.replace("accuracy_gap <= 0.05", "accuracy_gap > 0.05")
    hand_in(course, "weak", {**weak_work(course), "compare_accuracy": wrong_verdict})
    lines = []
    [again] = autograde(course, ["weak", "wrong"], force=False, report=lines.append)
    assert again.student == "weak" and again.ok, lines
    assert "Skipping 1 submission(s) graded before and unchanged since (wrong)" in lines[0]
    with Gradebook(url) as book:
        grade = book.find_grade("explain_generalisation", "mnist_cnn", "mnist_cnn", "weak")
        assert grade.manual_score == 1.5
    after = cell_scores(course, "weak")
    assert after["test_compare_accuracy"] == 0 < before["test_compare_accuracy"]
    assert {c: s for c, s in after.items() if c != "test_compare_accuracy"} == {
        c: s for c, s in before.items() if c != "test_compare_accuracy"}


def test_a_stopped_run_resumes_with_everyone_graded_once(tmp_path):
    """Kill `course autograde` after the first student: does the re-run grade only the rest?
    (Work handed in again after grading: the test before.)"""
    course = new_course(tmp_path / "course", extra_config=SETTINGS)
    hand_in(course, "aaa", weak_work(course))
    hand_in(course, "bbb", weak_work(course))
    command = [sys.executable, "-m", "course_lib.teacher.cli", "--course", str(course), "autograde",
               "--workers", "1"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           start_new_session=True, text=True)
    record = records.record_path(course, "aaa", "mnist_cnn")
    deadline = time.monotonic() + 300
    while not record.exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.5)
    os.killpg(run.pid, signal.SIGKILL)  # the machine going down, mid-way through bbb
    run.wait()
    assert record.exists() and not records.record_path(course, "bbb", "mnist_cnn").exists()
    lines = []
    outcomes = autograde(course, force=False, report=lines.append)
    assert [o.student for o in outcomes] == ["bbb"] and outcomes[0].ok
    assert "Skipping 1 submission(s) graded before and unchanged since (aaa)" in lines[0]
    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url(course)) as book:
        assert len(book.find_assignment("mnist_cnn").submissions) == 2
    assert sum(cell_scores(course, "aaa").values()) == sum(cell_scores(course, "bbb").values())


def test_a_terminal_gets_a_live_status_line():
    """On a terminal, the state of the run is redrawn while students are being graded."""
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen, lines = Terminal(), []
    progress = Progress(3, lines.append, live=screen)
    progress.started("alice")
    progress.started("bob")
    time.sleep(1.5)
    progress.finished(teacher.GradingOutcome("alice", True, 12.0))
    progress.summary([teacher.GradingOutcome("alice", True, 12.0)])
    assert "[0/3] running: alice, bob | failed: 0" in screen.getvalue()
    assert lines[0].startswith("[1/3] alice: graded in 12 s | running: bob")


def test_default_workers_one_per_core_as_far_as_memory_holds():
    """One worker per core (a worker is mostly one core's work), fewer where memory ends."""
    gib = 1024
    assert default_workers(6144, cores=2, memory=24 * gib) == 2
    assert default_workers(6144, cores=16, memory=128 * gib) == 16
    assert default_workers(6144, cores=16, memory=64 * gib) == 10
    assert default_workers(6144, cores=8, memory=4 * gib) == 1
