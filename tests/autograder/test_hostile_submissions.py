"""Can a broken or hostile submission read, spoil or stop what is not its own? It must not.

One class is graded once through real nbgrader, in the sandbox, with small limits so that
the attacks cost seconds: an honest student first and last, and between them a broken
notebook, an endless loop, and submissions that link, read, write, connect, fill the
disk, eat the memory, fork without end and end their own kernel.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest
from helpers.attempts import ATTEMPTS, assert_the_box_held, attempts_said
from helpers.course import NOTEBOOK, cell_scores, new_course
from helpers.submissions import (
    RIGHT_DIGITS,
    WEAK_WORK_SCORES,
    autograded_outputs,
    hand_in,
    printed_text,
    weak_work,
)

from course_lib.autograder.sandbox import sandbox_available
from course_lib.teacher import course as teacher
from course_lib.teacher.autograde import autograde

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap")]

# The attacks' cells stop at 20 s, so that an endless loop or a fork bomb costs seconds;
# the lesson's own cells keep a limit a busy machine cannot reach (importing TensorFlow
# once took longer than 20 s on a loaded CI machine, and failed an honest cell).
ATTACK = "# attack\n"
LIMITS = f"""
c.Execute.timeout = 300
c.Execute.timeout_func = lambda cell: 20 if {ATTACK!r} in cell.source else 300
c.GradeInSandbox.memory_mb = 3000
c.GradeInSandbox.processes = 200
c.GradeInSandbox.file_size_mb = 32
c.GradeInSandbox.tmp_size_mb = 64
"""
SECRET = "teachers-secret-4711"

SYMLINKS = """import os
os.remove("mnist_cnn.ipynb")
os.symlink({gradebook!r}, "mnist_cnn.ipynb")
os.symlink({neighbour!r}, "neighbour.ipynb")
os.symlink({source!r}, "source.ipynb")
"""

SNOOP = """import os, shutil, socket
def attempt(what, action):
    try:
        result = action()
        print("GOT", what, str(result)[:2000])
    except Exception as error:
        print("BLOCKED", what, type(error).__name__)

for path in [{source!r}, "../../../source/mnist_cnn/mnist_cnn.ipynb", {gradebook!r},
             {config!r}, {neighbour_submitted!r}, {neighbour_graded!r}, {home!r}]:
    attempt("read " + path, lambda: open(path).read() if os.path.isfile(path)
            else os.listdir(path))
attempt("write gradebook", lambda: open({gradebook!r}, "w").write("vandalised"))
attempt("delete source", lambda: shutil.rmtree({source_folder!r}))
attempt("connect", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=3))
attempt("secret", lambda: os.environ["COURSE_TEST_SECRET"])
shutil.copy("mnist_cnn.ipynb", "copied.ipynb")
os.symlink("/etc/passwd", "link-to-passwd")
print("environment:", sorted(os.environ))
"""

FILLER = """import os
def fill(path, megabytes):
    try:
        with open(path, "wb") as handle:
            for _ in range(megabytes):
                handle.write(b"x" * 1024 * 1024)
        print("FILLED", path)
    except OSError as error:
        print("STOPPED", path, error.strerror)
for name in "abcd":
    fill("/tmp/" + name, 20)
fill("big-in-own-folder", 100)
"""

MEMORY_BOMB = 'hog = b"x" * (8 * 1024 ** 3)\n'
FORK_BOMB = """import os
while True:
    os.fork()
"""
EXIT_EARLY = "import os\nos._exit(1)\n"
STOPPED_AFTER_ARCHITECTURE = {**{cell: 0 for cell in WEAK_WORK_SCORES},
                              "test_identify_digits": 2, "test_architecture": 3}


COPIES = 40


def copy_test_cell(notebook_file: Path, grade_id: str, copies: int) -> None:
    """Put ``copies`` copies of a test cell (metadata and all) right after it."""
    notebook = nbformat.read(notebook_file, 4)
    at = next(i for i, cell in enumerate(notebook.cells)
              if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    for _ in range(copies):
        copy = nbformat.from_dict(dict(notebook.cells[at]))
        copy.pop("id", None)
        notebook.cells.insert(at + 1, copy)
    nbformat.write(notebook, notebook_file)


def digest(path: Path) -> tuple[str, int]:
    """The bytes and the permission bits of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.S_IMODE(path.stat().st_mode)


