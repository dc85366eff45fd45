"""The classroom round trip on a real JupyterHub, in a real browser.

`course hub` sets up the classroom server (system accounts for two students and the
teacher, the students' and the teacher's environments, nbgrader's exchange, JupyterHub
with configurable-http-proxy from npm) and starts it on the loopback address, on HTTPS
with a certificate of a school CA made here (which Chromium is told to trust by policy),
its plain-HTTP port only redirecting. Debian's Chromium, driven by Playwright, then does
what the class does: student A logs in, fetches the assignment in the Assignments tab,
opens it, runs it on the embedded sample, answers assignment 1 and submits; student B, a
hostile classmate, hands in as A, hands in links to the teacher's files, tries to take
the exchange's course folder and to read the hub's files, and fails to read A's home and
A's submission; the teacher (Formgrader inside JupyterLab, `course` on a login shell's
PATH, in the course folder) collects, autogrades and returns; A fetches the feedback and
sees the score. Both students then open the class's leaderboard service and see A, under
the name A chose, ranked by the accuracy the grader measured of A's tuned recipe; without
a login it sends to the login page. A student added to the class list then logs in
without a restart. At the end, `course hub remove` takes away the accounts, homes,
processes and files it made.

Needs root, Linux, bubblewrap, Chromium and npm (`.ci/run` installs them); several minutes.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers.tls import make_test_certificates

from course_lib.autograder.sandbox import sandbox_available
from course_lib.teacher import hub, hub_limits

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
STUDENT_A, STUDENT_B, TEACHER = "mnist-ada", "mnist-bob", "mnist-teacher"
NOTEBOOK = "mnist_cnn.ipynb"
FETCHED = f"mnist_cnn/{NOTEBOOK}"  # where A's notebook is, in A's home
LATE_STUDENT = "mnist-cem"  # added to the class list while the hub runs
# A's tuned network: within the rules, trained by the grader in seconds (below the mark).
TINY_RECIPE = (
    "tuned_model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(4, 3, "
    "activation='relu'), layers.MaxPooling2D(4), layers.Flatten(), layers.Dense(10, "
    "activation='softmax')])\ntuned_model.compile(optimizer='adam', "
    "loss='categorical_crossentropy', metrics=['accuracy'])\n"
    "tuned_epochs, tuned_batch_size = 1, 128\n")
ADA_NAME = "Team Ada <3"  # the name A chooses for the leaderboard, shown as text
POLICIES = Path("/etc/chromium/policies/managed")  # Debian's Chromium reads its policies here
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
    for account in (STUDENT_A, STUDENT_B, TEACHER, LATE_STUDENT):
        try:
            pwd.getpwnam(account)
            pytest.fail(f"An account {account} exists already: this test makes its own.")
        except KeyError:
            pass
    # Outside the test's private temporary folder: the accounts must reach the environments.
    state = Path(f"/srv/mnist-course-test-{secrets.token_hex(4)}")
    class_list = tmp_path_factory.mktemp("class") / "class.csv"
    class_list.write_text(f"id,name\n{STUDENT_A},Ada Lovelace\n{STUDENT_B},Bob Smith\n")
    tls = make_test_certificates(tmp_path_factory.mktemp("tls"))
    port, redirect_port = free_port(), free_port()
    started = time.perf_counter()
    lines = []
    # Chromium trusts the school's CA as a school's managed browser would: by policy.
    policy = POLICIES / f"course-test-ca-{secrets.token_hex(4)}.json"
    made = [folder for folder in (POLICIES, *POLICIES.parents) if not folder.exists()]
    try:
        POLICIES.mkdir(parents=True, exist_ok=True)
        policy.write_text(json.dumps({"CACertificates": [base64.b64encode(
            ssl.PEM_cert_to_DER_cert(tls.ca.read_text())).decode()]}))
        settings = hub.setup(ROOT, class_list, state=state, teacher=TEACHER, ip="127.0.0.1",
                             port=port, certificate=tls.certificate, key=tls.key,
                             redirect_port=redirect_port, report=lines.append)
        hub.start(state, report=lines.append)
        setup_seconds = time.perf_counter() - started
        yield {"state": state, "settings": settings, "url": f"https://127.0.0.1:{port}",
               "passwords": dict(csv.reader((state / "passwords.csv").read_text()
                                            .splitlines())),
               "lines": lines, "setup_seconds": setup_seconds, "class_list": class_list,
               "ca": tls.ca, "redirect_port": redirect_port}
    finally:
        hub.remove(state, report=lambda line: None)
        policy.unlink(missing_ok=True)
        for folder in made:  # innermost first; left if someone else put a policy there
            try:
                folder.rmdir()
            except OSError:
                break


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
    """The entries of JupyterLab's Nbgrader menu (opened, read, and closed again)."""
    open_menu(page, "Nbgrader")
    entries = [e for e in page.locator(".lm-Menu-itemLabel").all_inner_texts() if e]
    close_menu(page)
    return entries


