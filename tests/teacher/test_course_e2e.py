"""The teacher's whole cycle, through real nbgrader commands on a temporary course copy.

Graded once for the module (about six minutes on two cores): the demo's three submissions
(the model solution, a partial one with specific mistakes, and the untouched release) and
an honest student's weak work, in English; in Dutch, the untouched release and the same
student's same answers, with the lesson's pictures.
"""

from __future__ import annotations

import json
import re
import shutil

import nbformat
import pytest
from helpers.course import auto_max_scores, cell_scores, new_course
from helpers.english import SHOW_TEXTS_CELL, english_words, shown_text
from helpers.submissions import WEAK_WORK_SCORES, autograded_outputs, hand_in, weak_work

from course_lib.autograder.sandbox import sandbox_available
from course_lib.teacher import course as teacher
from course_lib.teacher import demo, records, summary
from course_lib.teacher.autograde import autograde

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap")]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = new_course(tmp_path_factory.mktemp("course") / "course")
    students = demo.hand_in(course)
    # An honest student who deleted two test cells and quoted the lesson's marker text, and
    # keeps what the tuned training returns (as the lesson asks; shown, it is Keras' text).
    weak = weak_work(course)
    answers = {**weak, "tune_model": weak["tune_model"].replace(
                   "tuned_model.fit(", "tuned_history = tuned_model.fit("),
               "explain_generalisation": "### BEGIN HIDDEN TESTS\nI read this in the lesson.\n"}
    assert "tuned_history = " in answers["tune_model"]
    deleted = {"test_identify_digits", "test_network_accuracy"}
    hand_in(course, "honest-deleter", answers, delete=deleted)
    students.append("honest-deleter")
    outcomes = {o.student: o for o in autograde(course, students, workers=2)}
    # The lesson in Dutch: the same student's same answers, with every picture of the
    # lesson and its canvas, and the release handed in untouched.
    dutch = {o.student: o for o in autograde(course, hand_in_dutch(course, answers, deleted),
                                              assignment=DUTCH, workers=2)}
    for outcome in [*outcomes.values(), *dutch.values()]:
        print(f"autograde {outcome.student}: {outcome.seconds:.0f} s")
    pages = teacher.feedback(course)
    csv_path = teacher.export(course)
    return {"course": course, "outcomes": outcomes, "dutch": dutch, "pages": pages,
            "csv": csv_path}


DUTCH = "mnist_cnn_nl"


def hand_in_dutch(course, answers: dict[str, str], deleted: set[str]) -> list[str]:
    """In submitted/: the honest student's answers in the Dutch lesson, the lesson's
    pictures kept and its figures' and canvas's texts shown too (a cell after the imports),
    for the check that it shows no English; and the untouched Dutch release."""
    notebook_path = hand_in(course, "honest-deleter", answers, delete=deleted, pictures=True,
                            assignment=DUTCH)
    notebook = nbformat.read(notebook_path, as_version=4)
    imports = next(index for index, cell in enumerate(notebook.cells)
                   if cell.metadata.get("nbgrader", {}).get("grade_id") == "imports")
    notebook.cells.insert(imports + 1, nbformat.v4.new_code_cell(SHOW_TEXTS_CELL))
    nbformat.write(notebook, notebook_path)
    release = teacher.step_folder(course, "release", assignment=DUTCH)
    untouched = teacher.step_folder(course, "submitted", "demo-untouched", DUTCH)
    shutil.copytree(release, untouched)
    return ["honest-deleter", "demo-untouched"]


def test_every_submission_is_graded(graded):
    """Does autograding finish for all three, including the untouched release?"""
    assert {s: o.ok for s, o in graded["outcomes"].items()} == {
        "demo-solution": True, "demo-partial": True, "demo-untouched": True,
        "honest-deleter": True}


def test_solution_scores_every_point(graded):
    """Does the model solution, handed in as a student, get the maximum of every test cell?"""
    maxima = auto_max_scores(graded["course"])
    scores = cell_scores(graded["course"], "demo-solution")
    assert {cell: scores[cell] for cell in maxima} == maxima
    assert sum(maxima.values()) == 18


