"""Does `course autograde` grade whom it should, resume where it stopped, and end with who
failed and how to retry? A stand-in grader takes nbgrader's place."""

from __future__ import annotations

import pytest
from helpers.course import course_with_submissions, stand_in_grader

from course_lib.teacher import autograde as coordinator
from course_lib.teacher import records
from course_lib.teacher.course import step_folder


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course with three submissions, graded by a stand-in that fails for 'bob'."""
    folder = course_with_submissions(tmp_path / "course")
    graded = []

    monkeypatch.setattr(coordinator, "autograde_one", stand_in_grader(graded))
    return folder, graded


def run(folder, **options):
    lines = []
    outcomes = coordinator.autograde(folder, report=lines.append, unsandboxed=True,
                                     workers=1, **options)
    return outcomes, "\n".join(lines)


def test_a_failure_is_summed_up_with_the_command_that_retries_it(course):
    folder, graded = course
    outcomes, said = run(folder)
    assert [(o.student, o.ok) for o in outcomes] == [("alice", True), ("bob", False),
                                                    ("carol", True)]
    assert "Graded 2 of 3" in said
    assert "not graded: bob: Kernel died" in said
    assert "Retry just these: course autograde mnist_cnn --force --student bob" in said


def test_a_second_run_grades_only_what_is_new_or_changed_or_failed(course):
    folder, graded = course
    run(folder, force=False)
    graded.clear()
    (step_folder(folder, "submitted", "carol", "mnist_cnn") / "mnist_cnn.ipynb").write_text(
        "carol's work, improved")
    outcomes, said = run(folder, force=False)
    assert graded == ["bob", "carol"]
    assert "Skipping 1 submission(s) graded before and unchanged since (alice)" in said


def test_force_grades_everyone_again(course):
    folder, graded = course
    run(folder, force=False)
    graded.clear()
    run(folder, force=True)
    assert graded == ["alice", "bob", "carol"]


def test_a_run_stopped_half_way_grades_the_unfinished_again(course, monkeypatch):
    """A forced run stopped (Ctrl-C) while grading carol: her earlier grading no longer
    counts, so the next run grades her again; alice, graded before the stop, is done."""
    folder, graded = course
    run(folder, force=False)
    original = coordinator.autograde_one

    def interrupted(course_dir, student, *args, **kwargs):
        if student == "carol":
            raise KeyboardInterrupt
        return original(course_dir, student, *args, **kwargs)

    monkeypatch.setattr(coordinator, "autograde_one", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(folder, force=True)
    assert not records.read_grading_record(folder, "carol", "mnist_cnn")
    monkeypatch.setattr(coordinator, "autograde_one", original)
    graded.clear()
    run(folder, force=False)
    assert graded == ["bob", "carol"]