def open_menu(page, menu: str, attempts: int = 5) -> None:
    """Open ``menu`` of JupyterLab's menu bar. A click on a slow page can land while the
    menu is still open, and close it: so it is clicked until a menu shows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(attempts):
        page.locator(f'.lm-MenuBar-itemLabel:text-is("{menu}")').click()
        try:
            page.locator(".lm-Menu").first.wait_for(timeout=10_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"JupyterLab's {menu} menu did not open after {attempts} clicks")


def close_menu(page, attempts: int = 5) -> None:
    """Close the open JupyterLab menu. Escape reaches a menu only once it has the keyboard's
    focus, which on a page slowed by grading can come late or not at all; a press of the
    mouse outside the menus closes them whatever has the focus (Lumino closes its menus on
    any press outside them). So each attempt presses Escape, then, if the menu still shows,
    the menu bar's empty end."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    def press_outside() -> None:
        last_item = page.locator(".lm-MenuBar-item").last.bounding_box()
        if last_item:  # just right of the menu bar's last title: the bar's empty end
            page.mouse.click(last_item["x"] + last_item["width"] + 20,
                             last_item["y"] + last_item["height"] / 2)

    menu = page.locator(".lm-Menu").first
    for _ in range(attempts):
        for close in (lambda: page.keyboard.press("Escape"), press_outside):
            close()
            try:
                menu.wait_for(state="hidden", timeout=5_000)
                return
            except PlaywrightTimeout:
                continue
    shown = page.locator(".lm-Menu").all_inner_texts()
    raise AssertionError(f"a JupyterLab menu stayed open after Escape and a press outside it, "
                         f"{attempts} times each: {shown}")


def choose(page, menu: str, item: str, attempts: int = 5) -> None:
    """Choose ``item`` in ``menu`` of JupyterLab's menu bar, opening the menu until the item
    shows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    entry = page.locator(f'.lm-Menu-itemLabel:text-is("{item}")')
    for _ in range(attempts):
        if not entry.is_visible():
            open_menu(page, menu)
        try:
            entry.click(timeout=10_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")  # whatever covers it: a dialog, another menu
    raise AssertionError(f"JupyterLab's {menu} menu never showed {item}")


def dismiss_dialogs(page) -> list[str]:
    """Accept any dialog JupyterLab put up (it would catch the clicks); say what it was."""
    said = []
    for dialog in page.locator(".jp-Dialog").all():
        said.append(dialog.inner_text())
        dialog.locator(".jp-Dialog-button.jp-mod-accept").first.click()
    return said


def click_past_dialogs(page, target, attempts: int = 6) -> list[str]:
    """Click ``target``, first accepting any JupyterLab dialog that comes in its way (one
    may open late, e.g. after a kernel restart, or "Select Kernel" when the kernel starts
    slowly on a busy server); return what they said, or fail with it. Each attempt waits
    30 s: on a server busy grading, the page itself answers slowly."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    said = []
    for _ in range(attempts):
        try:
            target.click(timeout=30_000)
            return said
        except PlaywrightTimeout:
            said += dismiss_dialogs(page)
    raise AssertionError(f"JupyterLab dialogs kept covering the notebook: {said}")