def test_the_dutch_lesson_scores_exactly_as_the_english_one(graded):
    """The same answers score the same in both languages, cell by cell (the weak work's
    passes and failures, and the untouched release's zeros); the Dutch submission's
    messages, hidden checks included, are in Dutch."""
    assert {s: o.ok for s, o in graded["dutch"].items()} == {"honest-deleter": True,
                                                              "demo-untouched": True}
    for student in ("honest-deleter", "demo-untouched"):
        assert cell_scores(graded["course"], student, DUTCH) == \
            cell_scores(graded["course"], student), student
    dutch = cell_scores(graded["course"], "honest-deleter", DUTCH)
    assert {cell: dutch[cell] for cell in WEAK_WORK_SCORES} == WEAK_WORK_SCORES
    assert sum(dutch.values()) == 13
    english = autograded_outputs(graded["course"], "demo-untouched")
    dutch = autograded_outputs(graded["course"], "demo-untouched", DUTCH)
    assert english["test_identify_digits"][0].startswith("You have not defined `digit_4`")
    assert dutch["test_identify_digits"][0].startswith(
        "Je hebt `digit_4`, `digit_100` nog niet gedefinieerd")


def test_the_dutch_lesson_shows_no_english(graded):
    """Does the graded Dutch lesson show no English: the weak work's printed lines,
    figures (titles, axes, legends, ticks), canvas and the messages of its failed checks,
    and the untouched release's messages from every check, visible and hidden?"""
    shown = {student: shown_text(nbformat.read(graded["course"] / "autograded" / student
                                               / DUTCH / f"{DUTCH}.ipynb", 4))
             for student in ("honest-deleter", "demo-untouched")}
    for student, text in shown.items():
        assert english_words(text) == [], f"{student} shows English:\n{text}"
    # The texts were there to be checked: labels, figures, the canvas, Dutch numbers.
    for expected in ("Gegevens:", "trainingsafbeeldingen:", "Verwarringsmatrix",
                     "Nauwkeurigheid op trainings- en validatiedata", "voorbeeld 100",
                     "welk cijfer?", "Bewaren", "netwerk van de les:", "0,"):
        assert expected in shown["honest-deleter"], expected
    assert "Je hebt `digit_4`, `digit_100` nog niet gedefinieerd" in shown["demo-untouched"]
    # The weak work's failed checks, restored ones included, say why in Dutch.
    failed = autograded_outputs(graded["course"], "honest-deleter", DUTCH)
    assert failed["test_network_accuracy"][0].startswith("Je netwerk classificeert 0,")
    assert failed["test_tuned_accuracy"][0] in shown["honest-deleter"]


def test_deleted_test_cells_come_back_where_they_work(graded):
    """Two deleted test cells are put back after what they check and score as if never
    deleted: the accuracy check finds `test_result` (its network trained one epoch, too
    few to pass). The answer that quotes the hidden-test marker does not break feedback.
    """
    scores = cell_scores(graded["course"], "honest-deleter")
    assert {cell: scores[cell] for cell in WEAK_WORK_SCORES} == WEAK_WORK_SCORES
    [message] = autograded_outputs(graded["course"], "honest-deleter")["test_network_accuracy"]
    assert message.startswith("Your network classifies")
    text = feedback_text(graded, "honest-deleter")
    assert "I read this in the lesson." in text


def test_untouched_release_scores_zero(graded):
    """Does the release, handed in untouched, score zero on every cell, written ones too?"""
    scores = cell_scores(graded["course"], "demo-untouched")
    assert scores and set(scores.values()) == {0.0}


def test_partial_submission_scores_exactly_its_correct_parts(graded):
    """Do exactly the cells with mistakes fail, and the rest pass?"""
    maxima = auto_max_scores(graded["course"])
    scores = cell_scores(graded["course"], "demo-partial")
    failed = {cell for cell in maxima if scores[cell] == 0}
    assert failed == demo.PARTIAL_FAILS
    assert all(scores[cell] == maxima[cell] for cell in maxima if cell not in failed)
    assert sum(scores[cell] for cell in maxima) == 6


