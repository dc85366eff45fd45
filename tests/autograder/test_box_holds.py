"""Does the sandbox hold whoever starts it: root, or an ordinary account?

Each attempt runs in a real bubblewrap sandbox made by :class:`course_lib.autograder.
sandbox.Box`, once as root (this test's account) and once as a throw-away system account
the test makes and removes. The account runs Debian's Python with a copy of course_lib
(nothing here needs TensorFlow), so it needs no access to this checkout.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest
from helpers.attempts import ATTEMPTS, assert_the_box_held, attempts_said

from course_lib.autograder import sandbox

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "course-box-test"
RUNUSER = shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin:/bin") or "runuser"
DEBIAN_PYTHON = "/usr/bin/python3"

pytestmark = pytest.mark.skipif(not sandbox.sandbox_available(), reason="needs bubblewrap")


# Threads held by one sandbox, then counted again by the next.
HOLD_THREADS = r'''
import sys, threading, time
started = 0
stop = threading.Event()
try:
    for _ in range(int(sys.argv[1])):
        threading.Thread(target=stop.wait, daemon=True).start()
        started += 1
except RuntimeError:
    pass
print(started, flush=True)
time.sleep(float(sys.argv[2]))
'''


def run_as(user: str | None, script: str, *, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run ``script`` with Debian's Python as ``user`` (None: as this test's account)."""
    prefix = [] if user is None else [RUNUSER, "-u", user, "--"]
    return subprocess.run([*prefix, DEBIAN_PYTHON, "-c", script], capture_output=True,
                          text=True, timeout=timeout, check=False, cwd="/",
                          env=account_environment())


def account_environment() -> dict[str, str]:
    """Debian's Python finds the copy of course_lib; the data is a stand-in file."""
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(COPY.path),
            "COURSE_MNIST_PATH": str(COPY.path / "mnist.npz")}


class COPY:
    """A copy of course_lib every account can read (set up by the ``place`` fixture)."""

    path: Path = Path()


@pytest.fixture(scope="module")
def place():
    """A world-readable copy of course_lib, and the throw-away account."""
    if os.geteuid() != 0:
        pytest.skip("makes a system account: needs root")
    if not Path(DEBIAN_PYTHON).exists():
        pytest.skip("needs the system's Python")
    folder = Path(tempfile.mkdtemp(prefix="course-box-"))
    folder.chmod(0o755)
    shutil.copytree(ROOT / "course_lib", folder / "course_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "teacher"))
    (folder / "mnist.npz").write_bytes(b"stand-in")
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    COPY.path = folder
    try:
        pwd.getpwnam(ACCOUNT)
        pytest.fail(f"An account {ACCOUNT} exists already: this test makes its own.")
    except KeyError:
        pass
    useradd = shutil.which("useradd", path="/usr/sbin:/sbin") or "useradd"
    subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    ACCOUNT], check=True)
    try:
        yield folder
    finally:
        # Whatever the account still runs (a holder the test could not stop) goes first.
        subprocess.run(["pkill", "-KILL", "-u", ACCOUNT], check=False)
        userdel = shutil.which("userdel", path="/usr/sbin:/sbin") or "userdel"
        subprocess.run([userdel, ACCOUNT], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def in_box(program: str, *arguments: str, processes: int = 512) -> str:
    """A script that runs ``program`` in a fresh Box and prints what it printed."""
    return textwrap.dedent(f"""
        import os, subprocess, sys
        from course_lib.autograder.limits import Limits
        from course_lib.autograder.sandbox import Box
        box = Box(limits=Limits(processes={processes}, tmp_size_mb=64), sockets=True,
                  environment={{"PYTHONPATH": os.environ["PYTHONPATH"]}})
        try:
            done = subprocess.run(box.command([sys.executable, "-c", {program!r},
                                               *{list(arguments)!r}]),
                                  timeout=150, pass_fds=box.pass_fds,
                                  preexec_fn=box.preexec())
        finally:
            box.close()
        sys.exit(done.returncode)
        """)


@pytest.mark.parametrize("user", [None, ACCOUNT], ids=["as-root", "as-an-ordinary-account"])
def test_a_hostile_cell_has_no_capability_and_no_way_out(place, user):
    """Capabilities 0, the escape through /usr refused, the calls a notebook never makes
    refused, /dev read-only and the memory-backed folders capped."""
    done = run_as(user, in_box(ATTEMPTS))
    assert done.returncode == 0, done.stderr
    said = attempts_said(done.stdout)
    assert_the_box_held(said)
    assert said["uid"] == sandbox.SANDBOX_UID
    assert said["fill /dev/shm/hog"] == said["fill /run/kernel/hog"] == "ENOSPC"


def hold(script: str) -> subprocess.Popen:
    """Start ``script`` as the account; it holds threads until killed."""
    return subprocess.Popen([RUNUSER, "-u", ACCOUNT, "--", DEBIAN_PYTHON, "-c", *script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd="/", env=account_environment())


@pytest.mark.parametrize("elsewhere", ["in-another-sandbox", "in-the-grading-account"])
def test_the_process_limit_counts_each_sandbox_on_its_own(place, elsewhere):
    """As an ordinary account without a control group: threads held elsewhere (another
    student's sandbox, or the grader's own processes: nbgrader, TensorFlow in the checker)
    do not count against a sandbox, which still starts and runs as many as it may."""
    if elsewhere == "in-another-sandbox":
        holder = hold([in_box(HOLD_THREADS, "1000", "90", processes=100)])
    else:
        holder = hold([HOLD_THREADS, "95", "90"])
    try:
        first = holder.stdout.readline().strip()
        assert first, holder.stderr.read()
        # In a sandbox the limit holds: about 100 processes and threads, not 1000.
        assert 80 <= int(first) <= 100, first
        done = run_as(ACCOUNT, in_box(HOLD_THREADS, "50", "0", processes=100))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "50"
    finally:
        subprocess.run(["pkill", "-KILL", "-u", ACCOUNT], check=False)
        holder.wait()