def kernel_state(page, notebook: str) -> str | None:
    """The state of the kernel of ``notebook``'s session, as the student's server tells it
    (None: no kernel)."""
    for session in server_api(page, "api/sessions"):
        if session.get("path") == notebook and session.get("kernel"):
            return session["kernel"].get("execution_state")
    return None


def wait_for_the_kernel(page, notebook: str, seconds: int = 600) -> None:
    """Wait until ``notebook``'s kernel has started and runs nothing, accepting any dialog
    on the way. On a busy server the kernel may fail to start when the notebook opens:
    JupyterLab then asks which kernel to start, or shows "No Kernel"; a student clicks that
    and picks the default, and so does this, after 30 s without a kernel."""
    deadline = time.monotonic() + seconds
    without_kernel_since = time.monotonic()
    while time.monotonic() < deadline:
        dismiss_dialogs(page)
        state = kernel_state(page, notebook)
        if state == "idle":
            return
        if state is not None:
            without_kernel_since = time.monotonic()
        elif time.monotonic() - without_kernel_since > 30:
            print(f"no kernel for {notebook} for 30 s: choosing one")
            page.locator(".jp-NotebookPanel-toolbar .jp-KernelName").first.click()
            without_kernel_since = time.monotonic()
        page.wait_for_timeout(1000)
    raise AssertionError(f"the kernel of {notebook} was never ready and idle: "
                         f"{server_api(page, 'api/sessions')}")


def answer_and_save(page, answer: str, saved: Path, attempts: int = 3) -> None:
    """Type ``answer`` into the notebook's first answer cell, run it, save the notebook, and
    wait until the file on disk holds it. On a server busy grading, a dialog may open late
    and take the keystrokes, or the save may come slowly: so the cell's text is read back
    before it runs and the saved file is read back before the test goes on, with a few
    attempts, and the test says which of the two never happened."""
    index = page.evaluate("() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]"
                          ".findIndex(cell => cell.classList.contains('jp-CodeCell') &&"
                          " cell.textContent.includes('YOUR CODE HERE'))")
    assert index >= 0, "the notebook shows no answer cell"
    editor = page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".cm-content")
    last_line = answer.strip().splitlines()[-1]
    for _ in range(attempts):
        late = click_past_dialogs(page, editor)
        print("dialogs accepted before answering:", late or "none")
        page.keyboard.press("Control+a")
        page.keyboard.type(answer)
        if last_line in editor.inner_text():
            break
        dismiss_dialogs(page)
    else:
        raise AssertionError(f"the answer never reached the cell: {editor.inner_text()!r}")
    page.keyboard.press("Shift+Enter")
    wait_for_the_kernel(page, FETCHED)
    for _ in range(attempts * 10):
        dismiss_dialogs(page)
        page.keyboard.press("Control+s")
        page.wait_for_timeout(2000)
        if any(last_line in source for source in cell_sources(saved)):
            return
    raise AssertionError(f"JupyterLab never saved the answer to {saved}")


def cell_sources(notebook: Path) -> list[str]:
    """The cells' texts of a notebook file; none while it is missing or half written."""
    try:
        return [cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                for cell in json.loads(notebook.read_text())["cells"]]
    except (OSError, ValueError, KeyError):
        return []


@contextlib.contextmanager
def the_hub_log_on_failure(state: Path, lines: int = 60):
    """On failure, add the end of the hub's log (every user's server logs there): what the
    student's server and kernel did is what a browser test cannot see."""
    try:
        yield
    except Exception as error:
        log = state / "jupyterhub.log"
        tail = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
        raise AssertionError(f"{error}\n\nThe end of {log}:\n" + "\n".join(tail)) from error


