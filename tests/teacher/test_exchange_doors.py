"""Does collecting from nbgrader's exchange trust the exchange's facts (who made a folder,
when the kernel saw it change) rather than what a student wrote, and does the classroom's
exchange belong to the teacher?

Real files, real throw-away accounts (root only), the real nbgrader collect.
"""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path

import nbformat
import pytest
from helpers.accounts import accounts, as_account, chown_tree, shared_folder, uid
from nbformat.v4 import new_code_cell, new_notebook

from course_lib.teacher import course as teacher
from course_lib.teacher.exchange_collect import TIME_FORMAT

ASSIGNMENT = "mnist_cnn"


def notebook_bytes(marker: str) -> bytes:
    return nbformat.writes(new_notebook(cells=[new_code_cell(f"# {marker}")])).encode()


def marker(path: Path) -> str:
    return nbformat.read(path, as_version=4).cells[0].source.removeprefix("# ")


def hand_in(inbound: Path, owner: str, name: str, handed_in: str, text: str) -> Path:
    """A folder in inbound as `nbgrader submit` run by ``owner`` leaves it, named as
    ``name``'s submission at ``handed_in``; the kernel's clock moves on a little after."""
    folder = inbound / f"{name}+{ASSIGNMENT}+{handed_in}+{os.urandom(3).hex()}"
    folder.mkdir()
    (folder / "mnist_cnn.ipynb").write_bytes(notebook_bytes(text))
    (folder / "timestamp.txt").write_text(handed_in)
    chown_tree(folder, owner)
    time.sleep(0.05)
    return folder


def exchange_course(tmp_path: Path) -> tuple[Path, Path]:
    """A course (its settings only) and its exchange's inbound folder."""
    inbound = tmp_path / "exchange" / "mnist-cnn" / "inbound"
    inbound.mkdir(parents=True)
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'mnist-cnn'\n"
        f"c.Exchange.root = {str(tmp_path / 'exchange')!r}\n")
    return course, inbound


def test_collect_takes_only_what_each_student_handed_in_themselves(tmp_path):
    """Are a submission forged in a classmate's name, links, a pipe, someone else's file, a
    folder with a made-up time and a backdated time each refused or left out, with a
    warning the teacher sees, while both students' own work is collected?"""
    course, inbound = exchange_course(tmp_path)
    answers = tmp_path / "source.ipynb"  # the teacher's, with the model answers
    answers.write_bytes(notebook_bytes("MODEL ANSWERS"))
    started = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    with accounts("ada", "bob") as names:
        ada, bob = names["ada"], names["bob"]
        # Ada's first hand-in claims a time far in the future in its name.
        hand_in(inbound, ada, ada, "2099-01-01 00:00:00.000000 UTC", "ada, first")
        bob_own = hand_in(inbound, bob, bob, "2020-01-01 00:00:00.000000 UTC", "bob's own")
        os.utime(bob_own / "mnist_cnn.ipynb", (0, 0))  # backdated by hand: no effect
        # Ada hands in as Bob, later than Bob in the name and in fact.
        hand_in(inbound, ada, bob, "2098-01-01 00:00:00.000000 UTC", "ada posing as bob")
        hand_in(inbound, ada, ada, "not a time", "ada, malformed")
        link = inbound / f"{ada}+{ASSIGNMENT}+2001-01-01 00:00:00.000000 UTC+lnk"
        link.symlink_to(bob_own)
        os.chown(link, uid(ada), -1, follow_symlinks=False)
        # Ada's latest hand-in (by the kernel's clock; its name says 2000) holds traps.
        latest = inbound / f"{ada}+{ASSIGNMENT}+2000-01-01 00:00:00.000000 UTC+zzz"
        latest.mkdir()
        (latest / "mnist_cnn.ipynb").write_bytes(notebook_bytes("ada, latest"))
        (latest / "answers.ipynb").symlink_to(answers)
        (latest / "classmate").symlink_to(bob_own)
        os.mkfifo(latest / "pipe")
        os.link(answers, latest / "stolen.ipynb")  # a hard link: a file of another account
        chown_tree(latest, ada)
        os.chown(latest / "stolen.ipynb", 0, 0)
        said = []
        collected = teacher.collect_from_exchange(course, report=said.append)
    text = "\n".join(said)
    assert collected == sorted([ada, bob]), text
    submitted = course / "submitted"
    assert marker(submitted / bob / ASSIGNMENT / "mnist_cnn.ipynb") == "bob's own"
    assert marker(submitted / ada / ASSIGNMENT / "mnist_cnn.ipynb") == "ada, latest"
    assert sorted(p.name for p in (submitted / ada / ASSIGNMENT).iterdir()) == [
        "mnist_cnn.ipynb", "timestamp.txt"]
    assert "MODEL ANSWERS" not in "".join(
        p.read_text(errors="replace") for p in submitted.rglob("*") if p.is_file())
    # The forgery is refused and named, with whose account made it.
    assert f"skipped Not collecting {bob}+{ASSIGNMENT}+2098" in text
    assert f"made by the account {ada}, not by the account {bob}" in text
    assert "'not a time', is not one nbgrader's Submit writes" in text
    assert "+lnk from the exchange: it is not a folder" in text
    for left_out in ("answers.ipynb: a link", "classmate: a link", "pipe: a named pipe",
                     "stolen.ipynb: it belongs to another account"):
        assert f"warning: Left out {ada}'s {left_out}" in text, text
    # Bob's hand-in time is when the kernel saw it, not 2020 (its name, its timestamp.txt).
    handed_in = datetime.datetime.strptime(
        (submitted / bob / ASSIGNMENT / "timestamp.txt").read_text(), TIME_FORMAT)
    assert handed_in >= started - datetime.timedelta(seconds=5)


