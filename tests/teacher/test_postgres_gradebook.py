"""Does the course work with a PostgreSQL gradebook, as a school with several graders has?

A real, throw-away PostgreSQL server (Debian's, which `.ci/run` installs) on a loopback
port: the course is generated into it, a class is graded by two workers (the merge writes
into PostgreSQL), and the summary and the CSV export read from it.
"""

from __future__ import annotations

import pytest
from helpers.course import cell_scores, new_course
from helpers.postgres import PostgresServer, postgres_bin
from helpers.submissions import WEAK_WORK_SCORES, hand_in, weak_work, wrong_work

from course_lib.autograder.sandbox import sandbox_available
from course_lib.teacher import course as teacher
from course_lib.teacher import summary
from course_lib.teacher.autograde import autograde

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap"),
              pytest.mark.skipif(postgres_bin() is None,
                                 reason="needs PostgreSQL (apt install postgresql)")]


@pytest.fixture(scope="module")
def graded_into_postgres(tmp_path_factory):
    folder = tmp_path_factory.mktemp("postgres")
    server = PostgresServer()
    try:
        course = new_course(folder / "course", generate=True, extra_config=(
            f"c.CourseDirectory.db_url = {server.url!r}\nc.Execute.timeout = 120"))
        hand_in(course, "weak", weak_work(course))
        hand_in(course, "wrong", wrong_work())
        outcomes = autograde(course, ["weak", "wrong"], workers=2)
        header, rows = summary.score_table(course)
        csv_path = teacher.export(course)
        yield {"course": course, "outcomes": outcomes, "table": (header, rows),
               "csv": csv_path, "scores": {s: cell_scores(course, s) for s in ("weak", "wrong")}}
    finally:
        server.stop()


def test_grades_are_written_to_postgres_and_read_back(graded_into_postgres):
    """No SQLite file is made; the scores in PostgreSQL are the expected ones."""
    result = graded_into_postgres
    assert all(o.ok for o in result["outcomes"])
    assert not (result["course"] / "gradebook.db").exists()
    weak = result["scores"]["weak"]
    assert {cell: weak[cell] for cell in WEAK_WORK_SCORES} == WEAK_WORK_SCORES
    assert set(result["scores"]["wrong"].values()) == {0}


def test_summary_and_export_read_postgres(graded_into_postgres):
    """`course summary` and `course export` use the configured database."""
    header, rows = graded_into_postgres["table"]
    table = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    # The written answers left blank are scored 0 automatically: out of 22.
    assert table["weak"]["auto"] == "13/18" and table["wrong"]["auto"] == "0/22"
    rows = {r["student_id"]: r for r in teacher.read_grades_csv(graded_into_postgres["csv"])
            if r["assignment"] == "mnist_cnn"}
    assert {s: float(r["score"]) for s, r in rows.items()} == {"weak": 13.0, "wrong": 0.0}