def open_assignments(page) -> None:
    """Open nbgrader's Assignments tab."""
    choose(page, "Nbgrader", "Assignment List")


def test_the_classroom_round_trip(classroom):
    """Release, fetch, work, submit, collect, grade, return, read the feedback."""
    from playwright.sync_api import sync_playwright

    state = classroom["state"]
    course = classroom["settings"].course_dir
    assert f"account {STUDENT_A}: password " in "\n".join(classroom["lines"])
    check_https_and_plain_http_only_redirecting(classroom)
    check_the_teachers_login_shell_has_the_tools(state, course)
    started = time.perf_counter()
    released = as_user(TEACHER, "course", "--course", course, "release", state=state)
    assert released.returncode == 0, released.stderr
    with the_hub_log_on_failure(state), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            teacher = log_in(browser, classroom, TEACHER)
            assert "Formgrader" in nbgrader_menu(teacher)
            check_formgrader_shows_inside_jupyterlab(teacher)
            [server] = hub_limits.server_processes(TEACHER)
            assert os.readlink(f"/proc/{server}/cwd") == course  # where terminals open
            teacher.close()

            ada = log_in(browser, classroom, STUDENT_A)
            # Students get the Assignments tab and nothing else of nbgrader's, no news.
            assert nbgrader_menu(ada) == ["Assignment List"]
            page_config = json.loads(ada.locator("#jupyter-config-data").text_content())
            assert "apputils-extension:announcements" in str(page_config["disabledExtensions"])
            open_assignments(ada)
            ada.locator("#released_assignments_list button", has_text="Fetch").click()
            ada.wait_for_selector("#fetched_assignments_list .list_item", timeout=60_000)
            ada.locator("#fetched_assignments_list a.assignment-notebooks-link").first.click()
            ada.locator("#fetched_assignments_list .nested_list_item a",
                        has_text="mnist_cnn").click()
            ada.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            wait_for_the_kernel(ada, FETCHED)
            choose(ada, "Run", "Run All Cells")
            # The lesson runs (the data loads, the pictures appear) up to the first answer,
            # whose error shows in its output (its code says NotImplementedError too).
            outputs = ada.locator(".jp-Notebook .jp-OutputArea-output")
            outputs.filter(has_text="NotImplementedError").first.wait_for(timeout=600_000)
            wait_for_the_kernel(ada, FETCHED)
            assert outputs.filter(has_text="sample").count() > 0  # the data's notice
            answer_and_save(ada, "digit_4 = 4\ndigit_100 = 9\n" + TINY_RECIPE,
                            Path(pwd.getpwnam(STUDENT_A).pw_dir) / FETCHED)
            chosen = as_user(STUDENT_A, "sh", "-c", f"printf '%s' '{ADA_NAME}' > "
                             "\"$HOME/mnist_cnn/leaderboard-name.txt\"", state=state)
            assert chosen.returncode == 0, chosen.stderr
            ada.locator(".lm-TabBar-tabLabel", has_text="Assignments").click()
            ada.locator("#fetched_assignments_list button", has_text="Submit").click()
            ada.wait_for_selector("#submitted_assignments_list .list_item", timeout=60_000)

            hostile_classmate_tries(state, course)
            said = {}
            grade_a = ["autograde", "mnist_cnn", "--student", STUDENT_A]
            for step in (["collect"], grade_a, ["return"]):
                done = as_user(TEACHER, "course", "--course", course, *step, state=state)
                assert done.returncode == 0, f"course {step[0]}: {done.stdout}{done.stderr}"
                said[step[0]] = done.stdout + done.stderr
            check_the_hostile_hand_ins_were_refused(said["collect"], course)
            classroom["graded"] = said["autograde"]
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
            check_a_student_added_later_logs_in_without_a_restart(browser, classroom)
        finally:
            browser.close()
    # Assignment 1 right (2 points) and a tuned recipe within the rules (1 point, its
    # accuracy below the mark), nothing else answered: 3 of the 22.
    assert re.search(r"Score: 3(\.0)? / 22(\.0)?", text), \
        f"{text[:500]}\n\ncourse autograde said:\n{classroom['graded']}"
    print(f"classroom set up in {classroom['setup_seconds']:.0f} s; round trip (release to "
          f"feedback read) {round_trip:.0f} s")


