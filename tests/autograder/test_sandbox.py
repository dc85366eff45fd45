"""Is the grading sandbox an allow-list, and does it say truthfully whether it runs here?"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.autograder import sandbox
from course_lib.lesson.data import load_mnist

ROOT = Path(__file__).resolve().parents[2]


def bound(command, flag):
    """The targets of every ``flag SOURCE TARGET`` option."""
    return [command[i + 2] for i, word in enumerate(command) if word == flag]


def test_only_the_allowed_paths_are_visible():
    """No bind of /, of the course folder or of a home; the Python and course_lib are."""
    box = sandbox.Box()
    command = box.command(["true"])
    box.close()
    visible = bound(command, "--ro-bind") + bound(command, "--bind")
    assert "/" not in visible
    assert str(ROOT) not in visible and str(ROOT / "source") not in visible
    assert str(Path(sys.prefix)) in visible
    assert str(ROOT / "course_lib") in visible
    assert not any(path in visible for path in ("/home", "/root", "/tmp", "/work"))
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent",
                 "--clearenv", "--unshare-user", "--disable-userns", "--seccomp"):
        assert flag in command
    assert command[command.index("--cap-drop") + 1] == "ALL"
    assert "/etc/passwd" not in visible  # the sandbox's own, not the computer's accounts


def test_environment_is_an_allow_list(monkeypatch):
    """A variable of the teacher's does not reach the sandbox; the offline switch does."""
    monkeypatch.setenv("TEACHERS_TOKEN", "secret")
    environment = sandbox.allowed_environment()
    assert "TEACHERS_TOKEN" not in environment
    assert environment["COURSE_MNIST_OFFLINE"] == "1"
    assert environment["TMPDIR"] == "/tmp"


def test_grader_data_is_mounted_read_only(isolated_data):
    """With a full copy in the keras cache, the sandbox sees that one file, read-only."""
    cache = isolated_data / "datasets" / "mnist.npz"
    cache.parent.mkdir()
    cache.write_bytes(b"placeholder")
    box = sandbox.Box()
    command = box.command(["true"])
    box.close()
    assert "/course-data/mnist.npz" in bound(command, "--ro-bind")
    assert sandbox.allowed_environment()["COURSE_MNIST_PATH"] == "/course-data/mnist.npz"


def test_without_full_copy_the_sample_is_used():
    """Without a full copy, no data path is given (so the embedded sample is used)."""
    assert "COURSE_MNIST_PATH" not in sandbox.allowed_environment()


def test_grading_notice_is_short_and_for_students(monkeypatch, capsys):
    """While nbgrader grades, does the sample notice speak to the student, not the teacher?"""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    load_mnist()
    out = capsys.readouterr().out
    assert out.startswith("Graded with the embedded MNIST sample")
    assert "course data fetch" not in out


def test_a_bwrap_that_cannot_run_is_reported(tmp_path, monkeypatch):
    """A container may have bwrap but forbid namespaces: the trial run finds out."""
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\n"
                    "if [ \"$1\" = --version ]; then echo 'bubblewrap 0.8.0'; exit 0; fi\n"
                    "echo 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    sandbox._trial_run.cache_clear()
    try:
        problem = sandbox.sandbox_problem()
        assert problem is not None and "cannot make a sandbox here" in problem
        assert "No permissions to creating new namespace" in problem
        assert not sandbox.sandbox_available()
    finally:
        sandbox._trial_run.cache_clear()


def test_a_bwrap_too_old_for_the_sandbox_is_reported(tmp_path, monkeypatch):
    """Ubuntu 22.04's bubblewrap lacks what the sandbox needs: the teacher is told which."""
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bubblewrap 0.6.1'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    sandbox._trial_run.cache_clear()
    try:
        problem = sandbox.sandbox_problem()
        assert "needs bubblewrap 0.8 or newer, and this computer has 0.6" in problem
    finally:
        sandbox._trial_run.cache_clear()


def test_missing_bwrap_is_reported(tmp_path, monkeypatch):
    """Without bwrap at all, the message says how to install it."""
    monkeypatch.setenv("PATH", str(tmp_path))
    sandbox._trial_run.cache_clear()
    try:
        assert "apt install bubblewrap" in sandbox.sandbox_problem()
    finally:
        sandbox._trial_run.cache_clear()