class Listener:
    """A TCP server on the loopback address that counts who connects (for 60 s at most)."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        deadline = time.monotonic() + 900
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()
        self.server.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    course = new_course(tmp_path_factory.mktemp("hostile") / "course", extra_config=LIMITS)
    course = course.resolve()
    weak = weak_work(course)
    hand_in(course, "aaa-honest", weak)
    [first] = autograde(course, ["aaa-honest"])
    neighbour = course / "autograded" / "aaa-honest" / "mnist_cnn" / NOTEBOOK
    source = course / "source" / "mnist_cnn" / NOTEBOOK
    protected = [neighbour, source, course / "release" / "mnist_cnn" / NOTEBOOK,
                 course / "submitted" / "aaa-honest" / "mnist_cnn" / NOTEBOOK,
                 course / "nbgrader_config.py"]
    before = {path: digest(path) for path in protected}

    listener = Listener()
    home_secret = Path(tempfile.mkdtemp(dir=Path.home(), prefix=".course-test-")) / "notes.txt"
    home_secret.write_text(SECRET)
    paths = {"gradebook": str(course / "gradebook.db"), "neighbour": str(neighbour),
             "source": str(source), "source_folder": str(source.parent),
             "config": str(course / "nbgrader_config.py"),
             "neighbour_submitted": str(course / "submitted" / "aaa-honest"),
             "neighbour_graded": str(neighbour), "home": str(home_secret),
             "port": listener.port}
    broken = course / "submitted" / "broken-json" / "mnist_cnn"
    broken.mkdir(parents=True)
    (broken / NOTEBOOK).write_text('{"cells": [ this is not JSON')
    hand_in(course, "loops-forever",
            {"identify_digits": RIGHT_DIGITS + ATTACK + "while True:\n    pass\n"})
    # One attacker tries it all in its last cell: read, write, connect, fill, link.
    hand_in(course, "attacker", weak,
            last=ATTACK + SNOOP.format(**paths) + FILLER + SYMLINKS.format(**paths))
    hand_in(course, "memory-bomb", weak, after={"test_architecture": ATTACK + MEMORY_BOMB})
    hand_in(course, "fork-bomb", weak, last=ATTACK + FORK_BOMB)
    hand_in(course, "exits-early", weak, after={"test_architecture": ATTACK + EXIT_EARLY})
    hand_in(course, "escaper", weak, last=ATTACK + ATTEMPTS)
    copy_test_cell(hand_in(course, "copies", weak), "test_architecture", COPIES)
    hand_in(course, "zzz-honest", weak)
    attackers = ["broken-json", "loops-forever", "attacker", "memory-bomb", "fork-bomb",
                 "exits-early", "escaper", "copies", "zzz-honest"]
    os.environ["COURSE_TEST_SECRET"] = SECRET
    try:
        outcomes = {o.student: o for o in [first, *autograde(course, attackers, workers=1)]}
    finally:
        del os.environ["COURSE_TEST_SECRET"]
        listener.stop.set()
        shutil.rmtree(home_secret.parent)
    pages = teacher.feedback(course)
    return {"course": course, "outcomes": outcomes, "before": before, "listener": listener,
            "pages": pages}


def scores(hostile, student):
    found = cell_scores(hostile["course"], student)
    return {cell: found[cell] for cell in WEAK_WORK_SCORES}


def test_honest_neighbours_keep_their_exact_scores(hostile):
    """Graded before and after every attack, honest work scores exactly what it earns."""
    assert scores(hostile, "aaa-honest") == WEAK_WORK_SCORES
    assert scores(hostile, "zzz-honest") == WEAK_WORK_SCORES


def test_nothing_of_the_course_is_changed(hostile):
    """Source, release, config and the neighbour's files: the same bytes and permissions."""
    for path, before in hostile["before"].items():
        assert digest(path) == before, f"{path} was changed"
    assert (hostile["course"] / "source" / "mnist_cnn" / "sample_digits").is_dir()


def test_every_submission_is_graded_except_the_unreadable_one(hostile):
    """Only the broken notebook fails; it fails alone."""
    failed = {s: o.message for s, o in hostile["outcomes"].items() if not o.ok}
    assert set(failed) == {"broken-json"}, "\n\n".join(  # as text: pytest cuts a dict short
        f"{student}:\n{message}" for student, message in failed.items())


def test_links_made_by_the_notebook_go_nowhere(hostile):
    """A notebook that swaps itself for links to the gradebook and others' files."""
    course = hostile["course"]
    assert scores(hostile, "attacker") == WEAK_WORK_SCORES
    graded = course / "autograded" / "attacker" / "mnist_cnn"
    assert not any(path.is_symlink() for path in graded.rglob("*"))
    assert sorted(p.name for p in graded.iterdir()) == ["mnist_cnn.ipynb", "own_digits",
                                                        "sample_digits"]
    # The gradebook is still a database with everyone's scores.
    assert scores(hostile, "aaa-honest") == WEAK_WORK_SCORES