def test_the_leaderboard_after_grading(classroom):
    """After grading, does every logged-in student see the ranking by the grader's own
    measurement, under the name they chose (as text), and is anyone else sent to log in?"""
    from playwright.sync_api import sync_playwright

    if "graded" not in classroom:
        pytest.skip("needs the round trip's grading (test_the_classroom_round_trip)")
    assert "The leaderboard: " in classroom["graded"], classroom["graded"]
    service = f"{classroom['url']}/services/leaderboard/"
    trusted = ssl.create_default_context(cafile=str(classroom["ca"]))
    with urllib.request.urlopen(service, context=trusted) as anonymous:
        assert "/hub/login" in anonymous.geturl(), anonymous.geturl()
        assert ADA_NAME not in anonymous.read().decode()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for student in (STUDENT_B, STUDENT_A):  # a classmate, and the student herself
                page = browser.new_page()
                page.goto(f"{classroom['url']}/hub/login")
                page.fill("#username_input", student)
                page.fill("#password_input", classroom["passwords"][student])
                page.click("#login_submit")
                page.wait_for_url(re.compile(r"/(hub/spawn|hub/home|user/)"), timeout=60_000)
                page.goto(service)
                page.get_by_text("Who achieves the best accuracy?").wait_for(timeout=60_000)
                first = page.locator("tbody tr").first.inner_text()
                assert first.startswith("1") and ADA_NAME in first, first
                accuracy = float(re.search(r"0\.\d{4}", first).group())
                assert 0 < accuracy < 1  # measured by the grader on the test digits
                assert page.locator("script").count() == 0
                page.close()
        finally:
            browser.close()


def check_https_and_plain_http_only_redirecting(classroom: dict) -> None:
    """The hub answers on HTTPS with the school's certificate; its plain-HTTP port only
    sends the browser on to HTTPS."""
    trusted = ssl.create_default_context(cafile=str(classroom["ca"]))
    with urllib.request.urlopen(f"{classroom['url']}/hub/api", context=trusted) as answer:
        assert "version" in json.loads(answer.read())

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as redirected:
        urllib.request.build_opener(Stay).open(
            f"http://127.0.0.1:{classroom['redirect_port']}/hub/login")
    assert redirected.value.code in (301, 302, 307, 308)
    assert redirected.value.headers["Location"].startswith(f"{classroom['url']}/hub/login")


def check_the_teachers_login_shell_has_the_tools(state: Path, course: str) -> None:
    """The teacher's JupyterLab terminal is a login shell (/etc/profile resets PATH):
    `course` and `nbgrader` are found there all the same."""
    shell = subprocess.run(
        [shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin") or "runuser", "-u",
         TEACHER, "--", "bash", "-l", "-c", "command -v course; command -v nbgrader"],
        capture_output=True, text=True, check=False, cwd=course,
        env={"PATH": "/usr/bin:/bin", "HOME": pwd.getpwnam(TEACHER).pw_dir})
    tools = state / "teacher-env" / "bin"
    assert shell.stdout.split() == [str(tools / "course"), str(tools / "nbgrader")], shell


def check_formgrader_shows_inside_jupyterlab(page) -> None:
    """Nbgrader ▸ Formgrader opens Formgrader in a frame of the teacher's JupyterLab."""
    choose(page, "Nbgrader", "Formgrader")
    frame = page.frame_locator("#formgrader-iframe iframe")
    frame.get_by_text("Manage Assignments").first.wait_for(timeout=60_000)


