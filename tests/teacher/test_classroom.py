"""The classroom round trip on a real JupyterHub, in a real browser.

`course hub` sets up the classroom server (system accounts for two students and the
teacher, the students' and the teacher's environments, nbgrader's exchange, JupyterHub
with configurable-http-proxy from npm) and starts it on the loopback address. Debian's
Chromium, driven by Playwright, then does what the class does: student A logs in, fetches
the assignment in the Assignments tab, opens it, runs it on the embedded sample, answers
assignment 1 and submits; student B fails to read A's home and A's submission; the teacher
collects, autogrades and returns; A fetches the feedback and sees the score. At the end,
`course hub remove` takes away the accounts, homes, processes and files it made.

Needs root, Linux, bubblewrap, Chromium and npm (`.ci/run` installs them); several minutes.
"""

from __future__ import annotations

import csv
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from course_lib.autograder.sandbox import sandbox_available
from course_lib.teacher import hub

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
STUDENT_A, STUDENT_B, TEACHER = "mnist-ada", "mnist-bob", "mnist-teacher"
MISSING = [why for why, missing in [
    ("needs root (it makes system accounts)", os.geteuid() != 0),
    ("needs bubblewrap", not sandbox_available()),
    ("needs Debian's chromium", CHROMIUM is None),
    ("needs npm (for JupyterHub's proxy)", shutil.which("npm") is None)] if missing]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_user(user: str, *command: str, state: Path) -> subprocess.CompletedProcess:
    """Run ``command`` as a classroom account, with the teacher's environment if it is the
    teacher (what their terminal in JupyterLab would run)."""
    bin_dir = state / ("teacher-env" if user == TEACHER else "student-env") / "bin"
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": pwd.getpwnam(user).pw_dir,
                   "TF_CPP_MIN_LOG_LEVEL": "2", "LANG": "C.UTF-8"}
    return subprocess.run([shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin") or
                           "runuser", "-u", user, "--", *command], capture_output=True,
                          text=True, env=environment, check=False, cwd="/")


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    if MISSING:
        if os.environ.get("CI"):
            pytest.fail("The classroom test cannot run: " + "; ".join(MISSING))
        pytest.skip("; ".join(MISSING))
    for account in (STUDENT_A, STUDENT_B, TEACHER):
        try:
            pwd.getpwnam(account)
            pytest.fail(f"An account {account} exists already: this test makes its own.")
        except KeyError:
            pass
    # Outside the test's private temporary folder: the accounts must reach the environments.
    state = Path(f"/srv/mnist-course-test-{secrets.token_hex(4)}")
    class_list = tmp_path_factory.mktemp("class") / "class.csv"
    class_list.write_text(f"id,name\n{STUDENT_A},Ada Lovelace\n{STUDENT_B},Bob Smith\n")
    port = free_port()
    started = time.perf_counter()
    lines = []
    try:
        settings = hub.setup(ROOT, class_list, state=state, teacher=TEACHER, ip="127.0.0.1",
                             port=port, report=lines.append)
        hub.start(state, report=lines.append)
        setup_seconds = time.perf_counter() - started
        yield {"state": state, "settings": settings, "url": f"http://127.0.0.1:{port}",
               "passwords": dict(csv.reader((state / "passwords.csv").read_text()
                                            .splitlines())),
               "lines": lines, "setup_seconds": setup_seconds}
    finally:
        hub.remove(state, report=lambda line: None)


def log_in(browser, classroom: dict, user: str):
    """A browser page with ``user`` logged in to the hub and their JupyterLab loaded."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{classroom['url']}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", classroom["passwords"][user])
    page.click("#login_submit")
    page.wait_for_selector('.lm-MenuBar-itemLabel:text-is("Nbgrader")', timeout=180_000)
    return page


def nbgrader_menu(page) -> list[str]:
    """The entries of JupyterLab's Nbgrader menu."""
    page.get_by_text("Nbgrader", exact=True).click()
    entries = [e for e in page.locator(".lm-Menu-itemLabel").all_inner_texts() if e]
    page.keyboard.press("Escape")
    return entries


def dismiss_dialogs(page) -> list[str]:
    """Accept any dialog JupyterLab put up (it would catch the clicks); say what it was."""
    said = []
    for dialog in page.locator(".jp-Dialog").all():
        said.append(dialog.inner_text())
        dialog.locator(".jp-Dialog-button.jp-mod-accept").first.click()
    return said


def wait_until_idle(page) -> None:
    """Wait until the notebook's kernel is ready and nothing runs."""
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        " return !s || s.getAttribute('data-status') === 'idle'; }", timeout=300_000)


def open_assignments(page) -> None:
    page.get_by_text("Nbgrader", exact=True).click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()