def test_a_student_cannot_move_a_submission_back_in_time(tmp_path):
    """Does changing a file's time (utime) after handing in make the hand-in later, never
    earlier, and is a newer hand-in by the kernel's clock the one collected?"""
    course, inbound = exchange_course(tmp_path)
    with accounts("cem") as names:
        cem = names["cem"]
        first = hand_in(inbound, cem, cem, "2030-01-01 00:00:00.000000 UTC", "first")
        hand_in(inbound, cem, cem, "2020-01-01 00:00:00.000000 UTC", "second")
        assert teacher.collect_from_exchange(course, report=print) == [cem]
        collected = course / "submitted" / cem / ASSIGNMENT
        assert marker(collected / "mnist_cnn.ipynb") == "second"
        before = (collected / "timestamp.txt").read_text()
        time.sleep(0.05)
        # Cem rewrites the first hand-in and sets its times back to 1970.
        (first / "mnist_cnn.ipynb").write_bytes(notebook_bytes("first, edited later"))
        os.utime(first / "mnist_cnn.ipynb", (0, 0))
        os.utime(first, (0, 0))
        assert teacher.collect_from_exchange(course, report=print) == [cem]
    assert marker(collected / "mnist_cnn.ipynb") == "first, edited later"
    assert (collected / "timestamp.txt").read_text() > before


@pytest.fixture
def classroom_exchange():
    """The exchange as `course hub` makes it, with a teacher and a student account."""
    from course_lib.teacher.hub_exchange import prepare_exchange

    with shared_folder() as folder, accounts("teacher", "dora") as names:
        root = folder / "exchange"
        prepare_exchange(root, "mnist-cnn", names["teacher"])
        yield root, names


def test_the_exchange_belongs_to_the_teacher(classroom_exchange):
    """Can a student neither rename the course's folder nor make the folders release
    would use, while still handing in (but not listing the others' hand-ins)?"""
    root, names = classroom_exchange
    student = names["dora"]
    course = root / "mnist-cnn"
    assert (root.stat().st_mode & 0o7777, root.stat().st_uid) == (0o1777, 0)
    for folder, mode in ((course, 0o755), (course / "outbound", 0o755),
                         (course / "inbound", 0o3733), (course / "feedback", 0o711)):
        status = folder.stat()
        assert (status.st_mode & 0o7777, status.st_uid) == (mode, uid(names["teacher"]))
    for attempt in (["mv", str(course), str(root / "taken")],
                    ["mkdir", str(course / "outbound" / ASSIGNMENT)],
                    ["mv", str(course / "inbound"), str(course / "old")],
                    ["ls", str(course / "inbound")]):
        tried = as_account(student, *attempt)
        assert tried.returncode != 0 and ("Permission denied" in tried.stderr or
                                          "Operation not permitted" in tried.stderr), attempt
    assert course.is_dir() and not (root / "taken").exists()
    submitted = course / "inbound" / f"{student}+{ASSIGNMENT}+x+y"
    assert as_account(student, "mkdir", str(submitted)).returncode == 0
    assert submitted.stat().st_uid == uid(student)


def test_the_exchange_refuses_a_course_folder_someone_else_made(tmp_path):
    """Is a course folder in the exchange made by another account (before the classroom
    was set up) refused, with what to do?"""
    from course_lib.teacher.course import CourseError
    from course_lib.teacher.hub_exchange import prepare_exchange

    with shared_folder() as folder, accounts("teacher", "eve") as names:
        root = folder / "exchange"
        root.mkdir(mode=0o777)
        root.chmod(0o777)
        assert as_account(names["eve"], "mkdir", str(root / "mnist-cnn")).returncode == 0
        with pytest.raises(CourseError, match=f"belongs to {names['eve']}"):
            prepare_exchange(root, "mnist-cnn", names["teacher"])