def hostile_classmate_tries(state: Path, course: str) -> None:
    """Student B hands in as A, hands in links to the teacher's files, tries to take the
    exchange's course folder and to read the hub's files: each attempt fails or is refused
    at collection."""
    exchange = hub.EXCHANGE / "mnist-cnn"
    released = exchange / "outbound" / "mnist_cnn" / "mnist_cnn.ipynb"
    forged = exchange / "inbound" / f"{STUDENT_A}+mnist_cnn+2099-01-01 00:00:00.000000 UTC+xx"
    links = exchange / "inbound" / f"{STUDENT_B}+mnist_cnn+2020-01-01 00:00:00.000000 UTC+yy"
    script = (f"set -e; mkdir '{forged}' '{links}'; cp '{released}' '{forged}/'; "
              f"cp '{released}' '{links}/'; "
              f"ln -s '{course}/source/mnist_cnn/mnist_cnn.ipynb' '{links}/answers.ipynb'; "
              f"ln -s '{course}/gradebook.db' '{links}/gradebook.db'")
    done = as_user(STUDENT_B, "sh", "-c", script, state=state)
    assert done.returncode == 0, done.stderr  # handing in is allowed; collecting decides
    for attempt in (["mv", str(exchange), str(exchange) + "-taken"],
                    ["mkdir", str(exchange / "outbound" / "mnist_cnn_nl")],
                    ["cat", str(state / "jupyterhub.sqlite")],
                    ["cat", str(state / "jupyterhub.log")],
                    ["cat", str(state / "passwords.csv")],
                    ["cat", str(state / "hub.json")],
                    ["cat", str(state / "tls" / "key.pem")]):
        tried = as_user(STUDENT_B, *attempt, state=state)
        assert tried.returncode != 0, attempt
        assert re.search("Permission denied|Operation not permitted", tried.stderr), attempt
    assert exchange.is_dir() and not Path(str(exchange) + "-taken").exists()


def check_the_hostile_hand_ins_were_refused(said: str, course: str) -> None:
    """`course collect` refused B's hand-in as A and left B's links out, saying so."""
    assert f"Not collecting {STUDENT_A}+mnist_cnn+2099" in said, said
    assert f"made by the account {STUDENT_B}, not by the account {STUDENT_A}" in said, said
    for link in ("answers.ipynb", "gradebook.db"):
        assert f"Left out {STUDENT_B}'s {link}: a link" in said, said
    collected = Path(course) / "submitted" / STUDENT_B / "mnist_cnn"
    assert sorted(p.name for p in collected.iterdir()) == ["mnist_cnn.ipynb", "timestamp.txt"]


def check_a_student_added_later_logs_in_without_a_restart(browser, classroom: dict) -> None:
    """`course hub --class-list` again, with one more student and no address given: the
    address stays, the hub keeps running, and the new student logs in at once."""
    state, before = classroom["state"], classroom["settings"]
    class_list = classroom["class_list"]
    class_list.write_text(class_list.read_text() + f"{LATE_STUDENT},Cem Yilmaz\n")
    running = hub.running_pid(state)
    lines = []
    settings = hub.setup(ROOT, class_list, state=state, report=lines.append)
    assert (settings.url, settings.redirect_port) == (before.url, before.redirect_port)
    assert hub.running_pid(state) == running
    [password] = [line.rsplit(" ", 1)[1] for line in lines
                  if line.startswith(f"account {LATE_STUDENT}: password ")]
    page = browser.new_page()
    page.goto(f"{classroom['url']}/hub/login")
    page.fill("#username_input", LATE_STUDENT)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(r"/(hub/spawn|user/)"), timeout=60_000)
    page.close()


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
                    if p.name.startswith(STUDENT_A + "+")
                    and p.stat().st_uid == pwd.getpwnam(STUDENT_A).pw_uid]
    assert re.search(r"\+[A-Za-z0-9_-]{8,}$", submission.name)