def feedback_text(graded, student):
    page = graded["course"] / "feedback" / student / "mnist_cnn" / "mnist_cnn.html"
    return re.sub(r"<[^>]+>", " ", page.read_text())


def test_feedback_names_what_failed(graded):
    """Does the partial submission's feedback say, in words, what is wrong?"""
    text = feedback_text(graded, "demo-partial")
    assert re.search(r"example 100 shows a \d, not a \d", text)
    assert "Layer 7 (Dense) should have 64 neurons, but yours has 32." in text
    assert "correct_4 should say whether the network's most likely digit is the digit you read" \
        in text.replace("&#39;", "'")
    assert "NotImplementedError" in text  # the tuned model was not written


def test_feedback_hides_hidden_test_code(graded):
    """Is the code of hidden tests absent from every feedback page, tracebacks included?"""
    assert len(graded["pages"]) == 4
    for student in demo.DEMO_STUDENTS:
        text = feedback_text(graded, student)
        assert "check_identified_digits" not in text
        assert "check_interpretation(assess" not in text
        assert "check_tuned_accuracy(" not in text
        assert "BEGIN HIDDEN TESTS" not in text


def test_grades_csv_has_one_row_per_student(graded):
    """Does the exported CSV hold each student's total out of 22?"""
    every = teacher.read_grades_csv(graded["csv"])
    rows = {row["student_id"]: row for row in every if row["assignment"] == "mnist_cnn"}
    assert set(rows) == {*demo.DEMO_STUDENTS, "honest-deleter"}
    dutch = {row["student_id"]: float(row["score"]) for row in every
             if row["assignment"] == DUTCH}
    # Everyone in the gradebook has a row per assignment; two handed in the Dutch one.
    assert dutch == {"demo-solution": 0.0, "demo-partial": 0.0, "demo-untouched": 0.0,
                     "honest-deleter": 13.0}
    assert {s: float(r["score"]) for s, r in rows.items()} == {
        "demo-solution": 18.0, "demo-partial": 6.0, "demo-untouched": 0.0,
        "honest-deleter": 13.0}
    assert {float(r["max_score"]) for r in rows.values()} == {22.0}


def test_summary_table(graded):
    """Does the summary show per-cell points, the autograded total and what is left to grade?"""
    header, rows = summary.score_table(graded["course"])
    table = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert table["demo-solution"]["auto"] == "18/18"
    assert table["demo-solution"]["explain_generalisation"] == "to grade"
    assert table["demo-partial"]["architecture"] == "0/3"
    assert table["demo-untouched"]["total"] == "0/22"
    assert {row["sandbox"] for row in table.values()} == {"yes"}


def test_grading_without_sandbox_is_refused_or_marked(graded, monkeypatch):
    """Without a sandbox: no grading unless asked for, and then the summary says so."""
    from course_lib.autograder import sandbox

    monkeypatch.setattr(sandbox, "sandbox_problem", lambda: "bubblewrap is not installed")
    with pytest.raises(teacher.CourseError, match="--unsandboxed"):
        autograde(graded["course"], ["demo-untouched"])
    records.write_grading_record(graded["course"], "demo-untouched", "mnist_cnn",
                                 sandboxed=False)
    header, rows = summary.score_table(graded["course"])
    table = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert table["demo-untouched"]["sandbox"] == "NONE"
    records.write_grading_record(graded["course"], "demo-untouched", "mnist_cnn",
                                 sandboxed=True)


def test_lesson_pictures_are_shown(graded):
    """Does every plotting cell of the graded model solution show a picture?"""
    notebook = json.loads((graded["course"] / "autograded" / "demo-solution" / "mnist_cnn"
                           / "mnist_cnn.ipynb").read_text())
    plotting = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"
                and re.search(r"^plot_\w+\(", "".join(cell["source"]), re.MULTILINE)]
    assert len(plotting) >= 10
    for cell in plotting:
        kinds = [kind for output in cell["outputs"] for kind in output.get("data", {})]
        assert "image/png" in kinds, "".join(cell["source"])
