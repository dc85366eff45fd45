"""Is the time one submission's grading may take a setting of the course, long enough for
the training budget the course allows, and is a submission past it left not graded?"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from course_lib.teacher import course


def course_with(folder: Path, settings: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n" + settings)
    return folder


@pytest.mark.parametrize(("settings", "seconds"), [
    ("", 45 * 60),
    # A raised training budget: the checker waits 10 minutes past it, the whole grading 15
    # minutes past that, so the budget is never cut short by the wait.
    ("c.GradeInSandbox.training_budget_seconds = 3600\n", 3600 + 600 + 900),
    ("c.GradeInSandbox.checking_timeout_seconds = 4000\n", 4000 + 900),
    ("c.CourseAutograde.submission_timeout_seconds = 120\n", 120),
])
def test_the_wait_for_a_submission_follows_the_course_settings(tmp_path, settings, seconds):
    """Is the whole-submission wait read from nbgrader_config.py, and derived from the
    training budget and the checker's wait when not set?"""
    assert course.submission_timeout(course_with(tmp_path / "c", settings)) == seconds


def test_a_submission_past_its_time_is_not_graded_with_the_setting_named(tmp_path,
                                                                        monkeypatch):
    """Does a grading that outlasts c.CourseAutograde.submission_timeout_seconds end as not
    graded, naming the setting, after that many seconds (not the default 45 minutes)?"""
    folder = course_with(tmp_path / "c", "c.CourseAutograde.submission_timeout_seconds = 7\n")
    waited = []

    def slow_nbgrader(course_dir, *arguments, timeout=None, environment=None):
        waited.append(timeout)
        raise subprocess.TimeoutExpired(arguments, timeout)

    monkeypatch.setattr(course, "nbgrader", slow_nbgrader)
    outcome = course.autograde_one(folder, "ada", "mnist_cnn", [])
    assert waited == [7]
    assert not outcome.ok
    assert outcome.message == "stopped after 7 s (c.CourseAutograde.submission_timeout_seconds)"
