"""The class competition: ranked by what the grader measured, names safe, the page out.

Graded submissions are made the way grading leaves them: the checker's verdicts as JSON
(:func:`verdicts_json`, read back with :func:`read_verdicts`), kept in the test cells of
the real student version (:func:`keep_measured`, as ``GradeInSandbox`` does), recorded by
the coordinator's :func:`records.write_grading_record`.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest
from helpers.course import ROOT, course_with_submissions

from course_lib.autograder.handover import (
    MEASURED_KEY,
    Verdict,
    is_test_cell,
    keep_measured,
    read_verdicts,
    verdicts_json,
)
from course_lib.teacher import leaderboard, records
from course_lib.teacher.cli import main
from course_lib.teacher.course import step_folder

ASSIGNMENT = "mnist_cnn"
RELEASE = ROOT / "release" / ASSIGNMENT / "mnist_cnn.ipynb"
STUDENTS = ("alice", "bob", "carol", "dave", "eve", "frank", "gina")


def trained(accuracy: float, cost: int, parameters: int) -> dict:
    """A measurement as check_tuned_accuracy keeps it for a recipe it trained."""
    return {"status": "trained", "data": "sample", "epochs": 5, "batch_size": 64,
            "budget": 2_000_000_000_000, "cost": cost, "parameters": parameters,
            "accuracy": accuracy, "test_size": 10_000, "passed": accuracy >= 0.94}


def grade(course: Path, student: str, measured: dict | None, *, forged: dict | None = None,
          name: bytes | None = None) -> None:
    """Leave ``student``'s submission as grading does: the graded notebook with the
    checker's measurement in its test cell, and the grading record."""
    verdicts = read_verdicts(verdicts_json([
        Verdict("test_tuned_structure", True),
        Verdict("test_tuned_accuracy", measured is not None and measured.get("passed", False),
                "" if measured and measured.get("passed") else "AssertionError",
                "" if measured and measured.get("passed") else "below the mark", measured)]),
        ["test_tuned_structure", "test_tuned_accuracy"])
    by_id = {v.grade_id: v for v in verdicts}
    notebook = nbformat.read(RELEASE, as_version=4)
    for cell in notebook.cells:
        if is_test_cell(cell):
            verdict = by_id.get(cell.metadata.nbgrader["grade_id"])
            keep_measured(cell, verdict.measured if verdict else None)
    if forged:
        # A cell of the student's own, made to look like the check's: never read.
        notebook.cells.append(nbformat.v4.new_code_cell("tuned_accuracy = 0.999", metadata={
            "nbgrader": {"grade_id": "test_tuned_accuracy", "grade": False,
                         "solution": False, "locked": False}, MEASURED_KEY: forged}))
    graded = step_folder(course, "autograded", student, ASSIGNMENT)
    graded.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, graded / "mnist_cnn.ipynb")
    if name is not None:
        (step_folder(course, "submitted", student, ASSIGNMENT) / leaderboard.NAME_FILE
         ).write_bytes(name)
    records.write_grading_record(
        course, student, ASSIGNMENT, sandboxed=True,
        submission=records.submission_digest(course, student, ASSIGNMENT),
        measured=records.graded_measurements(course, student, ASSIGNMENT))


@pytest.fixture
def course(tmp_path):
    course = course_with_submissions(tmp_path / "course", STUDENTS)
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    return course


def test_the_class_is_ranked_by_the_graders_measurement(course):
    """Is the ranking the grader's accuracy, cheaper first on a tie, with the rest apart?"""
    grade(course, "alice", trained(0.9712, 900_000_000_000, 120_000), name=b"Alice's CNN")
    grade(course, "bob", trained(0.9855, 1_500_000_000_000, 300_000))
    grade(course, "carol", trained(0.9855, 1_100_000_000_000, 450_000), name=b"Carol")
    # Dave says in his notebook that he reached 0.999: only the grader's number counts.
    grade(course, "dave", trained(0.9120, 400_000_000_000, 50_000),
          forged=trained(0.999, 1, 1))
    grade(course, "eve", {"status": "over_budget", "data": "sample", "epochs": 90,
                          "batch_size": 8, "budget": 2_000_000_000_000,
                          "cost": 9_800_000_000_000})
    grade(course, "frank", None)  # no tuned network handed in
    # gina handed in, but her grading failed: no record.

    board = leaderboard.build_board(course, ASSIGNMENT)
    ranked = [(e.rank, e.student, e.accuracy) for e in board.ranked]
    assert ranked == [(1, "carol", 0.9855), (2, "bob", 0.9855), (3, "alice", 0.9712),
                      (4, "dave", 0.912)]
    assert {e.student: e.reason for e in board.apart} == {
        "eve": "over_budget", "frank": "no_recipe", "gina": "not_graded"}

    text = leaderboard.table(board, "en")
    lines = text.splitlines()
    first = next(line for line in lines if line.startswith("1 "))
    assert "Carol" in first and "0.9855" in first and "450,000" in first and "1,100" in first
    assert "over the training budget (9,800 of 2,000 billion multiply-adds)" in text
    assert "dave" not in text and "bob" not in text  # anonymous: no ids
    assert re.search(r"^2 +student \d+ +0\.9855", text, re.M), text


