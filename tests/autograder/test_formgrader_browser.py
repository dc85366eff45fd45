"""Does a hostile submission run nothing in the teacher's Formgrader or in its feedback page?

One submission is graded through real nbgrader in the sandbox: honest weak work, with a
written answer that holds ``<img src=x onerror=...>`` and a code cell that displays HTML
with an ``onerror`` handler and a ``<script>``, and a ``Javascript(...)`` output. Each
payload, if it runs, sets a global of its own. Debian's Chromium then opens the submission
in Formgrader, on a real Jupyter server on 127.0.0.1, and the student's feedback page.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from helpers.browser import CHROMIUM_FLAGS, jupyter_server, require_chromium
from helpers.course import cell_scores, new_course
from helpers.submissions import WEAK_WORK_SCORES, hand_in, weak_work

from course_lib.autograder.sandbox import sandbox_available
from course_lib.teacher import course as teacher
from course_lib.teacher.autograde import autograde

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap")]

STUDENT = "hostile-writer"
TOKEN = "formgrader-test"
ANSWER = "My network learned the training digits by heart, so it generalises badly."
WRITTEN = f'{ANSWER}\n\n<img src=x onerror="window.ran_markdown=1">\n'
SHOWS = """from IPython.display import HTML, Javascript, display
display(HTML('<b>Shown in bold</b><img src=x onerror="window.ran_onerror=1">'
             '<script>window.ran_script=1</script>'))
display(Javascript("window.ran_javascript=1"))
"""
PAYLOADS = ["markdown", "onerror", "script", "javascript"]
RAN = "names => names.filter(name => window['ran_' + name])"  # the payloads that ran


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The course with the hostile submission graded and its feedback page written."""
    course = new_course(tmp_path_factory.mktemp("formgrader") / "course").resolve()
    answers = {**weak_work(course), "explain_generalisation": WRITTEN}
    hand_in(course, STUDENT, answers, after={"identify_digits": SHOWS})
    [outcome] = autograde(course, [STUDENT])
    assert outcome.ok, outcome.message
    [page] = teacher.feedback(course)
    return course, page


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser, url: str, allowed: str):
    """A new page that may load only from ``allowed`` (the test's own server or file), at
    ``url``: what the page asks of the internet (MathJax) fails at once instead of waiting."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*", lambda route: route.continue_()
               if route.request.url.startswith((allowed, "data:")) else route.abort())
    page.goto(url)
    return page


def log_in(page, token: str) -> None:
    """Log in on the server's login page, as the teacher does: the session's cookie then
    goes with every request the page makes, Formgrader's own included."""
    page.fill("#password_input", token)
    page.click("#login_submit")
    page.wait_for_load_state()


def submission_id(course) -> str:
    """The id Formgrader gives the student's graded notebook."""
    from nbgrader.api import Gradebook

    with Gradebook(teacher.gradebook_url(course)) as book:
        return book.find_submission_notebook("mnist_cnn", "mnist_cnn", STUDENT).id


def test_formgrader_runs_no_payload_and_shows_the_answer_and_scores(graded, browser):
    """In Formgrader's page of the submission: did no payload run, is the written answer
    there as text, and does each test cell show its score?"""
    course, _ = graded
    assert {cell: score for cell, score in cell_scores(course, STUDENT).items()
            if cell in WEAK_WORK_SCORES} == WEAK_WORK_SCORES
    with jupyter_server(course, TOKEN, course.parent / "jupyter") as url:
        submission = f"/formgrader/submissions/{submission_id(course)}/?index=0"
        page = open_page(browser, f"{url}/login?next={quote(submission)}", url)
        log_in(page, TOKEN)
        assert page.url == url + submission
        # Formgrader's own scripts fill in each autograded score once its data has loaded.
        for cell, score in WEAK_WORK_SCORES.items():
            page.wait_for_selector(f"input.score#{cell}[placeholder]", state="attached",
                                   timeout=60_000)
            assert float(page.get_attribute(f"input.score#{cell}", "placeholder")) == score
        page.wait_for_timeout(1500)  # time for a handler or a script to run, if it could
        assert page.evaluate(RAN, PAYLOADS) == []
        text = page.inner_text("#notebook")
        assert ANSWER in text
        assert '<img src=x onerror="window.ran_markdown=1">' in text
        assert "Shown in bold" in text
        page.close()


def test_feedback_page_runs_no_payload_and_shows_the_answer_and_scores(graded, browser):
    """In the student's feedback page: did no payload run, is the written answer there as
    text, and are the scores shown?"""
    course, feedback = graded
    page = open_page(browser, feedback.as_uri(), "file://")
    page.wait_for_timeout(1500)
    assert page.evaluate(RAN, PAYLOADS) == []
    text = page.inner_text("body")
    assert ANSWER in text
    assert '<img src=x onerror="window.ran_markdown=1">' in text
    scores = re.findall(r"Test cell \(Score: ([\d.]+) / [\d.]+\)", text)
    assert sorted(float(score) for score in scores) == sorted(WEAK_WORK_SCORES.values())
    page.close()