def test_the_classroom_round_trip(classroom):
    """Release, fetch, work, submit, collect, grade, return, read the feedback."""
    from playwright.sync_api import sync_playwright

    state = classroom["state"]
    course = classroom["settings"].course_dir
    assert f"account {STUDENT_A}: password " in "\n".join(classroom["lines"])
    started = time.perf_counter()
    released = as_user(TEACHER, "course", "--course", course, "release", state=state)
    assert released.returncode == 0, released.stderr
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            teacher = log_in(browser, classroom, TEACHER)
            assert "Formgrader" in nbgrader_menu(teacher)
            teacher.close()

            ada = log_in(browser, classroom, STUDENT_A)
            # Students get the Assignments tab and nothing else of nbgrader's.
            assert nbgrader_menu(ada) == ["Assignment List"]
            open_assignments(ada)
            ada.locator("#released_assignments_list button", has_text="Fetch").click()
            ada.wait_for_selector("#fetched_assignments_list .list_item", timeout=60_000)
            ada.locator("#fetched_assignments_list a.assignment-notebooks-link").first.click()
            ada.locator("#fetched_assignments_list .nested_list_item a",
                        has_text="mnist_cnn").click()
            ada.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            wait_until_idle(ada)
            dismiss_dialogs(ada)
            ada.get_by_text("Run", exact=True).first.click()
            ada.locator('.lm-Menu-itemLabel:text-is("Run All Cells")').click()
            # The lesson runs (the data loads, the pictures appear) up to the first answer.
            ada.wait_for_selector("text=NotImplementedError", timeout=300_000)
            wait_until_idle(ada)
            dismiss_dialogs(ada)
            assert ada.locator(".jp-Notebook").get_by_text("sample").count() > 0
            answer = ada.locator(".jp-CodeCell", has_text="YOUR CODE HERE").first
            answer.locator(".cm-content").click()
            ada.keyboard.press("Control+a")
            ada.keyboard.type("digit_4 = 4\ndigit_100 = 9\n")
            ada.keyboard.press("Shift+Enter")
            wait_until_idle(ada)
            ada.keyboard.press("Control+s")
            ada.wait_for_timeout(2000)
            dismiss_dialogs(ada)
            ada.locator(".lm-TabBar-tabLabel", has_text="Assignments").click()
            ada.locator("#fetched_assignments_list button", has_text="Submit").click()
            ada.wait_for_selector("#submitted_assignments_list .list_item", timeout=60_000)

            for step in (["collect"], ["autograde"], ["return"]):
                done = as_user(TEACHER, "course", "--course", course, *step, state=state)
                assert done.returncode == 0, f"course {step[0]}: {done.stdout}{done.stderr}"
            check_student_b_cannot_reach_student_a(state)

            ada.reload()
            ada.wait_for_selector('.lm-MenuBar-itemLabel:text-is("Nbgrader")',
                                  timeout=120_000)
            open_assignments(ada)
            ada.locator("#submitted_assignments_list button",
                        has_text="Fetch Feedback").click()
            ada.locator("#submitted_assignments_list a", has_text="view feedback").click()
            ada.locator(".jp-DirListing-item", has_text="mnist_cnn.html").dblclick()
            page = ada.frame_locator("iframe").first.locator("body")
            page.get_by_text("Score:").first.wait_for(timeout=60_000)
            text = page.inner_text()
            round_trip = time.perf_counter() - started
        finally:
            browser.close()
    # Assignment 1 right (2 points), nothing else answered: 2 of the 22.
    assert re.search(r"Score: 2(\.0)? / 22(\.0)?", text), text[:500]
    print(f"classroom set up in {classroom['setup_seconds']:.0f} s; round trip (release to "
          f"feedback read) {round_trip:.0f} s")


def check_student_b_cannot_reach_student_a(state: Path) -> None:
    """B, in a terminal of their own, tries A's home, A's submission and the feedback."""
    exchange = hub.EXCHANGE / "mnist-cnn"
    home = Path(pwd.getpwnam(STUDENT_A).pw_dir)
    notebook = home / "mnist_cnn" / "mnist_cnn.ipynb"
    assert notebook.is_file()
    for command in (["cat", str(notebook)], ["ls", str(home)],
                    ["ls", str(exchange / "inbound")], ["ls", str(exchange / "feedback")]):
        tried = as_user(STUDENT_B, *command, state=state)
        assert tried.returncode != 0 and "Permission denied" in tried.stderr, command
    # A's submission is there, under a name with a random part that B cannot list, so B
    # can neither read nor overwrite it.
    [submission] = [p for p in (exchange / "inbound").iterdir()
                    if p.name.startswith(STUDENT_A + "+")]
    assert re.search(r"\+[A-Za-z0-9_-]{8,}$", submission.name)


def test_each_students_server_runs_within_the_limits(classroom):
    """Student A's server (still running after the round trip) is in a control group with
    the memory and CPU per student set in one place."""
    limits = hub.STUDENT_LIMITS
    processes = subprocess.run(["pgrep", "-u", STUDENT_A, "-f", "jupyterhub-singleuser"],
                               capture_output=True, text=True, check=False).stdout.split()
    if not processes:
        pytest.skip("A's server is no longer running")
    groups = Path(f"/proc/{processes[0]}/cgroup").read_text().splitlines()
    memory = next(line.split(":", 2)[2] for line in groups
                  if line.split(":")[1] in ("memory", ""))
    base = Path("/sys/fs/cgroup") / ("memory" if (Path("/sys/fs/cgroup/memory")).is_dir()
                                     else "")
    limit_file = next(p for p in (base / memory.lstrip("/") / "memory.limit_in_bytes",
                                  base / memory.lstrip("/") / "memory.max") if p.exists())
    assert int(limit_file.read_text()) == limits.memory_mb * 2**20