def test_the_page_in_dutch_and_english(course):
    """Is the page self-contained, script-free, in the asked language, numbers its way?"""
    grade(course, "alice", trained(0.9712, 900_000_000_000, 120_000), name=b"Alice")
    grade(course, "eve", {"status": "breaks_rules", "data": "sample", "epochs": 5,
                          "batch_size": 64, "budget": 2_000_000_000_000})
    board = leaderboard.build_board(course, ASSIGNMENT)
    dutch = leaderboard.page(board, "nl")
    assert '<html lang="nl">' in dutch and "Wie haalt de beste nauwkeurigheid?" in dutch
    assert "0,9712" in dutch and "120 000" in dutch and "10 000 testcijfers" in dutch
    assert "het afgestelde netwerk volgt de regels niet" in dutch
    english = leaderboard.page(board, "en")
    assert "Who achieves the best accuracy?" in english and "0.9712" in english
    for page in (dutch, english):
        assert "<script" not in page.lower() and "src=" not in page and "href=" not in page

    main(["--course", str(course), "leaderboard", "--language", "nl",
          "--html", str(course / "class.html")])
    written = (course / "class.html").read_text()
    assert "Wie haalt" in written and "Alice" in written
    assert (course / leaderboard.PUBLISHED / f"{ASSIGNMENT}.html").is_file()


def test_hostile_names_are_shown_as_text_or_not_at_all(course):
    """Are markup, long names, another's id or name, and look-alikes made harmless?"""
    hostile = {
        "alice": b"<script>alert(1)</script><img src=x onerror=alert(2)>",
        "bob": b"x" * 5000 + b"\nsecond line",
        "carol": b"  DAVE ",  # another student's id
        "dave": b"student 3",  # an anonymous label
        "eve": "\u202eevil\u200b\x00\x1b[31mred".encode(),
        "frank": b"Twins",
        "gina": b"twins!",  # the same name as frank's, as compared
    }
    for number, student in enumerate(STUDENTS):
        grade(course, student, trained(0.95 + number / 1000, 10**12, 1000),
              name=hostile[student])
    board = leaderboard.build_board(course, ASSIGNMENT)
    shown = {e.student: e.shown for e in board.ranked}
    assert shown["alice"].startswith("<script>") and len(shown["alice"]) == 24
    assert shown["bob"] == "x" * leaderboard.NAME_LENGTH
    assert shown["eve"] == "evil[31mred"  # no direction override, invisible or escape
    for student in ("carol", "dave", "frank", "gina"):
        assert shown[student].startswith("#"), (student, shown[student])
    assert "another student of the class (dave)" in board.refused_names["carol"]
    assert board.refused_names["frank"] == board.refused_names["gina"] == \
        "two students chose it"

    page = leaderboard.page(board, "en")
    assert "<script>" not in page and "<img" not in page
    assert html.escape("<script>alert(1)</scrip") in page
    # Anonymous numbers are kept for the term and do not follow the ids' order.
    again = {e.student: e.shown for e in leaderboard.build_board(course, ASSIGNMENT).ranked}
    assert again == shown
    aliases = json.loads((course / leaderboard.ALIASES).read_text())
    assert sorted(aliases.values()) == list(range(1, len(STUDENTS) + 1))
    assert (course / leaderboard.ALIASES).stat().st_mode & 0o077 == 0


def test_a_measurement_a_student_put_in_a_test_cell_does_not_survive_grading():
    """Does grading replace whatever the handed-in test cell's metadata held?"""
    notebook = nbformat.read(RELEASE, as_version=4)
    [cell] = [c for c in notebook.cells
              if c.metadata.get("nbgrader", {}).get("grade_id") == "test_tuned_accuracy"]
    cell.metadata[MEASURED_KEY] = trained(0.999, 1, 1)
    keep_measured(cell, None)  # the check measured nothing (e.g. no tuned network)
    assert MEASURED_KEY not in cell.metadata
    cell.metadata[MEASURED_KEY] = trained(0.999, 1, 1)
    keep_measured(cell, trained(0.9, 5, 5))
    assert cell.metadata[MEASURED_KEY]["accuracy"] == 0.9


def test_the_hub_serves_it_to_logged_in_members_only():
    """Does the hub's configuration run the service as the teacher, for every user?"""
    config = leaderboard.hub_service_config("teacher", "/srv/env/bin/python", "/home/t/c",
                                            port=8123)
    namespace = {"c": type("C", (), {})()}
    namespace["c"].JupyterHub = type("J", (), {})()
    exec(config, namespace)  # noqa: S102 - the lines written into jupyterhub_config.py
    [service] = namespace["c"].JupyterHub.services
    assert service["user"] == "teacher" and service["url"] == "http://127.0.0.1:8123"
    assert service["command"][-1] == "/home/t/c/leaderboard"
    [role] = namespace["c"].JupyterHub.load_roles
    assert role == {"name": "user", "scopes": ["self", "access:services!service=leaderboard"]}


