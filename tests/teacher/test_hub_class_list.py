"""Does `course hub` put the class list in the classroom's gradebook, with real nbgrader:
every student with their name, names brought up to date and new students added when it
runs again, in one nbgrader start for the whole class (each start takes seconds)?

The teacher's account is stood in for by this process (the command runs as whoever runs
the test); the classroom test (tests/teacher/test_classroom.py) runs it as the teacher."""

from __future__ import annotations

import csv
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.teacher import hub
from course_lib.teacher.hub_accounts import Member


def students_in(course: Path) -> dict[str, tuple[str | None, str | None]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as book:
        return {s.id: (s.first_name, s.last_name) for s in book.students}


def test_the_class_list_goes_into_the_gradebook_in_one_nbgrader_start(tmp_path, monkeypatch):
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'mnist'\n")
    started = []

    def as_teacher(user, command, cwd=None):
        started.append(command)
        listing = Path(command[-1])
        assert listing.parent == course and listing.name.startswith(".class-list-")
        assert listing.stat().st_uid == pwd.getpwnam(user).pw_uid
        subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=120)

    monkeypatch.setattr(hub, "as_user", as_teacher)
    python = Path(sys.executable)
    teacher = pwd.getpwuid(os.getuid()).pw_name  # the list is given to this account

    hub._import_students(course, teacher, [Member("ada", "Ada Lovelace"),
                                             Member("bob", "Bob van der Berg"),
                                             Member("cem", "Cem")], python)
    assert students_in(course) == {"ada": ("Ada", "Lovelace"),
                                   "bob": ("Bob", "van der Berg"), "cem": ("Cem", None)}
    assert len(started) == 1
    assert started[0][1:] == ["-m", "course_lib.teacher.nbgrader_main", "db", "student",
                              "import", started[0][-1]]

    # Run again: a name corrected, a student added, nobody doubled; no list left behind.
    hub._import_students(course, teacher, [Member("ada", "Ada King"),
                                             Member("bob", "Bob van der Berg"),
                                             Member("cem", "Cem"),
                                             Member("dee", "Dee Çelik")], python)
    assert students_in(course) == {"ada": ("Ada", "King"), "bob": ("Bob", "van der Berg"),
                                   "cem": ("Cem", None), "dee": ("Dee", "Çelik")}
    assert len(started) == 2
    assert not list(course.glob(".class-list-*"))


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another account needs root")
def test_a_link_swapped_in_for_the_list_does_not_give_the_teacher_another_file(
        tmp_path, monkeypatch):
    """The teacher's account owns the classroom folder, so it can swap the list's name for
    a link to a file of root's while root writes the list. Is the list given to the teacher
    through its open descriptor, so that root's file keeps its owner?"""
    classroom = tmp_path / "classroom"
    classroom.mkdir()
    roots_file = tmp_path / "roots-file"
    roots_file.write_text("root's own\n")
    teacher = pwd.getpwnam("nobody")  # any account but root
    write_rows = csv.writer

    def swapping_writer(handle, *args, **kwargs):
        # While root holds the list open, the name becomes a link to root's file.
        name = Path(handle.name)
        name.rename(name.with_name("moved-away.csv"))
        name.symlink_to(roots_file)
        return write_rows(handle, *args, **kwargs)

    monkeypatch.setattr(hub.csv, "writer", swapping_writer)
    monkeypatch.setattr(hub, "as_user", lambda user, command, cwd=None: None)
    hub._import_students(classroom, teacher.pw_name, [Member("ada", "Ada Lovelace")],
                         Path(sys.executable))

    assert roots_file.stat().st_uid == 0 and roots_file.read_text() == "root's own\n"
    [written] = classroom.glob("moved-away.csv")
    assert written.stat().st_uid == teacher.pw_uid
    assert written.read_text().splitlines() == ["id,first_name,last_name", "ada,Ada,Lovelace"]


def test_a_list_that_cannot_be_written_is_not_left_behind(tmp_path, monkeypatch):
    """A failure while the list is written (here: the disk is full) ends `course hub` with
    that error and leaves no half-written list in the classroom."""
    classroom = tmp_path / "classroom"
    classroom.mkdir()

    def full_disk(handle, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(hub.csv, "writer", full_disk)
    monkeypatch.setattr(hub, "as_user", lambda user, command, cwd=None: None)
    with pytest.raises(OSError, match="No space left"):
        hub._import_students(classroom, pwd.getpwuid(os.getuid()).pw_name,
                             [Member("ada", "Ada Lovelace")], Path(sys.executable))
    assert list(classroom.iterdir()) == []