def test_each_students_server_runs_within_the_limits(classroom):
    """Is student A's server (still running after the round trip) in a control group with
    the memory, CPU and processes per student of the generated jupyterhub_config.py
    (c.CourseSpawner.mem_limit etc.), and does `course hub status` say so?"""
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
    # `course hub status` says so, student by student.
    assert f"{STUDENT_A}: limits in force (2,560 MB, 1 core(s), 512 processes)" in \
        hub.status(classroom["state"])


# Runs in the student's page, so with the browser's own session (cookies, XSRF token).
SERVER_API = """async ([path, method, body]) => {
    const base = document.querySelector('#jupyter-config-data')
        ? JSON.parse(document.querySelector('#jupyter-config-data').textContent).baseUrl : '/';
    const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || '';
    const answer = await fetch(base + path, {method, headers: {'X-XSRFToken': xsrf,
        'Content-Type': 'application/json'}, body: body ? JSON.stringify(body) : undefined});
    return [answer.status, await answer.text()];
}"""


def server_api(page, path: str, method: str = "GET", body: dict | None = None) -> dict | list:
    """Ask the student's Jupyter server (through the hub's proxy, as their JupyterLab does)."""
    status, text = page.evaluate(SERVER_API, [path, method, body])
    assert 200 <= status < 300, f"{method} {path}: {status} {text[:300]}"
    return json.loads(text)


def reload_lab(page) -> None:
    """Reload the student's JupyterLab in the same browser session."""
    page.reload()
    page.wait_for_selector('.lm-MenuBar-itemLabel:text-is("Nbgrader")', timeout=180_000)


def test_a_student_carries_on_after_the_hub_crashes(classroom):
    """When the hub is killed mid-lesson (SIGKILL, a crash), does a logged-in student's
    server keep its process, kernel and saved work, does `course hub` start the hub again
    without touching it, and does the same browser session reach it again (also after a
    clean `course hub stop` and start)?"""
    from playwright.sync_api import sync_playwright

    from course_lib.teacher.cli import main

    state = classroom["state"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            ada = log_in(browser, classroom, STUDENT_A)
            [server] = hub_limits.server_processes(STUDENT_A)
            kernel = server_api(ada, "api/kernels", "POST", {"name": "python3"})["id"]
            work = {"type": "file", "format": "text", "content": "digit_4 = 4  # mid-lesson\n"}
            server_api(ada, "api/contents/carry-on.py", "PUT", work)

            crashed = hub.running_pid(state)
            assert crashed is not None
            os.kill(crashed, 9)
            try:
                os.waitpid(crashed, 0)  # started from here: reap it
            except ChildProcessError:
                pass
            assert hub.running_pid(state) is None  # its pid file is stale now
            assert hub_limits.server_processes(STUDENT_A) == [server]

            said = main(["--course", str(ROOT), "hub", "--class-list",
                         str(classroom["class_list"]), "--state", str(state)])
            assert said == 0
            assert hub.running_pid(state) not in (None, crashed)
            assert hub_limits.server_processes(STUDENT_A) == [server]
            reload_lab(ada)
            assert kernel in [k["id"] for k in server_api(ada, "api/kernels")]
            saved = server_api(ada, "api/contents/carry-on.py?content=1")
            assert saved["content"] == work["content"]

            assert hub.stop(state)  # a clean restart keeps it too
            assert hub_limits.server_processes(STUDENT_A) == [server]
            hub.start(state, report=lambda line: None)
            reload_lab(ada)
            assert kernel in [k["id"] for k in server_api(ada, "api/kernels")]
            assert hub_limits.server_processes(STUDENT_A) == [server]
            home = Path(pwd.getpwnam(STUDENT_A).pw_dir)
            assert (home / "carry-on.py").read_text() == work["content"]
        finally:
            browser.close()