@pytest.mark.slow
def test_the_checker_hands_on_what_it_measured(tmp_path, course):
    """Does the real checking process send, with its verdict, the accuracy it measured when
    it trained the recipe (and the cost of one over the budget), so that it is ranked?"""
    import base64
    import subprocess
    import sys

    import keras
    from keras import layers

    from course_lib.autograder import checker, own_digits
    from course_lib.autograder.handover import CellToCheck, CheckRequest, HandedOver, HandedValue

    tiny = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, activation="relu"),
                             layers.MaxPooling2D(4), layers.Flatten(),
                             layers.Dense(10, activation="softmax")])
    tiny.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    tiny.save(tmp_path / "tiny.keras")
    network = base64.b64encode((tmp_path / "tiny.keras").read_bytes()).decode()
    code = ("from course_lib.autograder.checks import check_tuned_accuracy\n"
            "check_tuned_accuracy(tuned_model, tuned_epochs, tuned_batch_size)\n")
    cells = [CellToCheck("test_tuned_accuracy", code, HandedOver({
        "tuned_model": HandedValue("keras", network), "tuned_epochs": HandedValue("json", e),
        "tuned_batch_size": HandedValue("json", b)})) for e, b in ((1, 128), (100, 1))]
    request = tmp_path / "request"
    CheckRequest(cells).write(request)
    (tmp_path / "submission").mkdir()
    own_digits.gather(tmp_path / "submission", request / checker.OWN_DIGITS)
    done = subprocess.run([sys.executable, "-I", "-m", checker.MODULE, str(request)],
                          input="go\n", capture_output=True, text=True, timeout=600,
                          check=False)
    trained_once, over = [Verdict(**item)
                          for item in json.loads(done.stdout.strip().splitlines()[-1])]
    assert trained_once.measured["status"] == "trained", trained_once
    assert 0 < trained_once.measured["accuracy"] < 1
    assert trained_once.measured["parameters"] == tiny.count_params()
    assert trained_once.measured["cost"] < trained_once.measured["budget"]
    assert over.measured["status"] == "over_budget", over
    assert over.measured["cost"] > over.measured["budget"]

    grade(course, "alice", trained_once.measured)
    grade(course, "bob", over.measured)
    board = leaderboard.build_board(course, ASSIGNMENT)
    assert [(e.student, e.accuracy) for e in board.ranked] == [
        ("alice", trained_once.measured["accuracy"])]
    assert {e.student: e.reason for e in board.apart}["bob"] == "over_budget"


def test_the_service_sends_whoever_is_not_logged_in_to_the_hub(tmp_path, monkeypatch):
    """Does the service answer a request without the hub's login (or with a made-up
    cookie) with a redirect to the hub's login, never with the page?"""
    import asyncio
    import threading
    import urllib.error
    import urllib.request

    from helpers.browser import free_port
    from tornado.httpserver import HTTPServer

    from course_lib.teacher import leaderboard_service

    (tmp_path / "mnist_cnn.html").write_text("<p>the ranking</p>")
    port, prefix = free_port(), "/services/leaderboard/"
    for name, value in {"JUPYTERHUB_API_TOKEN": "service-token",
                        "JUPYTERHUB_API_URL": "http://127.0.0.1:9/hub/api",
                        "JUPYTERHUB_BASE_URL": "/", "JUPYTERHUB_CLIENT_ID": "service-leaderboard",
                        "JUPYTERHUB_SERVICE_PREFIX": prefix,
                        "JUPYTERHUB_OAUTH_CALLBACK_URL": prefix + "oauth_callback",
                        "JUPYTERHUB_OAUTH_ACCESS_SCOPES":
                            '["access:services!service=leaderboard"]'}.items():
        monkeypatch.setenv(name, value)
    started, loops = threading.Event(), []

    def serve():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loops.append(loop)
        HTTPServer(leaderboard_service.make_app(tmp_path, prefix)).listen(port, "127.0.0.1")
        loop.call_soon(started.set)
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    assert started.wait(10)

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        for cookie in ("", "service-leaderboard=made-up; jupyterhub-session-id=x"):
            request = urllib.request.Request(f"http://127.0.0.1:{port}{prefix}",
                                             headers={"Cookie": cookie} if cookie else {})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.build_opener(Stay).open(request, timeout=20)
            assert refused.value.code in (302, 303), refused.value.code
            assert "/hub/api/oauth2/authorize" in refused.value.headers["Location"]
            assert b"the ranking" not in refused.value.read()
    finally:
        loops[0].call_soon_threadsafe(loops[0].stop)