@pytest.mark.skipif(not sandbox.sandbox_available(), reason="needs bubblewrap")
def test_sandboxed_process_sees_and_writes_only_its_own(tmp_path):
    """Inside: the course folder is absent, /tmp is private, the network is unreachable."""
    handed_in = tmp_path / "handed-in"
    handed_in.mkdir()
    (handed_in / "answer.txt").write_text("mine")
    (handed_in / "escape").symlink_to("/etc/hostname")
    script = (
        "import os, socket\n"
        "print(sorted(os.listdir('.')))\n"
        f"print(os.path.exists({str(ROOT / 'source')!r}), os.path.exists({str(tmp_path)!r}))\n"
        "open('new.txt', 'w').write('x')\n"
        "try:\n    socket.create_connection(('127.0.0.1', 9), timeout=2)\n"
        "except OSError as error:\n    print('no network', type(error).__name__)\n"
    )
    done = run_in_box(sandbox.Box(handed_in=handed_in), [sys.executable, "-c", script])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "['answer.txt']"  # the link was not copied in
    assert lines[1] == "False False"
    assert lines[2].startswith("no network")
    assert sorted(p.name for p in handed_in.iterdir()) == ["answer.txt", "escape"]


@pytest.mark.skipif(not sandbox.sandbox_available(), reason="needs bubblewrap")
def test_a_handed_in_file_too_large_for_the_sandbox_is_left_out_and_said(tmp_path):
    """A file beyond the grading limits (a data set handed in by mistake) does not stop the
    notebook from running: it is left out of the grading copy, and the log says so."""
    from course_lib.autograder.limits import Limits

    handed_in = tmp_path / "handed-in"
    handed_in.mkdir()
    (handed_in / "answer.txt").write_text("mine")
    with open(handed_in / "big.npz", "wb") as big:
        big.truncate(12 * 2**20)  # sparse: no disk used here
    (handed_in / "pipe").mkdir()
    os.mkfifo(handed_in / "pipe" / "never-written")  # would hang a copy that opened it
    limits = Limits(file_size_mb=8, tmp_size_mb=64)
    said = io.StringIO()
    with contextlib.redirect_stderr(said):  # the grader makes the sandbox's copy
        box = sandbox.Box(handed_in=handed_in, limits=limits)
    done = run_in_box(box, [sys.executable, "-c", "import os; print(sorted(os.listdir('.')))"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['answer.txt', 'pipe']"]
    assert "big.npz was left out of the grading copy" in said.getvalue()
    assert "File too large" in said.getvalue()


def run_in_box(box, program):
    """Run ``program`` in ``box``; the result as subprocess.run gives it."""
    try:
        return subprocess.run(box.command(program), capture_output=True, text=True,
                              timeout=120, check=False, pass_fds=box.pass_fds,
                              preexec_fn=box.preexec())
    finally:
        box.close()


def test_a_second_copy_of_course_lib_stops_grading_before_the_first_student(tmp_path):
    """A course folder with its own course_lib beside the installed one: the teacher is
    told which two copies there are, and nobody is graded."""
    import shutil

    from course_lib.teacher.autograde import autograde
    from course_lib.teacher.course import CourseError

    course = tmp_path / "copied-course"
    (course / "submitted" / "ada" / "mnist_cnn").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("")
    shutil.copytree(ROOT / "course_lib", course / "course_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    assert sandbox.course_lib_conflict() is None  # the project's own copy is the installed one
    with pytest.raises(CourseError) as refused:
        autograde(course, ["ada"], report=lambda line: None)
    message = str(refused.value)
    assert f"grading runs {(course / 'course_lib').resolve()}" in message
    assert f"would import {(ROOT / 'course_lib').resolve()}" in message
    assert not (course / "autograded").exists()


@pytest.mark.skipif(not sandbox.sandbox_available(), reason="needs bubblewrap")
def test_a_kernel_that_never_starts_leaves_nothing_behind(tmp_path, monkeypatch):
    """Its sockets folder and control group are removed, and grading says it failed."""
    from nbformat.v4 import new_code_cell, new_notebook

    from course_lib.autograder.execute import GradeInSandbox
    from course_lib.autograder.kernel import SandboxKernelManager

    made = []
    original = SandboxKernelManager.__init__

    def remember(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(Path(self._private.name))

    monkeypatch.setattr(SandboxKernelManager, "__init__", remember)
    monkeypatch.setattr(SandboxKernelManager, "format_kernel_cmd",
                        lambda self, extra_arguments=None: [sys.executable, "-c",
                                                            "raise SystemExit(3)"])
    notebook = new_notebook(cells=[new_code_cell("1 + 1")])
    step = GradeInSandbox(timeout=20, startup_timeout=20)
    with pytest.raises(RuntimeError, match="Kernel died"):
        step.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    assert made and not any(folder.exists() for folder in made)
    assert all(manager.group is None for manager in step._managers)