def test_snooping_reads_nothing_and_reaches_no_one(hostile):
    """Source, gradebook, config, other students, home, network, secrets: all blocked."""
    course = hostile["course"]
    text = printed_text(course, "attacker")
    assert "GOT" not in text, text
    assert text.count("BLOCKED") == 11
    assert hostile["listener"].connections == 0
    assert SECRET not in text and "COURSE_TEST_SECRET" not in text
    graded = course / "autograded" / "attacker" / "mnist_cnn"
    assert not (graded / "copied.ipynb").exists() and not (graded / "link-to-passwd").exists()
    [page] = [p for p in hostile["pages"] if p.parts[-3] == "attacker"]
    # Only the page, and the files handed in or handed out: nothing the kernel made.
    allowed = {p.name for folder in (course / "submitted" / "attacker" / "mnist_cnn",
                                     course / "source" / "mnist_cnn") for p in folder.iterdir()}
    assert {p.name for p in page.parent.iterdir()} <= allowed | {"mnist_cnn.html"}
    html = page.read_text()
    assert "BEGIN HIDDEN TESTS" not in html and "check_tuned_accuracy(" not in html


def test_disk_and_temporary_space_are_capped(hostile):
    """Files past the size limit and a temporary folder past its size both fail."""
    text = printed_text(hostile["course"], "attacker")
    assert "FILLED /tmp/a\nFILLED /tmp/b\nFILLED /tmp/c\n" in text
    assert "STOPPED /tmp/d No space left on device" in text
    assert "STOPPED big-in-own-folder File too large" in text


def test_a_memory_bomb_ends_its_own_kernel_and_keeps_earlier_points(hostile):
    """Out of memory after the architecture check: 5 points kept, the rest explained."""
    assert scores(hostile, "memory-bomb") == STOPPED_AFTER_ARCHITECTURE
    messages = autograded_outputs(hostile["course"], "memory-bomb")
    assert "stopped running" in messages["test_network_accuracy"][0]
    assert "3,000 MB of memory" in messages["test_network_accuracy"][0]


def test_a_fork_bomb_ends_only_its_own_kernel(hostile):
    """Forking without end in the last cell: the work before it keeps its score."""
    assert scores(hostile, "fork-bomb") == WEAK_WORK_SCORES
    assert hostile["outcomes"]["fork-bomb"].seconds < 240


def test_a_kernel_that_ends_itself_keeps_what_it_earned(hostile):
    """os._exit after the architecture check: 5 points kept, the rest zero with a reason."""
    assert scores(hostile, "exits-early") == STOPPED_AFTER_ARCHITECTURE
    messages = autograded_outputs(hostile["course"], "exits-early")
    assert messages["test_tuned_accuracy"][0].startswith(
        "The notebook stopped running before this check: the Python kernel died")


def test_endless_loop_is_stopped_and_the_rest_still_graded(hostile):
    """A cell that never ends is interrupted; the checks after it still run and score."""
    found = cell_scores(hostile["course"], "loops-forever")
    assert found["test_identify_digits"] == 2  # answered before the loop
    assert hostile["outcomes"]["loops-forever"].seconds < 120


def test_root_grading_gives_the_notebook_no_capability_and_no_way_out(hostile):
    """Graded through nbgrader by this test's account (root in CI): capabilities 0, the
    escape through /usr and the calls a notebook never makes refused, /dev read-only."""
    said = attempts_said(printed_text(hostile["course"], "escaper"))
    assert_the_box_held(said)
    assert scores(hostile, "escaper") == WEAK_WORK_SCORES


def test_copies_of_a_test_cell_are_checked_once(hostile):
    """Forty copies of the architecture test: one verdict for its grade id, the score the
    work earns, and no more time than an honest submission takes plus a little."""
    course = hostile["course"]
    assert scores(hostile, "copies") == WEAK_WORK_SCORES
    graded = nbformat.read(course / "autograded" / "copies" / "mnist_cnn" / NOTEBOOK, 4)
    checked = [cell for cell in graded.cells
               if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_architecture"]
    assert len(checked) == 1
    honest = hostile["outcomes"]["zzz-honest"].seconds
    assert hostile["outcomes"]["copies"].seconds < honest + 30, (
        hostile["outcomes"]["copies"].seconds, honest)
