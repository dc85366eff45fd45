"""Does grading hold when an ordinary account grades, with no control group to lean on?

A teacher's laptop or a server's grading account is not root: no control group, limits
per account. This test makes a throw-away system account, gives it an environment it can
run (Debian's Python with this environment's packages, linked rather than copied) and a
course of its own, and lets it grade a hostile class through real nbgrader with two
workers side by side: a notebook that tries to leave the box, one that holds many threads
while the next student's sandbox starts, and honest work after both.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import nbformat
import pytest
from helpers.attempts import ATTEMPTS, assert_the_box_held, attempts_said
from helpers.course import new_course
from helpers.submissions import WEAK_WORK_SCORES, hand_in, printed_text, weak_work

from course_lib.autograder.sandbox import sandbox_available

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap")]

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "course-grader-test"
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
SBIN = "/usr/sbin:/sbin:/usr/bin:/bin"
LIMITS = """
c.Execute.timeout = 120
c.GradeInSandbox.memory_mb = 3000
c.GradeInSandbox.processes = 200
c.GradeInSandbox.output_total_mb = 8
"""
# In the last cell, after the work is done: 120 threads (of the 200 this kernel may have)
# held for a minute, while the students beside it are graded.
HOLD_THREADS = """import threading, time
threading.stack_size(256 * 1024)  # threads, not memory: the address space is limited too
_hold = threading.Event()
_held = [threading.Thread(target=_hold.wait, daemon=True) for _ in range(120)]
for _thread in _held:
    _thread.start()
print("holding", threading.active_count(), "threads")
time.sleep(60)
"""
# 40 MB of pictures, well past the notebook's 8 MB.
FLOOD = """from IPython.display import HTML, display
for _ in range(40):
    display(HTML("<p>" + "x" * 1_000_000 + "</p>"))
"""


def _linked_environment(target: Path) -> Path:
    """An environment of Debian's Python holding this one's packages, as hard links."""
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(target)],
                   check=True)
    site = Path(sysconfig.get_paths()["purelib"])
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    packages = target / "lib" / version / "site-packages"
    shutil.rmtree(packages)
    try:
        subprocess.run(["cp", "-al", str(site), str(packages)], check=True,
                       capture_output=True)
    except subprocess.CalledProcessError:  # another file system: copy instead
        shutil.copytree(site, packages, symlinks=True)
    for editable in packages.glob("__editable__*"):
        editable.unlink()
    project = target.parent / "project"
    shutil.copytree(ROOT / "course_lib", project / "course_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (packages / "course-under-test.pth").write_text(f"{project}\n")
    python = target / "bin" / "python"
    (target / "bin" / "alembic").write_text(
        f"#!{python}\nimport sys\nfrom alembic.config import main\nsys.exit(main())\n")
    (target / "bin" / "alembic").chmod(0o755)
    return python


@pytest.fixture(scope="module")
def graded_by_an_account(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("makes a system account: needs root")
    if not SYSTEM_PYTHON.exists():
        pytest.skip(f"needs the system's {SYSTEM_PYTHON}")
    try:
        pwd.getpwnam(ACCOUNT)
        pytest.fail(f"An account {ACCOUNT} exists already: this test makes its own.")
    except KeyError:
        pass
    place = Path(tempfile.mkdtemp(prefix="course-grading-account-", dir="/srv"))
    place.chmod(0o755)
    subprocess.run([shutil.which("useradd", path=SBIN), "--system", "--no-create-home",
                    "--shell", "/usr/sbin/nologin", ACCOUNT], check=True)
    try:
        python = _linked_environment(place / "env")
        course = new_course(place / "course", extra_config=LIMITS)
        weak = weak_work(course)
        hand_in(course, "a-holds-threads", weak, last=HOLD_THREADS)
        hand_in(course, "escaper", weak, last=ATTEMPTS + FLOOD)
        hand_in(course, "next-honest", weak)
        hand_in(course, "zzz-honest", weak)
        (place / "home").mkdir()
        subprocess.run(["chown", "-R", ACCOUNT, str(course), str(place / "home")], check=True)
        script = ("import json, sys\n"
                  "from course_lib.teacher.autograde import autograde\n"
                  "outcomes = autograde(sys.argv[1], workers=2, report=lambda line: None)\n"
                  "print(json.dumps({o.student: [o.ok, o.seconds, o.message] "
                  "for o in outcomes}))\n")
        done = subprocess.run(
            [shutil.which("runuser", path=SBIN), "-u", ACCOUNT, "--", str(python), "-c",
             script, str(course)],
            capture_output=True, text=True, timeout=1500, check=False, cwd=course,
            env={"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(place / "home"),
                 "COURSE_MNIST_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"})
        assert done.returncode == 0, done.stderr[-3000:]
        outcomes = json.loads(done.stdout.strip().splitlines()[-1])
        yield {"course": course, "outcomes": outcomes}
    finally:
        subprocess.run(["pkill", "-KILL", "-u", ACCOUNT], check=False)
        subprocess.run([shutil.which("userdel", path=SBIN), ACCOUNT], check=False)
        shutil.rmtree(place, ignore_errors=True)


def scores(course: Path, student: str) -> dict[str, float]:
    """The scores of the weakly answered cells, read as root from the account's gradebook."""
    from helpers.course import cell_scores

    found = cell_scores(course, student)
    return {cell: found[cell] for cell in WEAK_WORK_SCORES}


def test_an_account_grades_every_student(graded_by_an_account):
    """Everyone is graded, the escaper and the thread holder included."""
    outcomes = graded_by_an_account["outcomes"]
    assert {s: o[0] for s, o in outcomes.items()} == {
        "a-holds-threads": True, "escaper": True, "next-honest": True, "zzz-honest": True}


def test_the_notebook_has_no_capability_and_no_way_out(graded_by_an_account):
    """Capabilities 0, the escape and the calls a notebook never makes refused."""
    said = attempts_said(printed_text(graded_by_an_account["course"], "escaper"))
    assert_the_box_held(said)


def test_held_threads_leave_the_next_student_graded(graded_by_an_account):
    """120 threads held in one sandbox for a minute: the students graded beside and after
    it (with the grader's own threads in the same account) score exactly what their work
    earns."""
    course = graded_by_an_account["course"]
    said = printed_text(course, "a-holds-threads")
    held = re.findall(r"holding (\d+) threads", said)
    graded = nbformat.read(course / "autograded" / "a-holds-threads" / "mnist_cnn"
                           / "mnist_cnn.ipynb", 4)
    assert held and int(held[0]) > 120, graded.cells[-1]
    for student in ("a-holds-threads", "escaper", "next-honest", "zzz-honest"):
        assert scores(course, student) == WEAK_WORK_SCORES, student


def test_a_flood_of_pictures_is_cut_at_the_notebook_cap(graded_by_an_account):
    """40 MB of displayed HTML: the graded notebook keeps at most the 8 MB cap."""
    course = graded_by_an_account["course"]
    graded = course / "autograded" / "escaper" / "mnist_cnn" / "mnist_cnn.ipynb"
    assert graded.stat().st_size < 10 * 1024 * 1024
    assert "[output cut: this notebook's outputs passed 8 MB]" in printed_text(course,
                                                                               "escaper")
    assert scores(course, "escaper") == WEAK_WORK_SCORES
